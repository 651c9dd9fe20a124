"""Hyperparameter sweep on Ray: every grid point x seed (all folds) as one Ray task.

Each task is `sbbench run` for one grid point and seed; its outputs land in
OUT/<grid-point-id>/seed<k>/ (same results.json format). Rerunning the same
command skips finished tasks; a failing task is retried once and reported
without stopping the others. The best point is chosen on validation SBCD and
written with a per-point table to OUT/sweep_summary.json.

Needs Ray: pip install 'sbbench[ray]'. Local Ray by default (--workers CPUs);
--address joins a running Ray cluster (every node needs sbbench installed).
Ctrl-C keeps finished tasks; rerun the same command to resume.

Exit codes: 0 all tasks finished, 1 some task failed on every attempt (see the summary),
2 bad grid or usage, 130 interrupted.

Grid files (baselines/grids/): egnn_synthetic.yaml (SANN paper Table 5),
sann.yaml (Table 6), tiny.yaml (a 2-point smoke test).

Examples:
  sbbench sweep --grid baselines/grids/tiny.yaml
  sbbench sweep --grid baselines/grids/egnn_synthetic.yaml --dataset shapes --seeds 0,1,2
  sbbench sweep --grid baselines/grids/sann.yaml --address auto --out runs/sann-grid
"""

from __future__ import annotations

import argparse

from sbbench.cli import CLIError
from sbbench.cli.run import _seeds

HELP = "hyperparameter grid x folds x seeds as Ray tasks (local or a cluster)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grid", required=True, help="grid YAML, e.g. baselines/grids/tiny.yaml")
    parser.add_argument("--dataset", help="dataset[:task] instead of the grid's")
    parser.add_argument("--seeds", type=_seeds, help="comma-separated seeds instead of the grid's")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 epochs, 2 folds")
    parser.add_argument("--address", help="Ray cluster address (e.g. auto); default: local Ray")
    parser.add_argument(
        "--workers", type=int, help="tasks at once (default: number of CPUs for local Ray)"
    )
    parser.add_argument(
        "--out", help="output folder (default runs/sweeps/<grid>/<dataset>); reuse it to resume"
    )
    parser.add_argument(
        "--retries", type=int, default=1, help="extra attempts for a failing task (default 1)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only where results went")


def run(args: argparse.Namespace) -> int:
    from sbbench.sweep import load_grid, require_ray, run_sweep

    grid = load_grid(args.grid)
    try:
        require_ray()
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    summary = run_sweep(
        grid,
        args.out,
        dataset=args.dataset,
        seeds=args.seeds,
        quick=args.quick,
        address=args.address,
        workers=args.workers,
        retries=args.retries,
        quiet=args.quiet,
    )
    if args.quiet:
        print(f"summary: {summary['out_dir']}/sweep_summary.json")
    return 1 if summary["failures"] else 0
