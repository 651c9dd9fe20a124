"""``sbbench run``: k-fold cross-validation of one model on one dataset, end to end.

For every (seed, fold): build the model with the seed, train it on the fold's
training part (:func:`~sbbench.training._loop.train_fold`), select the epoch
with the best validation SBMSE, and score the test part with every score of
:data:`~sbbench.training._loop.SCORES` (SBMSE, MSE, CD/SBCD in the sbbench and
the paper conventions), the number of collapsed predictions and the model's
measured equivariance error. Everything lands in ``out_dir``:

``results.json``   the schema of :mod:`sbbench.results` incl. test predictions
``config.yaml``    the resolved :class:`RunConfig`
``run.log``        a log of the run
``checkpoints/``   the selected weights of every (seed, fold)
``curves.png``     train loss and validation SBMSE per fold
``arrows.png``     predicted vs true vectors on one test molecule (3D)

``theta.png``      what the model reports on itself, if it does
                   (:meth:`sbbench.models.VectorModel.report`; relaxed_e3nn's weights)

The steps, each a function: :func:`prepare_run` (validate, build the data, split),
:func:`train_folds` (:func:`train_one_fold`, :func:`evaluate_fold` per (seed, fold)),
:func:`assemble_results`, :func:`write_outputs`; :func:`run_experiment` runs them.

Ctrl-C stops after cleaning up: finished folds are kept and written.
"""

from __future__ import annotations

import dataclasses
import logging
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from .._io import atomic_path, atomic_write_text
from .._vocabulary import split_group_by
from ..errors import InputError
from ._config import RunConfig
from ._loop import SCORES, evaluate, train_fold

__all__ = [
    "run_experiment",
    "default_out_dir",
    "RunOutcome",
    "check_run",
    "RunPlan",
    "TrainedFolds",
    "prepare_run",
    "train_folds",
    "train_one_fold",
    "evaluate_fold",
    "assemble_results",
    "write_outputs",
]

log = logging.getLogger("sbbench.run")


@dataclasses.dataclass
class RunOutcome:
    """What :func:`run_experiment` returns."""

    results: dict[str, Any]
    out_dir: Path
    interrupted: bool


