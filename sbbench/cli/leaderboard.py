"""Show the ranked leaderboard of a dataset (or of every dataset).

Rows are ranked by ascending mean test SBMSE among rows with the same dataset
version and data (sha256), task and split protocol (others are not comparable; the
views show these group columns); rows whose means agree to 4 significant digits
share a rank. Scores are mean ± sample std over all (fold, seed) runs.

``--format html --out DIR`` writes a self-contained static page, DIR/index.html (tables
sortable by clicking a header, a figure per task against its equivariant floor, paper
values beside ours; rows on stale data listed apart, never ranked).

exit codes: 0 shown, 2 bad usage, unknown dataset or malformed leaderboard file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "show the ranked leaderboard of a dataset (by test SBMSE, ties and std shown)"

EPILOG = """examples:
  sbbench leaderboard                         # every dataset
  sbbench leaderboard qm7x
  sbbench leaderboard h2o_modes:asym --format markdown >> README.md
  sbbench leaderboard square --format csv --dir /tmp/boards
  sbbench leaderboard --format html --out site  # static page: site/index.html
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("dataset", metavar="DATASET", nargs="?", help="dataset name (default: all)")
    parser.add_argument("--task", help="show only this task")
    parser.add_argument(
        "--format",
        choices=("table", "markdown", "csv", "html"),
        default="table",
        help="output format (html: a static page written to --out DIR)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="with --format html: folder to write index.html to (created if needed)",
    )
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="leaderboard folder (default: $SBBENCH_LEADERBOARDS or the checkout's leaderboards/)",
    )


def run(args: argparse.Namespace) -> int:
    from sbbench.cli import CLIError
    from sbbench.leaderboard import (
        default_leaderboard_dir,
        format_boards,
        read_boards,
        select_boards,
    )

    if args.dataset and ":" in args.dataset:  # 'h2o_modes:asym' = dataset h2o_modes, task asym
        args.dataset, _, task = args.dataset.partition(":")
        if args.task not in (None, task):
            raise CLIError(f"conflicting tasks: '{task}' in the name but --task {args.task}")
        args.task = task
    if args.format == "html" and not args.out:
        raise CLIError("--format html writes a page: give the folder with --out DIR")
    if args.out and args.format != "html":
        raise CLIError(f"--out is for --format html (the {args.format} view goes to stdout)")
    folder = Path(args.dir) if args.dir else default_leaderboard_dir()
    try:  # unknown dataset, or a malformed CSV (the message names file, line, column)
        datasets = select_boards(args.dataset, folder)
        boards = read_boards(datasets, folder, task=args.task)
    except (FileNotFoundError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    if not boards and args.format != "html":
        print(f"no leaderboards yet in {folder}; add one with 'sbbench submit RESULTS'")
        return 0
    if args.format == "html":
        return _write_html(boards, Path(args.out))
    sys.stdout.write(format_boards(boards, args.format))
    return 0


def _write_html(boards: dict[str, list[dict]], out: Path) -> int:
    from sbbench.cli import CLIError
    from sbbench.leaderboard._html import row_status, write_html

    try:
        path = write_html(boards, out)
    except OSError as exc:
        raise CLIError(f"cannot write {out / 'index.html'}: {exc}") from None
    rows = [r for rs in boards.values() for r in rs]
    ranked = sum(row_status(r)[0] for r in rows)
    print(
        f"wrote {path} ({len(boards)} dataset{'s' if len(boards) != 1 else ''}, "
        f"{ranked} ranked row{'s' if ranked != 1 else ''}, {len(rows) - ranked} not ranked)"
    )
    return 0
