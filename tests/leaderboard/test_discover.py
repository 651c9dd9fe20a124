"""``sbbench.leaderboard`` over a folder: available_boards, select_boards, read_boards,
format_boards (what ``sbbench leaderboard`` shows, called directly)."""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from sbbench.leaderboard import (
    available_boards,
    format_boards,
    format_leaderboard,
    read_boards,
    read_leaderboard,
    select_boards,
    submit,
)
from tests.results._factory import build_results, register_toy


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with boards 'toy' (2 rows) and 'toy2' (a copy), and a non-CSV file."""
    d = tmp_path_factory.mktemp("boards")
    with pytest.MonkeyPatch.context() as mp:  # 'toy' is known while submitting
        register_toy(mp)
        for tag in range(2):
            submit(build_results(tag=tag, seeds=(0, 1)), directory=d)
    shutil.copy(d / "toy.csv", d / "toy2.csv")
    (d / "notes.txt").write_text("not a board")
    return d


def test_available_boards_lists_csv_stems_sorted(folder, tmp_path):
    assert available_boards(folder) == ["toy", "toy2"]
    assert available_boards(tmp_path / "not-yet") == []  # no submission yet: empty


def test_available_boards_defaults_to_the_environment_folder(folder, monkeypatch):
    monkeypatch.setenv("SBBENCH_LEADERBOARDS", str(folder))
    assert available_boards() == ["toy", "toy2"]
    assert select_boards("toy") == ["toy"]


def test_select_boards(folder, tmp_path):
    assert select_boards(None, folder) == ["toy", "toy2"]
    assert select_boards("toy2", folder) == ["toy2"]
    assert select_boards(None, tmp_path) == []


def test_select_unknown_board_suggests_and_lists(folder, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        select_boards("tyo", folder)
    msg = str(info.value)
    assert msg.startswith(f"no leaderboard for 'tyo' in {folder}.")
    assert "Did you mean 'toy'?" in msg and msg.endswith("Available: toy, toy2")
    with pytest.raises(FileNotFoundError, match=r"Available: \(none\)$"):
        select_boards("toy", tmp_path)


def test_select_rejects_a_name_that_is_no_file_name(folder):
    with pytest.raises(ValueError, match="may not be used as a file name"):
        select_boards("../toy", folder)


def test_read_boards_in_order_and_by_task(folder):
    boards = read_boards(["toy2", "toy"], folder)
    assert list(boards) == ["toy2", "toy"]
    assert boards["toy"] == read_leaderboard(folder / "toy.csv") and len(boards["toy"]) == 2
    assert read_boards(["toy"], folder, task="default") == {"toy": boards["toy"]}
    assert read_boards(["toy"], folder, task="nope") == {"toy": []}


def test_read_boards_malformed_csv_names_the_file(folder, tmp_path):
    (tmp_path / "broken.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="broken.csv"):
        read_boards(["broken"], tmp_path)
    with pytest.raises(FileNotFoundError):
        read_boards(["missing"], folder)


def test_csv_view_has_one_header_for_all_boards(folder):
    boards = read_boards(["toy", "toy2"], folder)
    text = format_boards(boards, "csv")
    one = format_leaderboard(boards["toy"], "csv")
    header, body = one.split("\n", 1)
    assert text == one + body  # the second board's rows, without its header
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == header.split(",") and rows.count(rows[0]) == 1 and len(rows) == 5
    assert format_boards({"toy": boards["toy"]}, "csv") == one


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_text_views_are_titled_blocks(folder, fmt):
    boards = read_boards(["toy", "toy2"], folder)
    boards["empty"] = []
    text = format_boards(boards, fmt)
    mark = "### " if fmt == "markdown" else ""
    view = format_leaderboard(boards["toy"], fmt)
    assert text == (
        f"{mark}toy (2 submissions)\n\n{view}\n"
        f"{mark}toy2 (2 submissions)\n\n{view}\n"
        f"{mark}empty (0 submissions)\n\n(no rows)\n"
    )
    single = format_boards({"toy": boards["toy"][:1]}, fmt)
    assert single.startswith(f"{mark}toy (1 submission)\n\n")


def test_format_boards_of_nothing_is_empty():
    assert format_boards({}, "table") == format_boards({}, "csv") == ""


@pytest.mark.parametrize("fmt", ["html", "json", ""])
def test_format_boards_rejects_other_formats(fmt):
    with pytest.raises(ValueError, match=f"unknown format {fmt!r}; use table, markdown, csv"):
        format_boards({}, fmt)
