"""Check a results file without submitting it.

Checks the schema, the content hash and the consistency of the file, and recomputes
every test score (SBMSE, CD, SBCD, collapse count) of every fold from the stored
predictions with sbbench.metrics.
Warns (without failing) about fewer than 3 seeds, folds not run, a missing
equivariance error, a dataset version that 'sbbench submit' would reject, and
train/test overlap: the same sample id, molecule id or geometry hash in the train and
test sets of a fold (when the results carry split ids and sample metadata).

exit codes: 0 valid (warnings may be printed), 1 invalid, 2 bad usage or unreadable file.
"""

from __future__ import annotations

import argparse
import sys

HELP = "check a results.json: schema, hash, recomputed scores, train/test overlap"

EPILOG = """examples:
  sbbench validate runs/square/egnn/20261123-190000/results.json
  sbbench validate results.json --no-recompute     # schema and hash only (fast)
  sbbench validate results.json --strict           # warnings count as failure
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("results", metavar="RESULTS", help="results.json written by 'sbbench run'")
    parser.add_argument(
        "--no-recompute",
        action="store_true",
        help="skip recomputing the scores from the predictions",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if there are warnings")


def run(args: argparse.Namespace) -> int:
    from sbbench.errors import RejectedResult
    from sbbench.leaderboard import load_results, validate_results

    results = load_results(args.results)  # missing or unreadable file: exit 2
    try:
        warnings = validate_results(results, recompute=not args.no_recompute)
    except ValueError as exc:  # every error validate_results finds in the file
        raise RejectedResult(f"invalid {args.results}: {exc}") from None
    for warning in warnings:
        print(f"sbbench: warning: {warning}", file=sys.stderr)
    s = results["summary"]
    n_pred = sum(len(f["predictions"]) for f in results["folds"])
    checked = "schema and hash" if args.no_recompute else "schema, hash and recomputed scores"
    print(
        f"valid: {args.results} ({results['model']} on {results['dataset']['name']}:"
        f"{results['task']}, {len(results['folds'])} runs, {n_pred} test predictions); "
        f"{checked} OK\n"
        f"  test SBMSE {s['test_sbmse']['mean']:.4g} ± {s['test_sbmse']['std']:.2g}, "
        f"test SBCD {s['test_sbcd']['mean']:.4g} ± {s['test_sbcd']['std']:.2g}, "
        f"collapsed {s['test_collapsed']['count']}/{s['test_collapsed']['n']}"
    )
    return 1 if (args.strict and warnings) else 0
