"""The harness that trains and evaluates every model identically (``sbbench run``)."""

from ._config import (
    LOSSES,
    OPTIMIZERS,
    SCHEDULERS,
    RunConfig,
    baseline_file,
    baseline_files,
    resolve_config,
)
from ._experiment import (
    RunOutcome,
    RunPlan,
    TrainedFolds,
    assemble_results,
    check_run,
    default_out_dir,
    evaluate_fold,
    prepare_run,
    run_experiment,
    train_folds,
    train_one_fold,
    write_outputs,
)
from ._loop import FoldResult, evaluate, make_loss, ops_batch, train_fold

__all__ = [
    "RunConfig",
    "resolve_config",
    "baseline_file",
    "baseline_files",
    "run_experiment",
    "check_run",
    "RunOutcome",
    "RunPlan",
    "TrainedFolds",
    "prepare_run",
    "train_folds",
    "train_one_fold",
    "evaluate_fold",
    "assemble_results",
    "write_outputs",
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
