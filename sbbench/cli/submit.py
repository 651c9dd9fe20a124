"""Validate a results file and append its row to the dataset's leaderboard.

The results file is accepted only if it matches the schema, its content hash is
intact, every test score (SBMSE, CD, SBCD) recomputed from its stored predictions with
sbbench.metrics agree with the stored scores (|diff| <= 1e-6 + 1e-4 * |value|), all
numbers are finite, the dataset version is known and the same file is not already on
the leaderboard. A rejected file leaves the leaderboard byte-for-byte unchanged.

Submitting to a checkout's own leaderboards/ (the default inside a checkout) also
regenerates what is generated from them (README.md's leaderboard block,
docs/reproduction.md, docs/leaderboard/index.html: docs/update_generated.py), so the
checkout stays consistent and its staleness test passes; --no-docs skips that.

exit codes: 0 accepted, 1 rejected (the message says why), 2 bad usage or unreadable file.
"""

from __future__ import annotations

import argparse
import sys

HELP = "validate a results.json and append it to leaderboards/<dataset>.csv"

EPILOG = """examples:
  sbbench submit runs/qm7x/relaxed_e3nn/20261123-190000/results.json
  sbbench submit results.json --leaderboard /tmp/my_board.csv
  sbbench submit results.json --dir ~/sbbench-boards     # writes ~/sbbench-boards/<dataset>.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("results", metavar="RESULTS", help="results.json written by 'sbbench run'")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--leaderboard", metavar="FILE", help="CSV to append to (default: DIR/<dataset>.csv)"
    )
    where.add_argument(
        "--dir",
        metavar="DIR",
        help="leaderboard folder (default: $SBBENCH_LEADERBOARDS or the checkout's leaderboards/)",
    )
    parser.add_argument(
        "--no-docs",
        action="store_true",
        help="do not regenerate the checkout's README block and docs/ after the row is added",
    )


def run(args: argparse.Namespace) -> int:
    from sbbench.errors import RejectedResult
    from sbbench.leaderboard import (
        SubmissionRejected,
        load_results,
        read_leaderboard,
        submission_rank,
    )
    from sbbench.leaderboard import submit as submit_results

    results = load_results(args.results)  # missing or unreadable file: exit 2
    try:
        sub = submit_results(results, args.leaderboard, directory=args.dir)
    except SubmissionRejected as exc:
        raise RejectedResult(f"rejected {args.results}: {exc}") from None
    for warning in sub.warnings:
        print(f"sbbench: warning: {warning}", file=sys.stderr)
    row = sub.row
    rank, size = submission_rank(row, read_leaderboard(sub.path))
    print(
        f"accepted: submission {row['submission_id']} ({row['model']} on "
        f"{row['dataset']}:{row['task']}) -> {sub.path}\n"
        f"  test SBMSE {row['test_sbmse_mean']:.4g} ± {row['test_sbmse_std']:.2g}, "
        f"test SBCD {row['test_sbcd_mean']:.4g} ± {row['test_sbcd_std']:.2g}, "
        f"collapsed {row['test_collapsed']}/{row['test_predictions']}; "
        f"rank {rank} of {size}\n"
        f"  see: sbbench leaderboard {row['dataset']}" + (f" --dir {args.dir}" if args.dir else "")
    )
    _refresh_docs(sub.path, skip=args.no_docs)
    return 0


def _refresh_docs(board, *, skip: bool) -> None:
    """Regenerate the checkout's generated documents if ``board`` is one of its CSVs."""
    from sbbench.leaderboard._docs import checkout_of, refresh_generated_docs

    root = checkout_of(board)
    if root is None:
        return
    if skip:
        print("  generated docs not refreshed (--no-docs): run python docs/update_generated.py")
        return
    try:
        changed = refresh_generated_docs(board)
    except Exception as exc:  # the row is in; say how to finish by hand
        print(
            f"sbbench: warning: the row was added but regenerating the docs failed "
            f"({type(exc).__name__}: {exc}); run python docs/update_generated.py",
            file=sys.stderr,
        )
        return
    names = ", ".join(str(p.relative_to(root)) for p in changed) or "nothing to change"
    print(f"  regenerated: {names}")
