"""The sweep's summary: per grid point mean validation / test scores, and the best point.

The best point is chosen on the *validation* SBMSE only (inner validation, SANN
paper Sec. 6 protocol, with the leaderboards' ranking key): the mean over all folds
and seeds of each fold's selected-epoch validation SBMSE. Test scores are reported next to it, never
used to choose.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._grid import Grid, SweepTask

__all__ = ["summarize", "format_summary", "write_summary", "SELECTION"]

SELECTION = "lowest mean validation SBMSE over all folds and seeds (inner validation)"


def _stat(values: Sequence[float]) -> dict[str, Any] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "n": int(arr.size),
    }


def summarize(
    grid: Grid,
    tasks: Sequence[SweepTask],
    results: dict[str, dict[str, Any]],
    failures: Sequence[dict[str, Any]],
    *,
    out_dir: str | Path,
    counts: dict[str, int],
    wall_s: float,
) -> dict[str, Any]:
    """Assemble ``sweep_summary.json``.

    Parameters
    ----------
    grid, tasks
        The sweep (:func:`~sbbench.sweep.load_grid`, :func:`~sbbench.sweep.expand`).
    results
        ``results.json`` contents of the finished tasks, keyed by ``str(task.rel_dir)``.
    failures
        One dict per task that failed every attempt (``point``, ``seed``, ``error``, ...).
    out_dir, counts, wall_s
        Where the sweep wrote, how many tasks were run/skipped/failed, and its wall time.
    """
    points: dict[str, dict[str, Any]] = {}
    for task in tasks:
        entry = points.setdefault(
            task.point.id,
            {"id": task.point.id, "params": task.point.values, "tasks": 0, "_folds": []},
        )
        entry["tasks"] += 1
        res = results.get(str(task.rel_dir))
        if res is not None:
            entry.setdefault("results", []).append(str(task.rel_dir / "results.json"))
            entry["_folds"].extend(res["folds"])
    rows = []
    for entry in points.values():
        folds = entry.pop("_folds")
        entry["finished"] = len(entry.get("results", []))
        entry["val_sbmse"] = _stat([f["val"]["sbmse"] for f in folds])
        entry["test_sbmse"] = _stat([f["test"]["sbmse"] for f in folds])
        entry["test_sbcd"] = _stat([f["test"]["sbcd"] for f in folds])
        rows.append(entry)
    complete = [r for r in rows if r["finished"] == r["tasks"] and r["val_sbmse"] is not None]
    best = min(complete, key=lambda r: r["val_sbmse"]["mean"], default=None)
    dataset, folds = grid.dataset, None
    if tasks:
        cfg = tasks[0].config
        dataset, folds = cfg.dataset + (f":{cfg.task}" if cfg.task else ""), cfg.folds
    return {
        "grid": grid.name,
        "grid_file": grid.source,
        "model": grid.model,
        "dataset": dataset,
        "seeds": sorted({t.seed for t in tasks}),
        "folds": folds,
        "out_dir": str(out_dir),
        "selection": SELECTION,
        "best": None if best is None else best["id"],
        "best_params": None if best is None else best["params"],
        "points": rows,
        "failures": list(failures),
        "counts": dict(counts),
        "wall_s": float(wall_s),
    }


def _fmt(stat: dict[str, Any] | None) -> str:
    if stat is None:
        return "-"
    std = 0.0 if math.isnan(stat["std"]) else stat["std"]
    return f"{stat['mean']:.5f} ± {std:.5f}"


def format_summary(summary: dict[str, Any]) -> str:
    """A plain-text table: grid point -> mean val SBMSE, test SBMSE, test SBCD; best ``*``."""
    head = ("grid point", "runs", "val SBMSE", "test SBMSE", "test SBCD")
    rows = [
        (
            ("* " if p["id"] == summary["best"] else "  ") + p["id"],
            f"{p['finished']}/{p['tasks']}",
            _fmt(p["val_sbmse"]),
            _fmt(p["test_sbmse"]),
            _fmt(p["test_sbcd"]),
        )
        for p in summary["points"]
    ]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    header = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    out = [header, "-" * len(header), *lines]
    if summary["best"] is None:
        out.append("best: none (no grid point finished all its tasks)")
    else:
        out.append(f"* best on validation SBMSE: {summary['best']} {summary['best_params']}")
    for f in summary["failures"]:
        out.append(
            f"FAILED {f['point']} seed {f['seed']} after {f['attempts']} attempts: {f['error']}"
        )
    return "\n".join(out)


def write_summary(path: str | Path, summary: dict[str, Any]) -> Path:
    """Write ``summary`` as JSON atomically (temporary file + ``os.replace``)."""
    from sbbench._io import atomic_write_bytes

    path = Path(path)
    text = json.dumps(summary, indent=2, allow_nan=False, sort_keys=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
