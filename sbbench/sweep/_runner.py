"""Run a grid's tasks as Ray tasks: local Ray by default, a Ray cluster with ``address``.

Each task is one (grid point, seed): :func:`~sbbench.training.run_experiment`
with that point's config, i.e. exactly ``sbbench run --seed k`` with all its
folds, on one CPU with one torch thread. The task runs in a temporary folder
on the worker and returns the bytes of every file it wrote, and the driver
writes them under ``<out>/<grid-point-id>/seed<k>/`` (``results.json`` last,
atomically), so a cluster needs no shared filesystem and a folder holding a
valid ``results.json`` is a finished task: a restart skips it.

A task that raises (or whose worker dies) is submitted again up to ``retries``
times by the driver (Ray's own ``max_retries`` is 0, so that every attempt is
seen and reported); if every attempt fails it is reported (one line, the
worker's traceback in ``error.log`` in its folder) and the other tasks go on.
Ctrl-C cancels the running tasks, keeps the finished ones and still writes
the summary.

On a Ray cluster every node needs the same sbbench (and its dependencies)
installed, as for any Ray job; the datasets are loaded on the workers.
"""

from __future__ import annotations

import collections
import logging
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sbbench._io import atomic_write_bytes, atomic_write_text
from sbbench.errors import InputError

from ._grid import Grid, SweepTask, expand
from ._summary import format_summary, summarize, write_summary

__all__ = ["run_sweep", "require_ray", "default_sweep_dir", "task_finished"]

log = logging.getLogger("sbbench.sweep")

RAY_MISSING = "sbbench sweep needs Ray: pip install 'sbbench[ray]'"


def require_ray():
    """Import and return :mod:`ray`; ImportError with the install command if it is missing."""
    try:
        import ray
    except ImportError:
        raise ImportError(RAY_MISSING) from None
    return ray


def default_sweep_dir(grid: Grid, dataset: str | None = None) -> Path:
    """``runs/sweeps/<grid name>/<dataset>``: stable, so rerunning the command resumes."""
    return Path("runs") / "sweeps" / grid.name / (dataset or grid.dataset).replace(":", "-")


def _run_task(config: dict[str, Any], command: str) -> dict[str, bytes]:
    """Ray task body: one ``sbbench run`` in a temporary folder; returns its files' bytes."""
    import torch

    from sbbench.training import RunConfig, run_experiment

    torch.set_num_threads(1)
    cfg = RunConfig(**config)
    with tempfile.TemporaryDirectory(prefix="sbbench-sweep-") as tmp:
        outcome = run_experiment(cfg, tmp, quiet=True, command=command)
        if outcome.interrupted:
            raise RuntimeError("the run was interrupted before all folds finished")
        root = Path(tmp)
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }


def _write_task_files(folder: Path, files: dict[str, bytes]) -> None:

    if "results.json" not in files:
        raise RuntimeError(f"{folder}: the task returned no results.json")
    for rel, data in files.items():
        if rel != "results.json":
            atomic_write_bytes(folder / rel, data)
    atomic_write_bytes(folder / "results.json", files["results.json"])
    (folder / "error.log").unlink(missing_ok=True)


def task_finished(out_dir: Path, task: SweepTask) -> dict[str, Any] | None:
    """The task's results if ``out_dir`` already holds a valid ``results.json`` for it.

    Returns None when there is none or it is unreadable/invalid (the task is run
    again). Raises ValueError when it is valid but was made with a different
    config: a changed grid must go to a new ``--out``, not overwrite old results.
    """
    from sbbench.leaderboard import load_results, validate_results

    folder = out_dir / task.rel_dir
    path = folder / "results.json"
    if not path.is_file():
        return None
    try:
        results = load_results(path)
        validate_results(results, recompute=False)
    except ValueError as exc:
        log.warning("%s is not valid (%s); running the task again", path, exc)
        return None
    try:
        stored = yaml.safe_load((folder / "config.yaml").read_text())
    except (OSError, yaml.YAMLError):
        stored = None
    expected = task.config.to_dict()
    if stored != expected:
        diff = sorted(
            k for k in expected if not isinstance(stored, dict) or stored.get(k) != expected[k]
        )
        raise InputError(
            f"{folder} holds results of a different config (differs in: "
            f"{', '.join(diff) or 'config.yaml'}); use a new --out for a changed grid"
        )
    return results


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        exc = cause
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}".strip()


def _reproduce(task: SweepTask, out_dir: Path) -> str:
    import shlex

    cfg = task.config
    ds = cfg.dataset + (f":{cfg.task}" if cfg.task else "")
    config = out_dir / task.rel_dir / "config.yaml"
    return shlex.join(
        ["sbbench", "run", "--model", cfg.model, "--dataset", ds, "--config", str(config)]
    )