def default_out_dir(cfg: RunConfig) -> Path:
    """``runs/<dataset>[:task]/<model>/<UTC timestamp>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = cfg.dataset + (f"-{cfg.task}" if cfg.task else "")
    return Path("runs") / name / cfg.model / stamp


def check_run(cfg: RunConfig) -> None:
    """Fail fast on a bad config: model name and hyperparameters, dataset, task and
    options are checked before any data are built or any file is written."""
    from sbbench.datasets import get_class
    from sbbench.models import build

    cfg.validate()
    if len(set(cfg.seeds)) != len(cfg.seeds):
        dup = next(s for s in cfg.seeds if cfg.seeds.count(s) > 1)
        raise InputError(f"seed {dup} is given twice in seeds {cfg.seeds}")
    if cfg.threads is not None and cfg.threads < 0:
        raise InputError(f"threads must be >= 1 (or 0/None: the default), got {cfg.threads}")
    options = dict(cfg.dataset_options)
    if cfg.task:
        options["task"] = cfg.task
    get_class(cfg.dataset).check_options(**options)
    build(cfg.model, **{"out_vectors": 1, **cfg.model_hparams})


def _load_dataset(cfg: RunConfig):
    from sbbench.datasets import load

    options = dict(cfg.dataset_options)
    if cfg.task:
        options["task"] = cfg.task
    return load(cfg.dataset, **options)


def _model_hparams(cfg: RunConfig, sample: Any) -> dict[str, Any]:
    """Every hyperparameter of the model (:func:`sbbench.models._registry.defaults`): what the data
    fix (``out_vectors``, ``node_attr_dim``), then ``cfg.model_hparams``, then the
    constructor defaults for the rest, so that results.json records one spelling of each
    configuration (``painn`` with and without ``variant=tensor`` are one)."""
    from sbbench.models._registry import defaults

    hp: dict[str, Any] = {"out_vectors": int(sample.y.shape[1]) // 3}
    attr = getattr(sample, "node_attr", None)
    if attr is not None:
        hp["node_attr_dim"] = int(attr.shape[1])
    hp.update(cfg.model_hparams)
    return defaults(cfg.model, **hp)


def _fold_seed(seed: int, fold: int) -> int:
    return seed * 1000 + fold


def _setup_logging(out_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(out_dir / "run.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


@dataclasses.dataclass
class RunPlan:
    """What :func:`prepare_run` resolved: everything a run needs before it trains.

    ``dataset`` (built with the config's options and task), ``hparams`` (every model
    hyperparameter, :func:`_model_hparams`), the split ``protocol`` and its ``splits``
    (``(train, val, test)`` index arrays per fold), and the model's ``n_params`` and
    ``symmetry_class`` (from a probe built with ``hparams``).
    """

    cfg: RunConfig
    dataset: Any
    hparams: dict[str, Any]
    protocol: str
    splits: list[tuple[Any, Any, Any]]
    n_params: int
    symmetry_class: str


@dataclasses.dataclass
class TrainedFolds:
    """What :func:`train_folds` returns: one record per finished (seed, fold) run.

    ``folds``: the results-file fold records (scores, split ids, test predictions);
    ``curves``: per run the :class:`~sbbench.training._loop.FoldResult` as a dict, for
    ``curves.png``; ``interrupted``: Ctrl-C stopped the loop early; ``train_time_s``:
    wall time of the loop.
    """

    folds: list[dict[str, Any]]
    curves: list[dict[str, Any]]
    interrupted: bool
    train_time_s: float


def prepare_run(cfg: RunConfig) -> RunPlan:
    """Step 1, resolve and validate: check ``cfg`` (:func:`check_run`), set the torch
    threads, build the dataset, fill in the model's hyperparameters, make the splits and
    measure the model. A dataset, split or hyperparameter that does not work fails here,
    before any file is written."""
    from sbbench.datasets import kfold
    from sbbench.datasets._splits import resolve_protocol
    from sbbench.models import build

    check_run(cfg)
    # Default: torch's own setting (which honours OMP_NUM_THREADS), capped at 2. More
    # threads than free cores make the small per-molecule ops spin and thrash.
    torch.set_num_threads(cfg.threads or max(1, min(2, torch.get_num_threads())))
    dataset = _load_dataset(cfg)
    hparams = _model_hparams(cfg, dataset[0])
    protocol = resolve_protocol(dataset, cfg.split)
    splits = kfold(
        dataset, cfg.folds, cfg.seeds[0], protocol=protocol, fractions=cfg.split_fractions
    )
    probe = build(cfg.model, **hparams)
    n_params = sum(p.numel() for p in probe.parameters() if p.requires_grad)
    return RunPlan(
        cfg=cfg,
        dataset=dataset,
        hparams=hparams,
        protocol=protocol,
        splits=splits,
        n_params=n_params,
        symmetry_class=getattr(probe, "symmetry_class", "unknown"),
    )


def train_folds(plan: RunPlan, out: Path, *, quiet: bool = False) -> TrainedFolds:
    """Step 2, train: every (seed, fold) of ``plan`` in turn (:func:`train_one_fold`),
    with a progress bar unless ``quiet``. The model of the first run reports on itself
    (:meth:`sbbench.models.VectorModel.report`). Ctrl-C stops after the current run:
    the finished ones are returned."""
    cfg = plan.cfg
    runs = [(seed, f) for seed in cfg.seeds for f in range(len(plan.splits))]
    bar = _progress(len(runs) * cfg.epochs, quiet)
    trained = TrainedFolds(folds=[], curves=[], interrupted=False, train_time_s=0.0)
    start = time.perf_counter()
    try:
        for seed, f in runs:
            fold, curve = train_one_fold(plan, seed, f, out, bar, report=not trained.folds)
            trained.folds.append(fold)
            trained.curves.append(curve)
    except KeyboardInterrupt:
        trained.interrupted = True
        log.warning("interrupted after %d finished fold(s)", len(trained.folds))
    finally:
        bar.close()
    trained.train_time_s = time.perf_counter() - start
    return trained


def train_one_fold(
    plan: RunPlan, seed: int, f: int, out: Path, bar: Any, *, report: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One (seed, fold): build the model with the seed, train it on the fold's training
    part (best validation SBMSE epoch), evaluate it (:func:`evaluate_fold`) and save its
    weights to ``out/checkpoints/seed<seed>_fold<f>.pt``; with ``report``, log what the
    trained model says about itself (:meth:`sbbench.models.VectorModel.report`, which
    may write a figure to ``out``). Returns the results-file fold record and the
    training curve."""
    from torch_geometric.loader import DataLoader

    from sbbench.models import build

    cfg, dataset = plan.cfg, plan.dataset
    train_idx, val_idx, test_idx = (torch.as_tensor(s) for s in plan.splits[f])
    torch.manual_seed(_fold_seed(seed, f))
    model = build(cfg.model, **plan.hparams).to(cfg.device)
    gen = torch.Generator().manual_seed(_fold_seed(seed, f))
    loader = DataLoader(dataset[train_idx], batch_size=cfg.batch_size, shuffle=True, generator=gen)
    val_loader = DataLoader(dataset[val_idx], batch_size=cfg.batch_size)

    def on_epoch(epoch, train_loss, val):
        bar.set_postfix(
            seed=seed, fold=f, loss=f"{train_loss:.4g}", val_sbmse=f"{val['sbmse']:.4g}"
        )
        bar.update(1)

    fit = train_fold(model, loader, val_loader, cfg, on_epoch=on_epoch)
    test, eq = evaluate_fold(model, plan, test_idx)
    with atomic_path(out / "checkpoints" / f"seed{seed}_fold{f}.pt") as tmp:
        torch.save(model.state_dict(), tmp)
    note = model.report(out) if report else None
    if note:
        log.info("%s", note)
    ids = lambda idx: [int(i) for i in idx]  # noqa: E731
    fold = {
        "fold": f,
        "seed": seed,
        "val": {k: fit.best_val[k] for k in SCORES},
        "test": {k: test[k] for k in (*SCORES, "collapsed")},
        "best_epoch": fit.best_epoch,
        "epochs": cfg.epochs,
        "train_time_s": fit.train_time_s,
        "equivariance_error": eq,
        "split": {"train": ids(train_idx), "val": ids(val_idx), "test": ids(test_idx)},
        "predictions": test["predictions"],
    }
    log.info(
        "seed %d fold %d: best epoch %d, val SBMSE %.5g, test SBMSE %.5g, "
        "test CD %.5g, test SBCD %.5g, collapsed %d/%d, equivariance error %s",
        seed,
        f,
        fit.best_epoch,
        fit.best_val["sbmse"],
        test["sbmse"],
        test["cd"],
        test["sbcd"],
        test["collapsed"],
        test["n"],
        eq,
    )
    curve = {"label": f"seed {seed} fold {f}", **dataclasses.asdict(fit)}
    return fold, curve


