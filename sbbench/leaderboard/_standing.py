"""Where one submitted row stands on its leaderboard (what ``sbbench submit`` reports)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._board import group_key, rank_rows

__all__ = ["submission_rank"]


def submission_rank(row: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """The rank of ``row`` among the rows it is compared with, and how many those are.

    Ranks are those of :func:`~sbbench.leaderboard.rank_rows` (competition ranking by
    test SBMSE within the row's :func:`~sbbench.leaderboard.group_key`: same data, task
    and split protocol); rows of other groups do not count, since their scores are
    not comparable. The row is found by its ``content_hash``, which a leaderboard holds
    at most once.

    Parameters
    ----------
    row : mapping
        A leaderboard row, e.g. ``Submission.row`` of :func:`~sbbench.leaderboard.submit`.
    rows : sequence of mapping
        The leaderboard's rows, ``row`` among them (read them after submitting).

    Returns
    -------
    (rank, size) : tuple of int
        ``rank`` from 1; ``size`` the number of rows in the group, ``row`` included
        (a repeated configuration counts as a row: "rank 1 of 3").

    Raises
    ------
    ValueError
        If no row of ``rows`` has the ``content_hash`` of ``row`` (it was not submitted
        to this board, or the board was read before the submission).
    """
    key = group_key(row)
    group = [(rank, r) for rank, r in rank_rows(rows) if group_key(r) == key]
    for rank, r in group:
        if r["content_hash"] == row["content_hash"]:
            return rank, len(group)
    raise ValueError(
        f"submission {row.get('submission_id', '?')} (content_hash "
        f"{row['content_hash']}) is not among the {len(rows)} rows given"
    )
