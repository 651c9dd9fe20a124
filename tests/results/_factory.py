"""Small, real results files (format 2) for the leaderboard tests.

A toy dataset of square-planar 4-atom "molecules" whose input has C2v symmetry (identity,
C2 about z, two mirrors) and whose per-atom targets have none: a symmetry-breaking task.
The atom permutation of every operation (``sym_perms``) is derived here by nearest-image
matching of the positions, not typed in. A "model" predicts ``g·target + noise`` for a
seeded random group element g, i.e. ``pred[perm_g[i]] = R_g target[i]``, so its SBMSE and
SBCD are small and its MSE and CD are not. Every score and collapse count is computed
here with :mod:`sbbench.metrics` (one sample at a time, in float64, from the arrays that
are stored), exactly as a harness would: nothing here is a made-up number, including
the dataset sha256 (:func:`sbbench.leaderboard.dataset_sha256` of the toy samples).

:func:`build_results` also builds results on the samples of a real dataset
(:func:`samples_of` a loaded dataset, :func:`dataset_entry` for its name, version,
sha256 and options).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from sbbench.leaderboard import dataset_sha256, geometry_hash, make_results
from sbbench.metrics import chamfer, is_collapsed, sbcd, sbmse

C2V = np.stack(
    [
        np.eye(3),
        np.diag([-1.0, -1.0, 1.0]),  # C2(z)
        np.diag([-1.0, 1.0, 1.0]),  # sigma(yz)
        np.diag([1.0, -1.0, 1.0]),  # sigma(xz)
    ]
)
DATASET = "toy"
#: The Chamfer conventions of the v2 scores, written out here (not imported) so the
#: tests check the library's constants against the spec.
CD = {"symmetric": True, "reduction": "mean", "squared": True}  # sbbench default
CD_PAPER = {"symmetric": False, "reduction": "sum", "squared": True}  # SANN's m(X, Y)
SCORE_KEYS = ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper")
#: The generic per-atom pattern of the toy targets (no symmetry of C2v maps it to itself).
_PATTERN = np.array([[1.0, 0.3, 0.0], [-0.2, 0.9, 0.2], [0.1, -0.7, -0.5], [0.8, 0.6, 0.4]])


def register_toy(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make dataset 'toy' version '1' known to the leaderboard (any content)."""
    from sbbench.results import _versions

    monkeypatch.setitem(_versions.DATASET_VERSIONS, DATASET, {"1": None})
    return DATASET


def image_perms(pos: Any, ops: Any, tol: float = 1e-4) -> np.ndarray:
    """(G, N) permutations of ``ops`` on ``pos`` by nearest-image matching.

    ``perms[g][i] = j`` with ``R_g (x_i - c) = x_j - c`` (c the centroid) to ``tol``;
    raises AssertionError if some operation does not map the positions onto themselves.
    """
    pos = np.asarray(pos, dtype=np.float64)
    centred = pos - pos.mean(axis=0)
    out = []
    for g, rot in enumerate(np.asarray(ops, dtype=np.float64)):
        d = np.linalg.norm((centred @ rot.T)[:, None] - centred[None], axis=-1)
        j = d.argmin(axis=1)
        assert d[np.arange(len(j)), j].max() <= tol, f"operation {g} has no exact image"
        assert sorted(j.tolist()) == list(range(len(pos))), f"operation {g}: not a bijection"
        out.append(j)
    return np.asarray(out, dtype=np.int64)


def toy_sample(i: int) -> dict[str, Any]:
    """Sample ``i``: z (4,), pos (4,3) Å, target y (4,3), sym_ops (4,3,3), sym_perms (4,4)."""
    rng = np.random.default_rng(1000 + i)
    a = 1.0 + 0.1 * i
    pos = np.array([[a, a, 0], [-a, a, 0], [-a, -a, 0], [a, -a, 0]], dtype=np.float32)
    y = _PATTERN * rng.uniform(0.5, 1.5) + rng.normal(0, 0.05, (4, 3))
    return {
        "id": i,
        "z": np.full(4, 6),
        "pos": pos,
        "y": y.astype(np.float32),
        "sym_ops": C2V,
        "sym_perms": image_perms(pos, C2V),
        "mol_id": i,
    }


