"""Validate a results file and append its row to the dataset's leaderboard.

The results file is accepted only if it matches the schema, its content hash is
intact, every test score (SBMSE, CD, SBCD) recomputed from its stored predictions with
sbbench.metrics agree with the stored scores (|diff| <= 1e-6 + 1e-4 * |value|), all
numbers are finite, the dataset version is known and the same file is not already on
the leaderboard. A rejected file leaves the leaderboard byte-for-byte unchanged.

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


def run(args: argparse.Namespace) -> int:
    from sbbench.cli import CLIError
    from sbbench.leaderboard import (
        SubmissionRejected,
        group_key,
        load_results,
        rank_rows,
        read_leaderboard,
    )
    from sbbench.leaderboard import submit as submit_results

    results = load_results(args.results)  # unreadable file: exit 2
    try:
        sub = submit_results(results, args.leaderboard, directory=args.dir)
    except SubmissionRejected as exc:
        raise CLIError(f"rejected {args.results}: {exc}", code=1) from None
    for warning in sub.warnings:
        print(f"sbbench: warning: {warning}", file=sys.stderr)
    row = sub.row
    ranked = rank_rows(read_leaderboard(sub.path))
    group = [(rank, r) for rank, r in ranked if group_key(r) == group_key(row)]
    rank = next(rank for rank, r in group if r["content_hash"] == row["content_hash"])
    print(
        f"accepted: submission {row['submission_id']} ({row['model']} on "
        f"{row['dataset']}:{row['task']}) -> {sub.path}\n"
        f"  test SBMSE {row['test_sbmse_mean']:.4g} ± {row['test_sbmse_std']:.2g}, "
        f"test SBCD {row['test_sbcd_mean']:.4g} ± {row['test_sbcd_std']:.2g}, "
        f"collapsed {row['test_collapsed']}/{row['test_predictions']}; "
        f"rank {rank} of {len(group)}\n"
        f"  see: sbbench leaderboard {row['dataset']}" + (f" --dir {args.dir}" if args.dir else "")
    )
    return 0
