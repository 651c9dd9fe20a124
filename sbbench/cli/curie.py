"""Curie check: does the target break the symmetry of the input, and what can an
equivariant model reach?

For every sample, Sym(input) is compared with the stabilizer of the target; the
command reports the fraction of samples whose target breaks the input symmetry,
the group pairs involved, and the equivariant floor at exact symmetry
(SBMSE, CD and SBCD of the symmetrized target), before any training.

Examples:
  sbbench curie square
  sbbench curie h2o_modes:asym
  sbbench curie h2o_modes:asym --option targets=direction
  sbbench curie qm7x --json
"""

from __future__ import annotations

import argparse

from sbbench.cli import CLIError

HELP = "check before training whether an equivariant model can fit a dataset (Curie's principle)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="dataset[:task], e.g. square, h2o_modes:asym")
    parser.add_argument(
        "--target-tol",
        type=float,
        default=1e-2,
        help="relative tolerance on the target when testing an operation (default 1e-2)",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dataset option (repeatable), e.g. targets=direction; VALUE is parsed as YAML",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def parse_options(items: list[str]) -> dict:
    """``["targets=direction", "n_samples=4"]`` -> ``{"targets": "direction", "n_samples": 4}``."""
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"--option must be KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from sbbench.curie import curie_check
    from sbbench.datasets import load

    if not args.target_tol > 0:
        raise CLIError(f"--target-tol must be > 0, got {args.target_tol}")
    options = parse_options(args.option)
    ds = load(args.dataset, **options)
    name = args.dataset + "".join(f" {k}={v}" for k, v in options.items())
    report = curie_check(ds, name=name, target_tol=args.target_tol)
    if args.json:
        data = dataclasses.asdict(report)
        data["fraction_breaking"] = report.fraction_breaking
        print(json.dumps(data, indent=1))
    else:
        print(report.format())
    return 0