def evaluate_fold(model: Any, plan: RunPlan, test_idx: Any) -> tuple[dict[str, Any], float | None]:
    """Step 3, evaluate: every score of :data:`~sbbench.training._loop.SCORES` on the
    fold's test part, with the predictions (:func:`~sbbench.training._loop.evaluate`),
    and the model's measured equivariance error on (up to 64) test samples."""
    from torch_geometric.loader import DataLoader

    from sbbench.testing import equivariance_error

    samples = plan.dataset[test_idx]
    test = evaluate(
        model, DataLoader(samples, batch_size=plan.cfg.batch_size), keep_predictions=True
    )
    return test, _equivariance(model, samples, plan.cfg, equivariance_error)


def assemble_results(plan: RunPlan, trained: TrainedFolds, command: str) -> dict[str, Any]:
    """Step 4, results: the validated ``results.json`` dict of the finished folds
    (:func:`sbbench.results.make_results`): the dataset's identity (name, version,
    sha256, options), the run's identity and hyperparameters, the split, the folds and
    the per-sample metadata of the leak checks."""
    from sbbench.results import dataset_sha256, geometry_hash, make_results

    cfg, dataset = plan.cfg, plan.dataset
    samples = [
        {
            "id": int(d.idx),
            "mol_id": int(d.mol_id) if getattr(d, "mol_id", None) is not None else None,
            "geometry_hash": geometry_hash(d.z, d.pos),
        }
        for d in dataset
    ]
    return make_results(
        dataset={
            "name": cfg.dataset,
            "version": str(getattr(dataset, "version", "unknown")),
            "sha256": dataset_sha256(dataset),
            "options": dict(getattr(dataset, "options", cfg.dataset_options)),
        },
        task=cfg.task or "default",
        model=cfg.model,
        symmetry_class=plan.symmetry_class,
        loss=cfg.loss,
        hyperparameters={"model": plan.hparams, "training": _training_hparams(cfg)},
        hparam_selection=cfg.hparam_selection,
        n_params=plan.n_params,
        split={
            "protocol": plan.protocol,
            "n_folds": len(plan.splits),
            "group_by": split_group_by(plan.protocol),
            "fractions": cfg.split_fractions,
        },
        folds=trained.folds,
        train_time_s=trained.train_time_s,
        command=command,
        loss_chamfer=cfg.chamfer.to_dict() if cfg.loss in ("cd", "sbcd") else None,
        samples=samples,
        device=cfg.device,
    )


