"""docs/breaking_split.py: SBMSE on the samples whose target breaks the input symmetry."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from sbbench.datasets import load
from sbbench.symmetry import PointGroup

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def split_mod():
    spec = importlib.util.spec_from_file_location("breaking_split", ROOT / "docs/breaking_split.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["breaking_split"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _results(ds, preds) -> dict:
    """A results.json of one fold testing every sample of ``ds`` with ``preds``."""
    samples = []
    for d, pred in zip(ds, preds, strict=True):
        n = d.z.shape[0]
        samples.append(
            {
                "pred": np.asarray(pred).tolist(),
                "target": d.y.double().numpy().tolist(),
                "sym_ops": d.sym_ops.double().numpy().tolist(),
                "sym_perms": d.sym_perms.numpy().reshape(-1, n).tolist(),
            }
        )
    return {
        "dataset": {"name": "square", "options": {}},
        "task": "default",
        "folds": [{"split": {"test": list(range(len(ds)))}, "predictions": samples}],
    }


def _reynolds(d) -> np.ndarray:
    pos, z = d.pos.double().numpy(), d.z.numpy()
    pg = PointGroup.from_operations(d.sym_ops.double().numpy(), pos, z)
    return pg.reynolds(d.y.double().numpy())


def test_exact_target_scores_zero_and_the_equivariant_best_scores_the_floor(split_mod):
    ds = load("square")
    exact = split_mod.breaking_split(_results(ds, [d.y.double().numpy() for d in ds]))
    assert exact.n_breaking == len(ds) and exact.n_other == 0  # both squares break
    assert exact.sbmse_breaking < 1e-12 and exact.floor_breaking > 0.05
    best = split_mod.breaking_split(_results(ds, [_reynolds(d) for d in ds]))
    assert best.sbmse_breaking == pytest.approx(best.floor_breaking, rel=1e-9)
    zero = split_mod.breaking_split(_results(ds, [np.zeros_like(d.y.numpy()) for d in ds]))
    assert zero.sbmse_breaking > best.sbmse_breaking  # the floor is the minimum, not 0
