"""Split a run's test SBMSE into the samples whose target breaks the input symmetry and
the others, next to the equivariant floor of each part.

A whole-set SBMSE far above the floor can hide where the error is: on QM7-X most served
conformers are C1 structures with nothing to break, so the floor (the part of the target
no equivariant model can fit) lives on the quarter of samples whose target is less
symmetric than the input (``sbbench curie``). This script reads the per-sample
predictions that ``results.json`` stores, recomputes each test sample's SBMSE
(:func:`sbbench.metrics.sbmse` with the sample's own ``sym_ops``/``sym_perms``) and
averages it over the breaking and the other samples, with the mean per-sample floor of
:func:`sbbench.curie.curie_check` on the breaking ones (the others' floor is 0 or
rounding). docs/reproduction.md quotes its output for the QM7-X rows::

    python docs/breaking_split.py runs/reproduce/qm7x/*/results.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sbbench.curie import curie_check
from sbbench.metrics import sbmse
from sbbench.results import load_named


@dataclass(frozen=True)
class BreakingSplit:
    """Mean test SBMSE over the (seed, fold) runs, on breaking and on other samples."""

    n_breaking: int
    sbmse_breaking: float
    floor_breaking: float
    n_other: int
    sbmse_other: float


def dataset_report(results: dict):
    """:func:`~sbbench.curie.curie_check` of the data a ``results.json`` ran on."""
    ds, task = results["dataset"], results.get("task", "default")
    name = ds["name"] if task == "default" else f"{ds['name']}:{task}"
    return curie_check(load_named(name, ds.get("options")))


def breaking_split(results: dict, report=None) -> BreakingSplit:
    """:class:`BreakingSplit` of one ``results.json`` (``report``: its dataset's
    :func:`dataset_report`, computed here if not given)."""
    if report is None:
        report = dataset_report(results)
    errors: dict[bool, list[float]] = {True: [], False: []}
    floors: list[float] = []
    for fold in results["folds"]:
        for idx, sample in zip(fold["split"]["test"], fold["predictions"], strict=True):
            curie = report.samples[idx]
            err = sbmse(
                np.asarray(sample["pred"], dtype=np.float64),
                np.asarray(sample["target"], dtype=np.float64),
                np.asarray(sample["sym_ops"], dtype=np.float64),
                np.asarray(sample["sym_perms"]),
            )
            errors[curie.breaks].append(float(err))
            if curie.breaks:
                floors.append(curie.floor_sbmse)

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else float("nan")

    return BreakingSplit(
        len(errors[True]), mean(errors[True]), mean(floors), len(errors[False]), mean(errors[False])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="results.json files")
    args = parser.parse_args(argv)
    reports: dict[str, object] = {}
    print("| run | breaking: n | SBMSE | floor | others: n | SBMSE |")
    print("|---|---|---|---|---|---|")
    for path in args.results:
        results = json.loads(path.read_text())
        key = results["dataset"]["sha256"]
        if key not in reports:
            reports[key] = dataset_report(results)
        s = breaking_split(results, reports[key])
        print(
            f"| {path.parent.name} | {s.n_breaking} | {s.sbmse_breaking:.5f} | "
            f"{s.floor_breaking:.5f} | {s.n_other} | {s.sbmse_other:.5f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