def write_outputs(out: Path, plan: RunPlan, trained: TrainedFolds, results: dict) -> None:
    """Step 5, write: ``results.json`` and the figures (``curves.png``, ``arrows.png``)."""
    from sbbench.results import write_results

    write_results(out / "results.json", results)
    _plots(out, trained.curves, trained.folds, plan.dataset)


def run_experiment(
    cfg: RunConfig,
    out_dir: str | Path | None = None,
    *,
    quiet: bool = False,
    command: str | None = None,
) -> RunOutcome:
    """Run the k-fold cross-validation of ``cfg`` and write its outputs to ``out_dir``.

    The steps: :func:`prepare_run` (validate, data, splits; nothing written yet), then
    in ``out_dir`` ``config.yaml`` and ``run.log``, :func:`train_folds` (which trains and
    evaluates every (seed, fold): :func:`train_one_fold`, :func:`evaluate_fold`),
    :func:`assemble_results` and :func:`write_outputs`. A folder this call created is
    removed again if no fold finished.
    """
    plan = prepare_run(cfg)
    out = Path(out_dir) if out_dir is not None else default_out_dir(cfg)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    (out / "checkpoints").mkdir(exist_ok=True)
    handler = _setup_logging(out)
    trained: TrainedFolds | None = None
    try:
        atomic_write_text(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        log.info(
            "dataset %s: %d samples; model %s %s",
            cfg.dataset,
            len(plan.dataset),
            cfg.model,
            plan.hparams,
        )
        trained = train_folds(plan, out, quiet=quiet)
        if not trained.folds:
            raise KeyboardInterrupt if trained.interrupted else RuntimeError("no fold finished")
        results = assemble_results(plan, trained, command or _reproduce_command(cfg))
        write_outputs(out, plan, trained, results)
        return RunOutcome(results=results, out_dir=out, interrupted=trained.interrupted)
    except BaseException:
        if created and not (trained and trained.folds):  # leave no half-made folder
            log.removeHandler(handler)
            handler.close()
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        log.removeHandler(handler)
        handler.close()


def _training_hparams(cfg: RunConfig) -> dict[str, Any]:
    keys = ("epochs", "batch_size", "optimizer", "lr", "weight_decay", "scheduler", "folds")
    out = {k: getattr(cfg, k) for k in keys}
    if cfg.optimizer == "sgd":
        out["momentum"] = cfg.momentum
    return out


def _reproduce_command(cfg: RunConfig) -> str:
    argv = ["sbbench", *sys.argv[1:]] if sys.argv and "sbbench" in sys.argv[0] else None
    if argv:
        return shlex.join(argv)
    ds = cfg.dataset + (f":{cfg.task}" if cfg.task else "")
    return shlex.join(["sbbench", "run", "--model", cfg.model, "--dataset", ds])


def _equivariance(model, samples, cfg: RunConfig, measure) -> float | None:
    """Relative equivariance error of the trained model on (up to 64) test samples."""
    from torch_geometric.data import Batch

    if cfg.equivariance_samples <= 0:
        return None
    data = Batch.from_data_list(list(samples[: min(64, len(samples))]))
    try:
        return float(measure(model, data, n_samples=cfg.equivariance_samples))
    except ValueError as exc:  # e.g. an identically zero output
        log.warning("equivariance error not measured: %s", exc)
        return None


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_postfix(self, **kw: Any) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, quiet: bool):
    if quiet:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="epoch", dynamic_ncols=True, file=sys.stderr)


def _plots(out: Path, curves: list[dict[str, Any]], folds: list[dict[str, Any]], dataset) -> None:
    from ._plots import plot_arrows, plot_curves

    plot_curves(out / "curves.png", curves)
    first = folds[0]["predictions"][0]
    sample = dataset[int(first["id"])]
    plot_arrows(
        out / "arrows.png",
        sample.pos.numpy(),
        sample.z.numpy(),
        np.asarray(first["pred"]),
        np.asarray(first["target"]),
        title=f"sample {first['id']}",
    )
