"""Curie check: does the target break the symmetry of the input, and what can an
equivariant model reach?

For every sample, Sym(input) is compared with the stabilizer of the target; the
command reports the fraction of samples whose target breaks the input symmetry,
the group pairs involved, and the equivariant floor at exact symmetry
(SBMSE, CD and SBCD of the symmetrized target), before any training.

Examples:
  sbbench curie square
  sbbench curie h2o_modes:asym
  sbbench curie qm7x --json
"""

from __future__ import annotations

import argparse

HELP = "check before training whether an equivariant model can fit a dataset (Curie's principle)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="dataset[:task], e.g. square, h2o_modes:asym")
    parser.add_argument(
        "--target-tol",
        type=float,
        default=1e-2,
        help="relative tolerance on the target when testing an operation (default 1e-2)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from sbbench.curie import curie_check
    from sbbench.datasets import load

    if not args.target_tol > 0:
        raise ValueError(f"--target-tol must be > 0, got {args.target_tol}")
    report = curie_check(load(args.dataset), name=args.dataset, target_tol=args.target_tol)
    if args.json:
        data = dataclasses.asdict(report)
        data["fraction_breaking"] = report.fraction_breaking
        print(json.dumps(data, indent=1))
    else:
        print(report.format())
    return 0
