"""Re-run every leaderboard row under the current scoring (issue 14), resumably.

Each job is one command that trains a row and submits it (``sbbench reproduce TABLE
--only KEY`` submits by itself; ``sbbench run`` is followed by ``sbbench submit``). A
job whose command already appears in the ``command`` column of its leaderboard CSV is
skipped, so an interrupted re-run continues where it stopped. Jobs run in ``--workers``
parallel processes with one thread each (two small-model jobs on two cores are faster
than one job on two threads), cheap rows first, the slow relaxed_e3nn rows last.

    python leaderboards/rerun.py --list          # the plan, with what is done
    python leaderboards/rerun.py --workers 2     # run what is missing (log: runs/rerun/)
    python leaderboards/rerun.py --dataset qm7x  # only one leaderboard
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = "--folds 1 --seeds 0,1,2"


def _reproduce_jobs() -> list[tuple[str, str]]:
    from sbbench.reproduce import TABLES

    jobs = []
    for table in (
        "sann-table1",
        "sann-table2",
        "sann-table7",
        "sann-table3",
        "sann-table3-control",
    ):
        for spec in TABLES[table]:
            if table == "sann-table7" and "(tensor)" in spec.name:
                continue  # the default PaiNN variant: the same configuration as Table 2's rows
            key = shlex.quote(spec.key)
            jobs.append(
                (spec.dataset.split(":")[0], f"sbbench reproduce {table} --only {key} {SEEDS}")
            )
    for spec in TABLES["relaxed-e3"]:
        key = shlex.quote(spec.key)
        cmd = f"sbbench reproduce relaxed-e3 --only {key} --epochs 1000 --seeds 0"
        jobs.append((spec.dataset.split(":")[0], cmd))
    return jobs


def _grouped_qm7x_jobs() -> list[tuple[str, str]]:
    """``sbbench run`` rows on the default qm7x data (grouped splits), for the models the
    control table does not cover: its "as given" rows are the same configuration."""
    from sbbench.reproduce import TABLES

    control = {spec.model for spec in TABLES["sann-table3-control"]}
    every = ("schnet", "schnet+mlp", "dimenet++", "egnn", "egnn+mlp", "painn", "sann")
    models = [m for m in (*every, "relaxed_e3nn") if m not in control]
    return [
        (
            "qm7x",
            f"sbbench run --model {m} --dataset qm7x {SEEDS} --quiet --out runs/rerun/qm7x/{m}",
        )
        for m in models
    ]


def plan() -> list[tuple[str, str]]:
    """(dataset, command) of every row, cheapest first, relaxed_e3nn last; the QM7-X
    control table (issue 17's verdict rests on its pairs) first of its dataset."""
    jobs = _reproduce_jobs() + _grouped_qm7x_jobs()
    cost = {"square": 0, "h2o_modes": 1, "qm7x": 2, "shapes": 3, "charged_particle": 3}

    def order(job: tuple[str, str]) -> tuple:
        control = "sann-table3-control" in job[1]
        return ("relaxed_e3nn" in job[1] and not control, cost[job[0]], not control)

    return sorted(jobs, key=order)


def done_commands(dataset: str) -> set[str]:
    """Commands of the rows on current data (a row on a retired dataset version, e.g.
    qm7x before reference set v2, does not count: it awaits this re-run)."""
    from sbbench.leaderboard import leaderboard_path, read_leaderboard
    from sbbench.leaderboard._html import row_status

    path = leaderboard_path(dataset)
    if not path.is_file():
        return set()
    return {r["command"] for r in read_leaderboard(path) if row_status(r)[0]}


def _recorded(command: str) -> str:
    """The command as its row records it (shlex-joined, as the harness writes it)."""
    return shlex.join(shlex.split(command))


def _run(dataset: str, command: str, log_dir: Path) -> tuple[str, int, float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    name = "".join(c if c.isalnum() else "_" for c in command)[:150]
    t0 = time.perf_counter()
    argv = shlex.split(command)
    with open(log_dir / f"{name}.log", "w") as log:
        rc = subprocess.call(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
        if rc == 0 and argv[1] == "run":
            out = argv[argv.index("--out") + 1]
            rc = subprocess.call(
                ["sbbench", "submit", f"{out}/results.json"], cwd=ROOT, stdout=log, stderr=log
            )
    return command, rc, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument("--dataset", default=None, help="only the rows of this dataset")
    args = parser.parse_args()
    jobs = [j for j in plan() if args.dataset in (None, j[0])]
    todo = [(d, c) for d, c in jobs if _recorded(c) not in done_commands(d)]
    if args.list:
        for d, c in jobs:
            print(("todo " if (d, c) in todo else "done ") + c)
        print(f"{len(jobs) - len(todo)} of {len(jobs)} rows done")
        return 0
    log_dir = ROOT / "runs" / "rerun" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"{len(todo)} of {len(jobs)} rows to run with {args.workers} workers", flush=True)
    failed = 0
    with ThreadPoolExecutor(args.workers) as pool:
        for command, rc, wall in pool.map(lambda j: _run(*j, log_dir), todo):
            failed += rc != 0
            print(f"{'ok  ' if rc == 0 else 'FAIL'} {wall:7.0f} s  {command}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
