"""``results.json``: build, write, load, validate and recompute.

Imported by the harness (which writes results files) and the leaderboard (which ranks
them); it imports neither.

A results file holds everything needed to trust a leaderboard row without rerunning the
training: the per-fold scores, the test predictions together with their targets and the
input symmetry group Sym(x) of every test sample (so CD and SBCD can be recomputed with
:mod:`sbbench.metrics`), the split protocol, and the provenance of the run. Its
integrity is protected by ``content_hash``, the sha256 of the canonical JSON of the
file without that field (sorted keys, separators ``,``/``:``, ASCII), so the hash does
not depend on how the file is indented.

Per fold, the stored test scores are the means over the test samples of

* SBMSE = ``sbmse(pred_i, target_i, sym_ops_i, sym_perms_i)``: min over g in Sym(x) of
  the per-atom squared error against g·target (the ranking key; atoms correspond);
* MSE   = the identity term of SBMSE;
* CD, SBCD = ``chamfer`` / ``sbcd`` in the sbbench convention (:data:`DEFAULT_METRIC`:
  symmetric, mean-reduced, squared; SBCD is SANN eq. 2 with it);
* CD_paper, SBCD_paper = the same in the SANN paper's one-sided summed m(X, Y)
  (:data:`PAPER_METRIC`), kept only to compare with the paper's tables: a prediction
  collapsed onto one target point scores ~0 on it;

and ``collapsed``, the number of test predictions with
:func:`sbbench.metrics.is_collapsed`. Recomputed scores must agree with the stored ones within
``|stored - recomputed| <= ATOL + RTOL * |recomputed|`` (:data:`RTOL` = 1e-4,
:data:`ATOL` = 1e-6): loose enough for float32 training-time evaluation, far tighter than
any difference that would change a ranking.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_bytes
from .._vocabulary import SANN_PAPER, SBBENCH_DEFAULT
from ..errors import InputError, NotFound, RejectedResult, SbbenchError
from ._schema import FORMAT_VERSION, RESULTS_SCHEMA, check
from ._versions import check_dataset_version

__all__ = [
    "RTOL",
    "ATOL",
    "DEFAULT_METRIC",
    "PAPER_METRIC",
    "SCORES",
    "make_results",
    "write_results",
    "load_results",
    "validate_results",
    "content_hash",
    "recompute_scores",
    "overlap_warnings",
    "check_against_dataset",
    "geometry_hash",
    "dataset_sha256",
]

RTOL = 1e-4
ATOL = 1e-6
#: The chamfer convention of the leaderboards (keyword arguments of ``metrics.chamfer``):
#: :data:`sbbench._vocabulary.SBBENCH_DEFAULT` as a mapping.
DEFAULT_METRIC: dict[str, Any] = SBBENCH_DEFAULT.to_dict()
#: The SANN paper's m(X, Y): one-sided, summed, squared (its tables use it):
#: :data:`sbbench._vocabulary.SANN_PAPER` as a mapping.
PAPER_METRIC: dict[str, Any] = SANN_PAPER.to_dict()
#: The per-fold scores (``folds[i].test`` / ``.val`` keys; summary ``test_<score>``).
SCORES = ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper")
_MIN_SEEDS = 3


# ----------------------------------------------------------------------------- hashing


def _canonical(obj: Any) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def content_hash(results: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of ``results`` without its ``content_hash`` key."""
    body = {k: v for k, v in results.items() if k != "content_hash"}
    try:
        return hashlib.sha256(_canonical(body)).hexdigest()
    except ValueError:  # NaN/inf: allow_nan=False
        raise ValueError(f"{_first_nonfinite(body, '')}: NaN or infinity is not allowed") from None