def toy_dataset(n: int) -> list[SimpleNamespace]:
    """The first ``n`` toy samples as objects with the attributes of the Data contract."""
    return [
        SimpleNamespace(
            z=s["z"], pos=s["pos"], y=s["y"], sym_ops=s["sym_ops"], sym_perms=s["sym_perms"]
        )
        for s in map(toy_sample, range(n))
    ]


def samples_of(ds: Sequence[Any]) -> list[dict[str, Any]]:
    """The samples of a loaded sbbench dataset in the form of :func:`toy_sample`."""
    out = []
    for d in ds:
        n, g = d.z.shape[0], int(d.num_ops.reshape(-1)[0])
        mol = getattr(d, "mol_id", None)
        out.append(
            {
                "id": int(d.idx),
                "z": d.z.numpy(),
                "pos": d.pos.numpy(),
                "y": d.y.numpy(),
                "sym_ops": d.sym_ops.numpy(),
                "sym_perms": d.sym_perms.reshape(g, n).numpy(),
                "mol_id": None if mol is None else int(mol),
            }
        )
    return out


def dataset_entry(ds: Any) -> dict[str, Any]:
    """``results["dataset"]`` of a loaded sbbench dataset, as the harness writes it."""
    return {
        "name": ds.name,
        "version": str(ds.version),
        "sha256": dataset_sha256(ds),
        "options": dict(ds.options),
    }


def act(rot: np.ndarray, perm: np.ndarray, y: np.ndarray) -> np.ndarray:
    """g·y: ``out[perm[i]] = R y_i`` (each 3-block of a (N, 3k) row rotated)."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    out = np.empty_like(y)
    out[np.asarray(perm)] = (y.reshape(n, -1, 3) @ np.asarray(rot, np.float64).T).reshape(n, -1)
    return out


def collapsed_prediction(y: np.ndarray) -> np.ndarray:
    """Every atom predicted at the target's first vector (one-sided Chamfer: exactly 0)."""
    y = np.asarray(y)
    return np.repeat(y[:1], len(y), axis=0)


def sample_scores(pred: Any, target: Any, ops: Any, perms: Any) -> dict[str, float]:
    """The six v2 scores of one prediction, from the arrays as stored (float64)."""
    p, t = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    o, q = np.asarray(ops, np.float64), np.asarray(perms, np.int64)
    return {
        "sbmse": float(sbmse(p, t, o, q)),
        "mse": float(np.mean(np.sum((p - t) ** 2, axis=1))),
        "cd": float(chamfer(p, t, **CD)),
        "sbcd": float(sbcd(p, t, o, **CD)),
        "cd_paper": float(chamfer(p, t, **CD_PAPER)),
        "sbcd_paper": float(sbcd(p, t, o, **CD_PAPER)),
    }


def prediction(id_: Any, pred: Any, s: dict[str, Any]) -> dict[str, Any]:
    """A stored test prediction of sample ``s`` (arrays as float32, as a harness stores)."""
    return {
        "id": id_,
        "pred": np.asarray(pred, np.float32),
        "target": np.asarray(s["y"], np.float32),
        "sym_ops": np.asarray(s["sym_ops"], np.float32),
        "sym_perms": np.asarray(s["sym_perms"], np.int64),
    }


def fold_scores(predictions: Sequence[dict[str, Any]], *, test: bool) -> dict[str, Any]:
    """Means of :func:`sample_scores` over stored predictions (+ ``collapsed`` for test)."""
    per = [sample_scores(p["pred"], p["target"], p["sym_ops"], p["sym_perms"]) for p in predictions]
    out: dict[str, Any] = {k: float(np.mean([s[k] for s in per])) for k in SCORE_KEYS}
    if test:
        out["collapsed"] = sum(
            is_collapsed(np.asarray(p["pred"], np.float64), np.asarray(p["target"], np.float64))
            for p in predictions
        )
    return out


