"""Small, real results files for the leaderboard tests.

A toy dataset of square-planar 4-atom "molecules" with C2v symmetry (identity, C2 about
z, two mirrors) whose per-atom targets are rectangle-like displacement vectors. A
"model" predicts ``g·target + noise`` for a seeded random group element g, so its SBCD
is small and its CD is not. Every score is computed with :mod:`sbbench.metrics` from
the stored arrays, exactly as a harness would: nothing here is a made-up number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sbbench.leaderboard import geometry_hash, make_results
from sbbench.metrics import chamfer, sbcd

C2V = np.stack(
    [
        np.eye(3),
        np.diag([-1.0, -1.0, 1.0]),  # C2(z)
        np.diag([-1.0, 1.0, 1.0]),  # sigma(yz)
        np.diag([1.0, -1.0, 1.0]),  # sigma(xz)
    ]
)
DATASET = "toy"


def register_toy(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make dataset 'toy' version '1' known to the leaderboard (any content)."""
    from sbbench.leaderboard import _versions

    monkeypatch.setitem(_versions.DATASET_VERSIONS, DATASET, {"1": None})
    return DATASET


def toy_sample(i: int) -> dict[str, Any]:
    """Sample ``i``: z (4,), pos (4,3) Å, target y (4,3), sym_ops (4,3,3), mol_id."""
    rng = np.random.default_rng(1000 + i)
    a = 1.0 + 0.1 * i
    pos = np.array([[a, a, 0], [-a, a, 0], [-a, -a, 0], [a, -a, 0]], dtype=np.float32)
    y = np.array([[1, 0, 0], [-1, 0, 0], [-1, 0, 0], [1, 0, 0]], np.float32)
    y = y * np.float32(rng.uniform(0.5, 1.5)) + rng.normal(0, 0.05, (4, 3)).astype(np.float32)
    return {"id": i, "z": np.full(4, 6), "pos": pos, "y": y, "sym_ops": C2V, "mol_id": i}


def _predict(sample: dict[str, Any], rng: np.random.Generator, noise: float) -> np.ndarray:
    g = C2V[rng.integers(len(C2V))]
    return (sample["y"] @ g.T + rng.normal(0, noise, sample["y"].shape)).astype(np.float32)


def _scores(samples, preds, metric) -> dict[str, float]:
    cd = [float(chamfer(p, s["y"], **metric)) for s, p in zip(samples, preds, strict=True)]
    sb = [
        float(sbcd(p, s["y"], s["sym_ops"], **metric)) for s, p in zip(samples, preds, strict=True)
    ]
    return {"cd": float(np.mean(cd)), "sbcd": float(np.mean(sb))}


def build_results(
    *,
    seeds=(0, 1, 2),
    n_folds: int = 2,
    n_test: int = 3,
    noise: float = 0.05,
    protocol: str = "random",
    model: str = "toy_model",
    metric: dict[str, Any] | None = None,
    tag: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    """A validated results dict of a seeded toy model (``tag`` varies the content)."""
    metric = metric or {"symmetric": True, "reduction": "mean"}
    n = n_folds * n_test
    samples = [toy_sample(i) for i in range(n)]
    folds = []
    for seed in seeds:
        rng = np.random.default_rng([seed, tag])
        for k in range(n_folds):
            test = list(range(k * n_test, (k + 1) * n_test))
            rest = [i for i in range(n) if i not in test]
            val, train = rest[:n_test], rest[n_test:] or rest
            t_preds = [_predict(samples[i], rng, noise) for i in test]
            v_preds = [_predict(samples[i], rng, noise) for i in val]
            folds.append(
                {
                    "fold": k,
                    "seed": seed,
                    "val": _scores([samples[i] for i in val], v_preds, metric),
                    "test": _scores([samples[i] for i in test], t_preds, metric),
                    "best_epoch": 3,
                    "epochs": 5,
                    "train_time_s": 0.5,
                    "equivariance_error": 1e-7,
                    "split": {"train": train, "val": val, "test": test},
                    "predictions": [
                        {
                            "id": i,
                            "pred": p,
                            "target": samples[i]["y"],
                            "sym_ops": samples[i]["sym_ops"],
                        }
                        for i, p in zip(test, t_preds, strict=True)
                    ],
                }
            )
    fields: dict[str, Any] = dict(
        dataset={"name": DATASET, "version": "1", "sha256": "ab" * 32},
        task="default",
        model=model,
        symmetry_class="symmetry-breaking",
        loss="sbcd",
        hyperparameters={"lr": 1e-4, "hidden": 8, "tag": tag},
        hparam_selection="fixed toy settings",
        n_params=123,
        split={"protocol": protocol, "n_folds": n_folds, "group_by": None},
        folds=folds,
        train_time_s=0.5 * len(folds),
        command=f"sbbench run --model {model} --dataset {DATASET} --seed {seeds[0]}",
        metric=metric,
        samples=[
            {"id": s["id"], "mol_id": s["mol_id"], "geometry_hash": geometry_hash(s["z"], s["pos"])}
            for s in samples
        ],
    )
    fields.update(overrides)
    return make_results(**fields)