def _first_nonfinite(obj: Any, path: str) -> str:
    """Path of the first NaN/inf in nested JSON data ('' if there is none)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path or "<top level>"
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for key, value in items:
        found = _first_nonfinite(
            value,
            f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key)),
        )
        if found:
            return found
    return ""


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def geometry_hash(numbers: Any, positions: Any, *, decimals: int = 4) -> str:
    """Hash of a geometry, for detecting identical structures across train and test.

    Atomic numbers and positions (Å) centred on their centroid and rounded to
    ``decimals`` decimal places (1e-4 Å by default) are hashed in the given atom order.
    Equal hashes mean the same atoms at the same coordinates up to a translation; the
    hash is not invariant to rotations or atom permutations.
    """
    z = _np(numbers).astype(np.int64).reshape(-1)
    pos = _np(positions).astype(np.float64)
    if pos.ndim != 2 or pos.shape != (z.shape[0], 3):
        raise ValueError(f"geometry_hash: positions must be ({z.shape[0]}, 3), got {pos.shape}")
    grid = np.rint((pos - pos.mean(axis=0)) * 10**decimals).astype(np.int64)
    h = hashlib.sha256()
    h.update(z.tobytes())
    h.update(grid.tobytes())
    return h.hexdigest()


HASH_GRID = 1e-6
"""Grid (in the data's units: Å, e·bohr or the target's own) on which
:func:`dataset_sha256` rounds ``pos`` and ``y`` before hashing."""


def dataset_sha256(samples: Iterable[Any]) -> str:
    """sha256 of a dataset's content: ``z``, ``pos``, ``y``, ``sym_ops``, ``sym_perms``.

    Samples are hashed in iteration order with their shapes, so any change to the data,
    its order or its symmetry annotation changes the hash, but the same data built on
    another CPU hash alike: ``pos`` and ``y`` are rounded to integer multiples of
    :data:`HASH_GRID` (``z`` as int64), and the symmetry annotation is hashed as a set
    of (proper or improper, atom permutation) pairs (:func:`_operation_set`). Why: the
    same code builds bit-different samples on different CPUs (OpenBLAS picks its kernels
    by instruction set). Hashing raw float32 bytes, the h2o_modes pins changed between
    AVX-512 and ``OPENBLAS_CORETYPE=Haswell`` (the operations listed in another order)
    and the randomly oriented QM7-X conformers moved by 7e-17 Å. Last-bit differences
    are far below the grid: a value within 1 ulp of a grid midpoint, the only way to
    flip, has odds near 1e-9. Works on any iterable of objects with these attributes
    (e.g. a PyG dataset).
    """
    h = hashlib.sha256()
    n = 0
    for i, sample in enumerate(samples):
        for key in ("z", "pos", "y"):
            if not hasattr(sample, key):
                raise ValueError(f"dataset_sha256: sample {i} has no '{key}'")
        ops, perms = _operation_set(sample)
        for key, arr in (
            ("z", _np(sample.z).astype(np.int64)),
            ("pos", _grid(sample.pos)),
            ("y", _grid(sample.y)),
            ("sym_ops", ops),
            ("sym_perms", perms),
        ):
            arr = np.ascontiguousarray(arr)
            h.update(f"{key}{arr.shape}".encode())
            h.update(arr.tobytes())
        n += 1
    if n == 0:
        raise ValueError("dataset_sha256: the dataset is empty")
    return h.hexdigest()


def _operation_set(sample: Any) -> tuple[np.ndarray, np.ndarray]:
    """The symmetry annotation as a sorted set: (operation type, atom permutation).

    Hashed per operation: whether it is proper (det +1) or improper (det -1) and the
    atom permutation it induces, sorted, so the hash sees the group's order, the kinds of
    its operations and their action on the atoms, not the order in which the detector
    lists them nor the matrices themselves. Neither is well defined to the last bit:
    the order follows the detector's axis search, and for linear molecules and
    degenerate tops the axes perpendicular to the main one are a choice; both follow the
    last bits of an eigen-decomposition (measured between OpenBLAS kernel sets on the
    QM7-X reference conformers: 679 samples list their operations in another order, and
    symmetrized ones move matrix entries by up to 2.4e-4). The positions are hashed, so
    the matrices are fixed by them up to those choices. Without ``sym_perms`` the
    determinants alone are hashed; ``sym_ops`` absent hashes as an empty set.
    """
    ops = getattr(sample, "sym_ops", None)
    perms = getattr(sample, "sym_perms", None)
    ops = np.zeros((0, 3, 3)) if ops is None else _np(ops).astype(np.float64)
    kind = np.rint(np.linalg.det(ops.reshape(-1, 3, 3))).astype(np.int64).reshape(-1, 1)
    if perms is None:
        return np.sort(kind, axis=0), np.zeros(0, np.int64)
    p = _np(perms).astype(np.int64).reshape(-1)
    if len(kind) == 0 or p.size % len(kind):
        return kind, p  # not one permutation per operation: hash as given (still seen)
    rows = np.concatenate([kind, p.reshape(len(kind), -1)], axis=1)
    rows = rows[np.lexsort(rows.T[::-1])]
    return rows[:, 0], rows[:, 1:].reshape(-1)


def _grid(x: Any) -> np.ndarray:
    """Floats as int64 multiples of :data:`HASH_GRID` (signed zeros become 0)."""
    return np.rint(_np(x).astype(np.float64) / HASH_GRID).astype(np.int64)


# ----------------------------------------------------------------------------- building


def _jsonable(x: Any, path: str) -> Any:
    """Plain JSON data from numpy/torch containers (arrays become nested lists)."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v, f"{path}.{k}") for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v, f"{path}[{i}]") for i, v in enumerate(x)]
    if hasattr(x, "detach") or isinstance(x, (np.ndarray, np.generic)):
        arr = _np(x)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{path}: cannot store an array of dtype {arr.dtype}")
        return arr.tolist()
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise ValueError(f"{path}: cannot store a {type(x).__name__} in results.json")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _provenance(device: str) -> dict[str, Any]:
    from sbbench import __version__
    from sbbench._paths import repo_root

    root = repo_root() or Path(__file__).resolve().parents[2]
    commit = _git(root, "rev-parse", "HEAD")
    dirty = None
    if commit:
        status = _git(root, "status", "--porcelain", "--untracked-files=no")
        dirty = None if status is None else bool(status)
    accelerator = None
    if device.startswith("cuda") and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            accelerator = torch.cuda.get_device_name(torch.device(device))
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    return {
        "versions": {
            "sbbench": __version__,
            "torch": _version("torch"),
            "torch_geometric": _version("torch_geometric") or _version("torch-geometric"),
            "e3nn": _version("e3nn"),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "git_commit": commit or None,
        "git_dirty": dirty,
        "hardware": {
            "platform": platform.platform(),
            "cpu": _cpu_name(),
            "n_cpus": os.cpu_count(),
            "device": device,
            "accelerator": accelerator,
        },
        "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _stat(values: Sequence[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=np.float64)
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "n": int(arr.size)}


def _summary(folds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    eq = [f["equivariance_error"] for f in folds if f.get("equivariance_error") is not None]
    out: dict[str, Any] = {f"test_{k}": _stat([f["test"][k] for f in folds]) for k in SCORES}
    out["val_sbmse"] = _stat([f["val"]["sbmse"] for f in folds])
    out["val_sbcd"] = _stat([f["val"]["sbcd"] for f in folds])
    out["test_collapsed"] = {
        "count": int(sum(f["test"]["collapsed"] for f in folds)),
        "n": int(sum(len(f["predictions"]) for f in folds)),
    }
    out["equivariance_error"] = _stat(eq) if eq else None
    return out


def make_results(
    *,
    dataset: Mapping[str, Any],
    task: str,
    model: str,
    symmetry_class: str,
    loss: str,
    hyperparameters: Mapping[str, Any],
    hparam_selection: str,
    n_params: int,
    split: Mapping[str, Any],
    folds: Sequence[Mapping[str, Any]],
    train_time_s: float,
    command: str,
    loss_chamfer: Mapping[str, Any] | None = None,
    samples: Sequence[Mapping[str, Any]] | None = None,
    device: str = "cpu",
    benchmark_version: str | None = None,
    recompute: bool = True,
) -> dict[str, Any]:
    """Assemble a validated ``results.json`` dict (see ``leaderboards/results.schema.json``).

    Fills ``format_version``, ``benchmark_version`` (default: the sbbench version),
    ``seeds`` (from the folds), ``summary`` (mean/std over all fold runs), ``provenance``
    (package versions, git commit, hardware, UTC date) and ``content_hash``. Arrays may
    be numpy arrays or torch tensors; they are stored as nested lists.

    Parameters
    ----------
    dataset
        ``{"name", "version", "sha256"[, "options"]}``; ``sha256`` from
        :func:`dataset_sha256`.
    task, model, symmetry_class, loss
        Identity of the run (``loss`` in sbmse/sbcd/cd/mse).
    hyperparameters, hparam_selection
        The resolved hyperparameters as data, and how they were chosen.
    n_params
        Number of trainable parameters.
    split
        ``{"protocol": "random"|"grouped"|"same", "n_folds", "group_by"?,
        "fractions"?}``.
    folds
        One dict per (fold, seed) run: ``fold``, ``seed``, ``val`` (every key of
        :data:`SCORES`) and ``test`` (the same plus ``collapsed``), ``train_time_s``,
        ``equivariance_error`` (or None), optional ``best_epoch``, ``epochs``, ``split``
        (``{"train", "val", "test"}`` id lists), and ``predictions``: per test sample
        ``{"id", "pred" (N,3k), "target" (N,3k), "sym_ops" (G,3,3), "sym_perms" (G,N)}``.
    train_time_s, command
        Total wall time and the command line that reruns the run.
    loss_chamfer
        Chamfer keyword arguments of a cd/sbcd training loss (None for sbmse/mse): rows
        trained on the paper's one-sided convention say so.
    samples
        Optional ``[{"id", "mol_id", "geometry_hash"}]`` for leak checks.
    device
        Training device, recorded in the hardware block.
    recompute
        Recompute the test scores from the predictions and fail on a mismatch.

    Raises
    ------
    ValueError
        Naming the field path, if the result would not pass :func:`validate_results`.
    """
    from sbbench import __version__

    fold_list = _jsonable(list(folds), "folds")
    # seeds and summary are derived from the folds: check their shape before reading them.
    try:
        check(fold_list, RESULTS_SCHEMA["properties"]["folds"], "folds", RESULTS_SCHEMA)
    except SbbenchError as exc:  # data from the caller (the harness), not a user's file
        raise ValueError(str(exc)) from None
    results: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "benchmark_version": benchmark_version or __version__,
        "dataset": _jsonable(dataset, "dataset"),
        "task": task,
        "model": model,
        "symmetry_class": symmetry_class,
        "loss": loss,
        "hyperparameters": _jsonable(hyperparameters, "hyperparameters"),
        "hparam_selection": hparam_selection,
        "n_params": int(n_params),
        "seeds": sorted({f["seed"] for f in fold_list}),
        "split": _jsonable(split, "split"),
        "loss_chamfer": None if loss_chamfer is None else _jsonable(dict(loss_chamfer), "lc"),
        "folds": fold_list,
        "train_time_s": float(train_time_s),
        "command": command,
        "provenance": _provenance(device),
    }
    if samples is not None:
        results["samples"] = _jsonable(list(samples), "samples")
    results["summary"] = _summary(fold_list)
    results["content_hash"] = content_hash(results)
    try:
        validate_results(results, recompute=recompute)
    except SbbenchError as exc:  # as above: a plain ValueError, a bug of the caller
        raise ValueError(str(exc)) from None
    return results


# ----------------------------------------------------------------------------- file I/O


def _dump(results: Mapping[str, Any]) -> str:
    """Readable JSON: one line per top-level field and per fold."""
    compact = dict(separators=(", ", ": "), allow_nan=False, ensure_ascii=True)
    lines = []
    for key in sorted(results):
        value = results[key]
        if key == "folds" and isinstance(value, list):
            inner = ",\n".join("    " + json.dumps(f, **compact) for f in value)
            text = "[\n" + inner + "\n  ]"
        else:
            text = json.dumps(value, **compact)
        lines.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_results(path: str | os.PathLike, results: Mapping[str, Any]) -> Path:
    """Write ``results`` to ``path`` atomically (gzip-compressed if it ends in ``.gz``)."""
    path = Path(path)
    data = _dump(results).encode("ascii")
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(path, data)
    return path


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``results.json`` (or ``.json.gz``) file.

    Loading does not validate; call :func:`validate_results`. A missing file is a
    :class:`~sbbench.errors.NotFound`; one that cannot be read, is not JSON or not a JSON
    object an :class:`~sbbench.errors.InputError`.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: no such results file")
    raw = path.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        obj = json.loads(raw.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: unreadable results file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a JSON object at the top level")
    return obj


# ----------------------------------------------------------------------------- validation


def _array(value: Any, path: str, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise RejectedResult(f"{path}: not a rectangular array of numbers") from None
    if arr.ndim != ndim:
        raise RejectedResult(f"{path}: expected a {ndim}-d array, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise RejectedResult(f"{path}: contains NaN or infinity")
    return arr


def _prediction_arrays(p: Mapping[str, Any], path: str):
    pred = _array(p["pred"], f"{path}.pred", 2)
    target = _array(p["target"], f"{path}.target", 2)
    ops = _array(p["sym_ops"], f"{path}.sym_ops", 3)
    perms = _array(p["sym_perms"], f"{path}.sym_perms", 2)
    if perms.shape != (ops.shape[0], pred.shape[0]) or (perms != np.round(perms)).any():
        raise RejectedResult(
            f"{path}.sym_perms: expected integer (G, N) = ({ops.shape[0]}, {pred.shape[0]}), "
            f"got shape {perms.shape}"
        )
    if pred.shape != target.shape:
        raise RejectedResult(f"{path}: pred shape {pred.shape} != target shape {target.shape}")
    if pred.shape[0] == 0 or pred.shape[1] == 0 or pred.shape[1] % 3:
        raise RejectedResult(f"{path}.pred: shape {pred.shape} is not (N, 3k) with N, k >= 1")
    if ops.shape[0] == 0 or ops.shape[1:] != (3, 3):
        raise RejectedResult(f"{path}.sym_ops: shape {ops.shape} is not (G, 3, 3) with G >= 1")
    return pred, target, ops, perms.astype(np.int64)


def recompute_scores(results: Mapping[str, Any]) -> list[dict[str, float]]:
    """Every test score of every fold, recomputed from the stored predictions.

    Returns one dict per entry of ``results["folds"]`` with the keys of :data:`SCORES`
    (means over the fold's test samples, float64, :mod:`sbbench.metrics`) and
    ``collapsed`` (the count of :func:`sbbench.metrics.is_collapsed` predictions).
    """
    out = []
    for i, fold in enumerate(results["folds"]):
        arrays = [
            _prediction_arrays(p, f"folds[{i}].predictions[{j}]")
            for j, p in enumerate(fold["predictions"])
        ]
        scores = _fold_scores(arrays, f"folds[{i}]")
        out.append({k: float(np.mean(v)) for k, v in scores.items()})
        out[-1]["collapsed"] = _collapsed(arrays)
    return out


def _collapsed(arrays) -> int:
    from sbbench.metrics import count_collapsed

    return count_collapsed([a[0] for a in arrays], [a[1] for a in arrays])


def _fold_scores(arrays, where: str) -> dict[str, np.ndarray]:
    """Per-sample scores of one fold; errors name the offending prediction."""
    from sbbench.metrics import chamfer_batch, sbcd_batch, sbmse, sbmse_batch

    preds, targets, ops, perms = (list(x) for x in zip(*arrays, strict=True))
    out: dict[str, np.ndarray] = {}
    try:
        _, out["sbmse"] = sbmse_batch(preds, targets, ops, perms, return_per_sample=True)
        eye = [np.eye(3)[None] for _ in preds]
        ident = [np.arange(len(p))[None] for p in preds]
        _, out["mse"] = sbmse_batch(preds, targets, eye, ident, return_per_sample=True)
        for suffix, conv in (("", SBBENCH_DEFAULT), ("_paper", SANN_PAPER)):
            kw = conv.to_dict()
            _, out["cd" + suffix] = chamfer_batch(preds, targets, return_per_sample=True, **kw)
            _, out["sbcd" + suffix] = sbcd_batch(preds, targets, ops, return_per_sample=True, **kw)
    except (ValueError, TypeError):
        for j, (p, t, o, g) in enumerate(arrays):  # find the sample the error is about
            try:
                sbmse(p, t, o, g)
            except (ValueError, TypeError) as exc:
                raise RejectedResult(f"{where}.predictions[{j}]: {exc}") from None
        raise
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


def _check_consistency(results: Mapping[str, Any]) -> list[str]:
    warnings: list[str] = []
    chamfer_loss = results["loss"] in ("cd", "sbcd")
    if chamfer_loss != (results["loss_chamfer"] is not None):
        raise RejectedResult(
            f"loss_chamfer: {results['loss_chamfer']!r} does not fit loss {results['loss']!r} "
            "(a mapping for cd/sbcd losses, null for sbmse/mse)"
        )
    folds = results["folds"]
    seen = set()
    n_folds = results["split"]["n_folds"]
    for i, f in enumerate(folds):
        key = (f["fold"], f["seed"])
        if key in seen:
            raise RejectedResult(
                f"folds[{i}]: fold {f['fold']} with seed {f['seed']} appears twice"
            )
        seen.add(key)
        if f["fold"] >= n_folds:
            raise RejectedResult(f"folds[{i}].fold: {f['fold']} >= split.n_folds = {n_folds}")
        ids = [p["id"] for p in f["predictions"]]
        if len(set(ids)) != len(ids):
            raise RejectedResult(f"folds[{i}].predictions: a sample id appears twice")
        for j, p in enumerate(f["predictions"]):
            _prediction_arrays(p, f"folds[{i}].predictions[{j}]")
        if "split" in f and set(ids) != set(f["split"]["test"]):
            raise RejectedResult(
                f"folds[{i}]: prediction ids differ from split.test "
                f"({len(set(ids) ^ set(f['split']['test']))} ids in only one of them)"
            )
    fold_seeds = sorted({f["seed"] for f in folds})
    if sorted(results["seeds"]) != fold_seeds:
        raise RejectedResult(f"seeds: {results['seeds']} but the folds use seeds {fold_seeds}")
    expected = _summary(folds)
    for key, stat in expected.items():
        got = results["summary"][key]
        if (stat is None) != (got is None):
            raise RejectedResult(f"summary.{key}: does not match the folds (expected {stat})")
        if stat is None:
            continue
        for field in stat:
            if not _close(got[field], stat[field], 1e-9, 1e-12):
                raise RejectedResult(
                    f"summary.{key}.{field}: {got[field]} but the folds give {stat[field]}"
                )
    if len(fold_seeds) < _MIN_SEEDS:
        warnings.append(
            f"only {len(fold_seeds)} seed(s); leaderboard rows should report at least "
            f"{_MIN_SEEDS} seeds (mean ± std)"
        )
    n_run = len({f["fold"] for f in folds})
    if n_run < n_folds:
        warnings.append(f"only {n_run} of {n_folds} folds were run")
    if any(f["equivariance_error"] is None for f in folds):
        warnings.append("equivariance error not measured for some folds")
    if results["split"]["protocol"] == "grouped" and not results["split"].get("group_by"):
        warnings.append("split.protocol is 'grouped' but split.group_by is not set")
    return warnings


def check_against_dataset(results: Mapping[str, Any], dataset: Any) -> None:
    """Raise :class:`~sbbench.errors.RejectedResult` unless every stored prediction is
    about ``dataset``'s own samples.

    Scores are recomputed from the targets, ``sym_ops`` and ``sym_perms`` stored in the
    results file; this checks those against the data the sha256 names (sample ids exist,
    targets, operations and permutations equal the dataset's after a float32 cast), so a
    file cannot pass with edited targets or a made-up group.
    """
    by_id = {int(d.idx): d for d in dataset}
    for i, fold in enumerate(results["folds"]):
        for j, p in enumerate(fold["predictions"]):
            where = f"folds[{i}].predictions[{j}]"
            sample = by_id.get(p["id"]) if isinstance(p["id"], int) else None
            if sample is None:
                raise RejectedResult(
                    f"{where}.id: no sample {p['id']!r} in {results['dataset']['name']}"
                )
            n = int(sample.num_nodes)
            ops = _np(sample.sym_ops).astype(np.float32)
            expected = {
                "target": _np(sample.y).astype(np.float32),
                "sym_ops": ops,
                "sym_perms": _np(sample.sym_perms).astype(np.int64).reshape(len(ops), n),
            }
            for key, want in expected.items():
                got = np.asarray(p[key], dtype=want.dtype)
                if got.shape != want.shape or not np.allclose(got, want, rtol=0, atol=1e-6):
                    raise RejectedResult(
                        f"{where}.{key}: differs from sample {p['id']} of "
                        f"{results['dataset']['name']} (the data its sha256 names)"
                    )


def overlap_warnings(results: Mapping[str, Any]) -> list[str]:
    """Warnings for test samples that leak from the training set, per fold.

    Uses the folds' ``split`` id lists and the optional ``samples`` metadata: the same
    sample id, the same molecule id (``mol_id``) or an identical ``geometry_hash`` in the
    train and test sets of one fold. Molecule overlap is expected under the random split
    protocol and is then reported as such. Nothing is reported for the ``same``
    protocol (train = test by design).
    """
    protocol = results["split"]["protocol"]
    if protocol == "same":
        return []
    meta = {s["id"]: s for s in results.get("samples", [])}
    out = []
    for i, f in enumerate(results["folds"]):
        if "split" not in f:
            continue
        train, test = f["split"]["train"], f["split"]["test"]
        same = set(train) & set(test)
        if same:
            out.append(f"folds[{i}]: {len(same)} test sample id(s) also in train")
        for field, what in (("mol_id", "molecule"), ("geometry_hash", "geometry")):
            tr = {meta[s].get(field) for s in train if s in meta} - {None}
            te = [meta[s].get(field) for s in test if s in meta and s not in same]
            shared = [v for v in te if v in tr]
            if not shared:
                continue
            msg = f"folds[{i}]: {len(shared)} test sample(s) share a {what} with train"
            if field == "mol_id" and protocol == "random":
                msg += " (expected under the random split; the grouped split avoids it)"
            out.append(msg)
    return out


def validate_results(
    results: Mapping[str, Any], *, recompute: bool = True, check_hash: bool = True
) -> list[str]:
    """Check a results dict; return warnings, raise :class:`~sbbench.errors.RejectedResult`
    (a ValueError, with the field path) on errors.

    Checks, in order: the JSON schema (types, required fields, finite numbers), the
    content hash, internal consistency (unique (fold, seed) runs, seeds, array shapes,
    prediction ids vs the test split, summary = mean/std of the folds), and, with
    ``recompute``, every stored test score and collapse count of every fold against
    values recomputed from the predictions (tolerance :data:`RTOL`, :data:`ATOL`).

    Warnings (not errors): fewer than 3 seeds, unrun folds, missing equivariance error,
    collapsed test predictions, an unknown dataset version, train/test overlap
    (:func:`overlap_warnings`).
    """
    try:
        check(results, RESULTS_SCHEMA)
    except InputError as exc:  # a JSON object, but not a results file
        raise RejectedResult(str(exc)) from None
    if check_hash:
        actual = content_hash(results)
        if actual != results["content_hash"]:
            raise RejectedResult(
                f"content_hash: {results['content_hash']} does not match the content "
                f"({actual}); the file was modified after it was made"
            )
    warnings = _check_consistency(results)
    if recompute:
        for i, (fold, again) in enumerate(
            zip(results["folds"], recompute_scores(results), strict=True)
        ):
            if fold["test"]["collapsed"] != again["collapsed"]:
                raise RejectedResult(
                    f"folds[{i}].test.collapsed: stored {fold['test']['collapsed']} but the "
                    f"predictions give {again['collapsed']}"
                )
            for metric in SCORES:
                stored = fold["test"][metric]
                if not _close(stored, again[metric], RTOL, ATOL):
                    raise RejectedResult(
                        f"folds[{i}].test.{metric}: stored {stored:.8g} but the predictions "
                        f"give {again[metric]:.8g} (tolerance rtol={RTOL:g}, atol={ATOL:g})"
                    )
    collapsed = results["summary"]["test_collapsed"]
    if collapsed["count"]:
        warnings.append(
            f"{collapsed['count']} of {collapsed['n']} test predictions are collapsed (their "
            "per-atom vectors spread less than 10 % of the target's; see "
            "sbbench.metrics.is_collapsed): a low one-sided Chamfer score there means nothing"
        )
    ds = results["dataset"]
    try:
        check_dataset_version(ds["name"], ds["version"], ds["sha256"], ds.get("options"))
    except ValueError as exc:
        warnings.append(f"{exc} (submit will reject it)")
    warnings.extend(overlap_warnings(results))
    return warnings
