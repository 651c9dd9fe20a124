"""A folder of leaderboards: which boards it holds, reading several, one merged view.

``sbbench leaderboard [DATASET]`` shows one board or every board of a folder; these
functions are that logic, so a script gets the same boards and the same text (one
CSV header for every dataset, a titled block per dataset) as the command line.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sbbench.errors import NotFound

from ._board import default_leaderboard_dir, format_leaderboard, leaderboard_path, read_leaderboard

__all__ = ["available_boards", "format_boards", "read_boards", "select_boards"]

#: Text formats :func:`format_boards` writes (``html`` is a page: ``_html.write_html``).
TEXT_FORMATS = ("table", "markdown", "csv")


def _folder(directory: str | os.PathLike | None) -> Path:
    return Path(directory) if directory is not None else default_leaderboard_dir()


def available_boards(directory: str | os.PathLike | None = None) -> list[str]:
    """Dataset names with a leaderboard (``<name>.csv``) in ``directory``, sorted.

    Parameters
    ----------
    directory : path-like, optional
        Leaderboard folder (default :func:`~sbbench.leaderboard.default_leaderboard_dir`).

    Returns
    -------
    list of str
        Empty if the folder does not exist yet (no submission made it): an empty
        leaderboard, not an error.
    """
    folder = _folder(directory)
    return sorted(p.stem for p in folder.glob("*.csv")) if folder.is_dir() else []


def select_boards(
    dataset: str | None = None, directory: str | os.PathLike | None = None
) -> list[str]:
    """The boards to show: ``[dataset]`` if it has a leaderboard, every board if None.

    Parameters
    ----------
    dataset : str, optional
        A dataset name; None selects :func:`available_boards`.
    directory : path-like, optional
        Leaderboard folder (default :func:`~sbbench.leaderboard.default_leaderboard_dir`).

    Returns
    -------
    list of str
        Dataset names; empty only when ``dataset`` is None and the folder has none.

    Raises
    ------
    FileNotFoundError
        If ``dataset`` has no leaderboard in the folder; the message suggests a close
        name and lists the available ones.
    ValueError
        If ``dataset`` cannot be a file name (:func:`~sbbench.leaderboard.leaderboard_path`).
    """
    folder = _folder(directory)
    available = available_boards(folder)
    if dataset is None:
        return available
    if not leaderboard_path(dataset, folder).is_file():
        close = difflib.get_close_matches(dataset, available, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise NotFound(
            f"no leaderboard for '{dataset}' in {folder}.{hint} "
            f"Available: {', '.join(available) or '(none)'}"
        )
    return [dataset]


def read_boards(
    datasets: Sequence[str],
    directory: str | os.PathLike | None = None,
    *,
    task: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The rows of several leaderboards, optionally of one task only.

    Parameters
    ----------
    datasets : sequence of str
        Dataset names, e.g. from :func:`select_boards`.
    directory : path-like, optional
        Leaderboard folder (default :func:`~sbbench.leaderboard.default_leaderboard_dir`).
    task : str, optional
        Keep only the rows of this task (a board may then be empty).

    Returns
    -------
    dict
        Dataset name -> rows (:func:`~sbbench.leaderboard.read_leaderboard`), in the
        order of ``datasets``.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`~sbbench.leaderboard.read_leaderboard`: a missing or malformed CSV.
    """
    folder = _folder(directory)
    boards = {}
    for name in datasets:
        rows = read_leaderboard(leaderboard_path(name, folder))
        boards[name] = [r for r in rows if task is None or r["task"] == task]
    return boards


def format_boards(boards: Mapping[str, Sequence[Mapping[str, Any]]], fmt: str = "table") -> str:
    """Several leaderboards as one text, ranked (:func:`~sbbench.leaderboard.format_leaderboard`).

    Parameters
    ----------
    boards : mapping
        Dataset name -> rows, e.g. from :func:`read_boards`; shown in its order.
    fmt : {"table", "markdown", "csv"}
        ``csv``: one header, then every board's rows (a single CSV that a spreadsheet
        reads, the ``dataset`` column tells the boards apart). ``table`` / ``markdown``:
        per board a title ``NAME (N submissions)`` (a ``###`` heading in markdown) and
        its view, or ``(no rows)``, blocks separated by a blank line.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For another format (``html`` is a page, written by ``sbbench leaderboard
        --format html``).
    """
    if fmt not in TEXT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use {', '.join(TEXT_FORMATS)}")
    blocks = []
    for name, rows in boards.items():
        if fmt == "csv":
            blocks.append(format_leaderboard(rows, "csv"))
            continue
        title = f"{name} ({len(rows)} submission{'s' if len(rows) != 1 else ''})"
        title = f"### {title}" if fmt == "markdown" else title
        body = format_leaderboard(rows, fmt) if rows else "(no rows)\n"
        blocks.append(f"{title}\n\n{body}")
    if fmt == "csv":  # one header for all datasets
        return "".join(blocks[:1] + [b.split("\n", 1)[1] for b in blocks[1:]])
    return "\n".join(blocks)
