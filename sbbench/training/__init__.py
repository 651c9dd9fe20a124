"""The harness that trains and evaluates every model identically (``sbbench run``)."""

from ._config import LOSSES, OPTIMIZERS, SCHEDULERS, RunConfig, baseline_file, resolve_config
from ._experiment import RunOutcome, check_run, default_out_dir, run_experiment
from ._loop import FoldResult, evaluate, make_loss, ops_batch, train_fold

__all__ = [
    "RunConfig",
    "resolve_config",
    "baseline_file",
    "run_experiment",
    "check_run",
    "RunOutcome",
    "default_out_dir",
    "train_fold",
    "evaluate",
    "make_loss",
    "ops_batch",
    "FoldResult",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULERS",
]