def make_fold(
    fold: int, seed: int, predictions: Sequence[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A fold whose val and test scores are those of ``predictions`` (protocol 'same')."""
    return {
        "fold": fold,
        "seed": seed,
        "val": fold_scores(predictions, test=False),
        "test": fold_scores(predictions, test=True),
        "train_time_s": 0.0,
        "equivariance_error": None,
        "predictions": list(predictions),
        **extra,
    }


def _predict(s: dict[str, Any], rng: np.random.Generator, noise: float, collapse: bool):
    g = int(rng.integers(len(s["sym_ops"])))
    eps = rng.normal(0, noise, np.shape(s["y"]))
    if collapse:
        return collapsed_prediction(s["y"]).astype(np.float32)
    return (act(s["sym_ops"][g], s["sym_perms"][g], s["y"]) + eps).astype(np.float32)


def build_results(
    *,
    seeds=(0, 1, 2),
    n_folds: int = 2,
    n_test: int = 3,
    noise: float = 0.05,
    protocol: str = "random",
    model: str = "toy_model",
    loss: str = "sbmse",
    loss_chamfer: dict[str, Any] | None = None,
    collapse_ids: Collection[Any] = (),
    data: Sequence[dict[str, Any]] | None = None,
    tag: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    """A validated results dict of a seeded toy model (``tag`` varies the content).

    ``data``: the samples (default ``n_folds * n_test`` toy samples; e.g.
    :func:`samples_of` a real dataset, then pass ``dataset=dataset_entry(ds)``). Under
    ``protocol='same'`` every fold tests (and trains and validates) on all samples.
    ``collapse_ids``: sample ids whose test predictions collapse (every atom on the
    target's first vector) in every run.
    """
    samples = list(data) if data is not None else [toy_sample(i) for i in range(n_folds * n_test)]
    by_id = {s["id"]: s for s in samples}
    ids = list(by_id)
    folds = []
    for seed in seeds:
        rng = np.random.default_rng([seed, tag])
        for k in range(n_folds):
            if protocol == "same":
                test = val = train = ids
            else:
                test = ids[k * n_test : (k + 1) * n_test]
                rest = [i for i in ids if i not in test]
                val, train = rest[:n_test], rest[n_test:] or rest
            t_preds = [
                prediction(i, _predict(by_id[i], rng, noise, i in collapse_ids), by_id[i])
                for i in test
            ]
            v_preds = [prediction(i, _predict(by_id[i], rng, noise, False), by_id[i]) for i in val]
            folds.append(
                {
                    "fold": k,
                    "seed": seed,
                    "val": fold_scores(v_preds, test=False),
                    "test": fold_scores(t_preds, test=True),
                    "best_epoch": 3,
                    "epochs": 5,
                    "train_time_s": 0.5,
                    "equivariance_error": 1e-7,
                    "split": {"train": list(train), "val": list(val), "test": list(test)},
                    "predictions": t_preds,
                }
            )
    if data is None:
        dataset = {"name": DATASET, "version": "1", "sha256": dataset_sha256(toy_dataset(len(ids)))}
    else:
        dataset = overrides.pop("dataset")
    fields: dict[str, Any] = dict(
        dataset=dataset,
        task="default",
        model=model,
        symmetry_class="symmetry-breaking",
        loss=loss,
        hyperparameters={"lr": 1e-4, "hidden": 8, "tag": tag},
        hparam_selection="fixed toy settings",
        n_params=123,
        split={"protocol": protocol, "n_folds": n_folds, "group_by": None},
        folds=folds,
        train_time_s=0.5 * len(folds),
        command=f"sbbench run --model {model} --dataset {dataset['name']} --seed {seeds[0]}",
        loss_chamfer=loss_chamfer,
        samples=[
            {"id": s["id"], "mol_id": s["mol_id"], "geometry_hash": geometry_hash(s["z"], s["pos"])}
            for s in samples
        ],
    )
    fields.update(overrides)
    return make_results(**fields)
