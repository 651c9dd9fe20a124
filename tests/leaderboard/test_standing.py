"""``sbbench.leaderboard.submission_rank``: the rank ``sbbench submit`` reports."""

from __future__ import annotations

import pytest

from sbbench.leaderboard import rank_rows, row_from_results, submission_rank
from tests.results._factory import build_results


def _row(tag: int, *, score: float | None = None, **changes):
    row = row_from_results(build_results(tag=tag, seeds=(0,)))
    if score is not None:
        row["test_sbmse_mean"] = score
    row.update(changes)
    return row


@pytest.fixture(scope="module")
def board():
    """Three rows of one group (scores 0.3, 0.1, 0.2) and a better one on another task."""
    a, b, c = _row(0, score=0.3), _row(1, score=0.1), _row(2, score=0.2)
    other = _row(3, score=0.01, task="other")
    return [a, b, c, other]


def test_rank_within_the_group(board):
    a, b, c, other = board
    assert submission_rank(b, board) == (1, 3)
    assert submission_rank(c, board) == (2, 3)
    assert submission_rank(a, board) == (3, 3)
    assert submission_rank(other, board) == (1, 1)  # its own group: not beaten by a, b, c


def test_rank_agrees_with_rank_rows(board):
    ranks = {r["content_hash"]: rk for rk, r in rank_rows(board)}
    for row in board:
        assert submission_rank(row, board)[0] == ranks[row["content_hash"]]


def test_tied_scores_share_a_rank(board):
    a, b, c, _ = board
    # equal to b at the shown 4 significant digits; another configuration (the factory's
    # hyperparameters carry the tag), so it pushes c down
    tie = _row(4, score=0.1 + 1e-9)
    rows = [a, b, c, tie]
    assert submission_rank(tie, rows) == (1, 4) == submission_rank(b, rows)
    assert submission_rank(c, rows) == (3, 4)


def test_a_repeated_configuration_does_not_push_the_next_rows_down(board):
    a, b, c, _ = board
    again = dict(b, content_hash="f" * 64, submission_id="f" * 12)  # b's run submitted twice
    rows = [a, b, c, again]
    assert submission_rank(again, rows) == (1, 4)  # a row of the group all the same
    assert submission_rank(c, rows) == (2, 4)


def test_a_row_not_on_the_board_is_a_clear_error(board):
    stranger = _row(9)
    with pytest.raises(ValueError, match="is not among the 4 rows given") as info:
        submission_rank(stranger, board)
    assert stranger["content_hash"] in str(info.value)
    with pytest.raises(ValueError, match="not among the 0 rows"):
        submission_rank(stranger, [])