def run_sweep(
    grid: Grid,
    out_dir: str | Path | None = None,
    *,
    dataset: str | None = None,
    seeds: list[int] | None = None,
    quick: bool = False,
    address: str | None = None,
    workers: int | None = None,
    retries: int = 1,
    quiet: bool = False,
    printer: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every (grid point, seed) task of ``grid`` on Ray; write ``sweep_summary.json``.

    Parameters
    ----------
    grid
        From :func:`~sbbench.sweep.load_grid`.
    out_dir
        Output folder (default :func:`default_sweep_dir`). Rerunning with the same
        folder skips the finished tasks.
    dataset, seeds, quick
        Passed to :func:`~sbbench.sweep.expand`.
    address
        Ray cluster address (``"auto"``, ``"ray://host:10001"``); None starts a local
        Ray with ``workers`` CPUs. If Ray is already initialised it is used as is.
    workers
        Most tasks in flight at once (default: all; for local Ray, the CPU count).
    retries
        Extra attempts for a failing task (the issue's "retried once": 1).
    quiet
        Print nothing (the summary is still written).
    printer
        Where progress lines go (default: ``print`` to stdout).

    Returns
    -------
    dict
        The summary also written to ``<out_dir>/sweep_summary.json``: per grid point
        the mean/std of validation SBCD and test SBCD/CD, ``best`` (chosen on
        validation SBCD), ``failures`` and task ``counts``.
    """
    if retries < 0:
        raise InputError(f"retries must be >= 0, got {retries}")
    if workers is not None and workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    say = (lambda _msg: None) if quiet else (printer or print)
    start = time.perf_counter()
    tasks = expand(grid, dataset=dataset, seeds=seeds, quick=quick)
    out = Path(out_dir) if out_dir is not None else default_sweep_dir(grid, dataset)
    out.mkdir(parents=True, exist_ok=True)

    results: dict[str, dict[str, Any]] = {}
    pending: list[SweepTask] = []
    for task in tasks:
        done = task_finished(out, task)
        if done is None:
            pending.append(task)
        else:
            results[str(task.rel_dir)] = done
    counts = {"total": len(tasks), "skipped": len(results), "ran": 0, "failed": 0}
    say(
        f"sweep {grid.name}: {len(tasks)} tasks ({len(grid.points())} grid points x "
        f"{len(tasks) // max(1, len(grid.points()))} seeds), {len(results)} already finished"
    )
    failures: list[dict[str, Any]] = []
    interrupted = False
    if pending:
        try:
            _run_on_ray(pending, out, results, failures, counts, address, workers, retries, say)
        except KeyboardInterrupt:
            interrupted = True
    summary = summarize(
        grid,
        tasks,
        results,
        failures,
        out_dir=out,
        counts=counts,
        wall_s=time.perf_counter() - start,
    )
    summary["interrupted"] = interrupted
    write_summary(out / "sweep_summary.json", summary)
    say(format_summary(summary))
    say(f"summary: {out / 'sweep_summary.json'}")
    if interrupted:
        say("interrupted: finished tasks are kept; rerun the same command to resume")
        raise KeyboardInterrupt
    return summary


def _run_on_ray(
    pending: list[SweepTask],
    out: Path,
    results: dict[str, dict[str, Any]],
    failures: list[dict[str, Any]],
    counts: dict[str, int],
    address: str | None,
    workers: int | None,
    retries: int,
    say: Callable[[str], None],
) -> None:
    import json

    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        say(f"starting Ray ({address or 'local'}) ...")
        _init_ray(ray, address, workers)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_run_task)
        limit = workers or len(pending)
        queue = collections.deque((task, 1) for task in pending)
        inflight: dict[Any, tuple[SweepTask, int, float]] = {}
        done = counts["skipped"]
        try:
            while queue or inflight:
                while queue and len(inflight) < limit:
                    task, attempt = queue.popleft()
                    ref = remote.remote(task.config.to_dict(), _reproduce(task, out))
                    inflight[ref] = (task, attempt, time.perf_counter())
                (ref,), _ = ray.wait(list(inflight), num_returns=1)
                task, attempt, t0 = inflight.pop(ref)
                folder = out / task.rel_dir
                try:
                    files = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    error = _one_line(exc)
                    if attempt <= retries:
                        say(f"  {task.label}: attempt {attempt} failed ({error}); retrying")
                        queue.append((task, attempt + 1))
                        continue
                    folder.mkdir(parents=True, exist_ok=True)
                    trace = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # drop colour codes
                    atomic_write_text(folder / "error.log", trace + "\n")
                    failures.append(
                        {
                            "point": task.point.id,
                            "seed": task.seed,
                            "attempts": attempt,
                            "error": error,
                            "log": str(task.rel_dir / "error.log"),
                        }
                    )
                    counts["failed"] += 1
                    done += 1
                    say(f"[{done}/{counts['total']}] {task.label}: FAILED ({error})")
                    continue
                _write_task_files(folder, files)
                res = json.loads(files["results.json"])
                results[str(task.rel_dir)] = res
                counts["ran"] += 1
                done += 1
                s = res["summary"]
                say(
                    f"[{done}/{counts['total']}] {task.label}: val SBMSE "
                    f"{s['val_sbmse']['mean']:.5f}, test SBMSE {s['test_sbmse']['mean']:.5f} "
                    f"({time.perf_counter() - t0:.1f} s)"
                )
        except KeyboardInterrupt:
            for ref in inflight:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()


def _init_ray(ray, address: str | None, workers: int | None) -> None:
    import os

    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    if address is None:
        kwargs["num_cpus"] = workers or os.cpu_count() or 1
        # A small object store: tasks return only their output files (KB to MB).
        kwargs["object_store_memory"] = 200 * 1024**2
    else:
        kwargs["address"] = address
    ray.init(**kwargs)
