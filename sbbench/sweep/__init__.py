"""Hyperparameter sweeps on Ray (``sbbench sweep``): grid x folds x seeds as Ray tasks.

* :func:`load_grid` reads a grid YAML (``baselines/grids/``: the SANN appendix
  C.3 grids, Tables 5 and 6) and :func:`expand` turns it into one
  :class:`SweepTask` per (grid point, seed), each a full
  :class:`~sbbench.training.RunConfig` with all its folds.
* :func:`run_sweep` runs the tasks as Ray tasks (local Ray, or a cluster with
  ``address``), skips finished ones on restart, retries a failed task once,
  and writes ``sweep_summary.json`` with the best point chosen on validation
  SBCD (:func:`summarize`).

Ray is the optional extra ``sbbench[ray]``; it is imported only when tasks run.
"""

from ._grid import Grid, GridPoint, SweepTask, expand, load_grid
from ._runner import default_sweep_dir, require_ray, run_sweep, task_finished
from ._summary import SELECTION, format_summary, summarize, write_summary

__all__ = [
    "Grid",
    "GridPoint",
    "SweepTask",
    "load_grid",
    "expand",
    "run_sweep",
    "require_ray",
    "default_sweep_dir",
    "task_finished",
    "summarize",
    "format_summary",
    "write_summary",
    "SELECTION",
]
