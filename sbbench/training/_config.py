"""Run configuration: the papers' defaults from ``baselines/``, overridden by flags.

Resolution order (later wins):

1. :class:`RunConfig` field defaults (the SANN paper's protocol: AdamW,
   OneCycle with max lr 1e-4, 100 epochs, 10 folds; loss SBMSE, see :data:`LOSSES`);
2. the baseline, :func:`baseline_files` merged in this order, each file only what
   differs from what comes before it:

   a. ``baselines/datasets/<dataset>.yaml``: the training protocol of the paper the
      dataset comes from, for every model;
   b. ``baselines/<model>/defaults.yaml``: the model's size, on every dataset;
   c. ``baselines/<model>/<dataset>.yaml``, where the model departs from a. or b. on
      that dataset;

   ``<model>`` is the registry spelling (``dimenet++`` for ``dimenetpp``), the folder of
   the name with its modifiers if there is one, else of the base model (``egnn+mlp``
   uses ``baselines/egnn/``);
3. a ``--config FILE`` (same YAML keys);
4. command-line flags; ``--quick`` last (few epochs, 2 folds, tiny widths kept).

Mappings (``model_hparams``, ``dataset_options``, ``loss_chamfer``) merge key by key;
every other value replaces the one before. Every override is applied as given, ``None``
included (``split: None`` means the dataset's own protocol); flags a user did not give
are simply not passed.

A baseline or ``--config`` YAML holds any :class:`RunConfig` field, each of the field's
type (a file with an unknown key or a value of the wrong type is an error naming the
file and the key), e.g.::

    epochs: 100
    folds: 10
    optimizer: adamw
    lr: 1.0e-4
    scheduler: onecycle
    model_hparams: {hidden: 64, layers: 3}
    dataset_options: {}
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from .._vocabulary import SANN_PAPER, SBBENCH_DEFAULT, SPLIT_PROTOCOLS, ChamferConvention
from ..errors import InputError, NotFound

__all__ = [
    "RunConfig",
    "resolve_config",
    "baseline_file",
    "baseline_files",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULERS",
    "PAPER_CHAMFER",
]

LOSSES = ("sbmse", "sbcd", "cd", "mse")
"""Training losses (:func:`sbbench.training.make_loss`). ``sbmse`` (default): the
correspondence-aware symmetry-breaking MSE, min over g in Sym(x) of the per-atom error
against g·y; ``sbcd``/``cd``: (symmetry-breaking) Chamfer distance in the convention
``loss_chamfer``; ``mse``: plain per-component MSE (relaxed-E(3) tasks)."""

PAPER_CHAMFER = SANN_PAPER.to_dict()
"""The SANN paper's one-sided m(X, Y) (below its eq. 3), :data:`sbbench._vocabulary.SANN_PAPER`
as a mapping. As a training loss it rewards predictions that collapse onto one target
point; use it only to reproduce the paper."""

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULERS = ("onecycle", "constant")


@dataclasses.dataclass
class RunConfig:
    """Everything that determines a run; saved as ``config.yaml`` next to the results."""

    model: str
    dataset: str
    task: str | None = None
    dataset_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    model_hparams: dict[str, Any] = dataclasses.field(default_factory=dict)
    folds: int = 10
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0])
    epochs: int = 100
    batch_size: int = 32
    optimizer: str = "adamw"
    lr: float = 1e-4
    weight_decay: float = 1e-2
    momentum: float = 0.9
    scheduler: str = "onecycle"
    loss: str = "sbmse"
    loss_chamfer: dict[str, Any] = dataclasses.field(default_factory=SBBENCH_DEFAULT.to_dict)
    split: str | None = None
    split_fractions: list[float] | None = None
    device: str = "cpu"
    threads: int | None = None
    equivariance_samples: int = 2
    hparam_selection: str = "paper defaults (baselines/)"
    baseline: str | None = None

    def validate(self) -> None:
        """Raise :class:`~sbbench.errors.InputError` naming the first bad field (its
        ``key`` attribute is the field's name)."""
        for name in ("folds", "epochs", "batch_size", "lr", "seeds", "loss", "optimizer"):
            if getattr(self, name) is None:
                raise _bad(name, f"{name} may not be null")
        if self.split is not None and self.split not in SPLIT_PROTOCOLS:
            raise _bad(
                "split",
                f"split must be one of {', '.join(SPLIT_PROTOCOLS)} (or null for the "
                f"dataset's own protocol); got {self.split!r}",
            )
        if not isinstance(self.loss_chamfer, dict):
            raise _bad("loss_chamfer", f"loss_chamfer must be a mapping, got {self.loss_chamfer!r}")
        try:
            ChamferConvention.from_dict(self.loss_chamfer, what="loss_chamfer")
        except InputError as exc:
            raise _bad("loss_chamfer", str(exc)) from None
        checks = [
            ("loss", self.loss, LOSSES),
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("scheduler", self.scheduler, SCHEDULERS),
            ("device", self.device, ("cpu", "cuda")),
        ]
        for name, value, valid in checks:
            if value not in valid:
                close = difflib.get_close_matches(str(value), valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise _bad(name, f"{name} must be one of {', '.join(valid)}; got {value!r}{hint}")
        for name in ("folds", "epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise _bad(name, f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise _bad("lr", f"lr must be > 0, got {self.lr}")
        if not self.seeds:
            raise _bad("seeds", "at least one seed is needed")

    @property
    def chamfer(self) -> ChamferConvention:
        """``loss_chamfer`` as a :class:`~sbbench._vocabulary.ChamferConvention` (the
        convention of a cd/sbcd training loss); InputError naming ``loss_chamfer``."""
        return ChamferConvention.from_dict(self.loss_chamfer, what="loss_chamfer")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _bad(key: str, message: str) -> InputError:
    """An :class:`~sbbench.errors.InputError` about config key ``key`` (its ``key``
    attribute), for :func:`resolve_config` to name the file the value came from."""
    exc = InputError(message)
    exc.key = key  # type: ignore[attr-defined]
    return exc


def _baselines_dir() -> Path:
    from sbbench._paths import repo_root

    root = repo_root()
    if root is not None:
        return root / "baselines"
    from importlib import resources

    # A data-only (namespace) package: files() gives a MultiplexedPath whose str() is
    # not a path, so resolve a file inside it and take its folder.
    return Path(str(resources.files("sbbench._baselines").joinpath("README.md"))).parent


#: folders of baselines/ that are not a model's
_NOT_MODELS = ("datasets", "hessian", "grids")


def _model_folder(model: str) -> Path | None:
    """``baselines/<model>/`` for ``model`` (registry spelling, else its base), if any."""
    from sbbench.models._registry import parse, registry_name

    base = _baselines_dir()
    try:  # baselines/ folders use the registry's spelling (dimenet++), not an alias
        candidates = (registry_name(model), parse(model)[0])
    except ValueError:  # an unknown name: the caller's model check reports it
        candidates = (model, model.split("+")[0])
    for m in candidates:
        if m not in _NOT_MODELS and (base / m).is_dir():
            return base / m
    return None


def _registry_spelling(model: str) -> str:
    """``model`` as the registry spells it (``dimenetpp+mlp`` -> ``dimenet+++mlp``), so
    that results, run folders and leaderboard rows carry one name per model whichever
    alias was typed; an unknown name is returned as given (the caller's model check
    reports it)."""
    from sbbench.models._registry import registry_name

    try:
        return registry_name(model)
    except ValueError:
        return model


def baseline_files(model: str, dataset: str) -> list[Path]:
    """The baseline YAMLs of ``model`` on ``dataset`` (``name`` without ``:task``), in the
    order :func:`resolve_config` merges them: ``datasets/<dataset>.yaml``,
    ``<model>/defaults.yaml``, ``<model>/<dataset>.yaml``, those that exist."""
    candidates = [_baselines_dir() / "datasets" / f"{dataset}.yaml"]
    folder = _model_folder(model)
    if folder is not None:
        candidates += [folder / "defaults.yaml", folder / f"{dataset}.yaml"]
    return [p for p in dict.fromkeys(candidates) if p.is_file()]


def baseline_file(model: str, dataset: str) -> Path | None:
    """``baselines/<model>/<dataset>.yaml``: what ``model`` does differently on ``dataset``,
    if anything (the whole baseline: :func:`baseline_files`)."""
    folder = _model_folder(model)
    path = None if folder is None else folder / f"{dataset}.yaml"
    return path if path is not None and path.is_file() and dataset != "defaults" else None


_TYPES = typing.get_type_hints(RunConfig)


def _is(value: Any, hint: Any) -> bool:
    """Whether a YAML value has type ``hint`` (an annotation of a :class:`RunConfig` field)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint in (int, float) and isinstance(value, bool):
        return False
    if hint is float:
        return isinstance(value, (int, float))
    if origin is dict:
        return isinstance(value, dict) and all(_is(k, args[0]) for k in value)
    if origin is list:
        return isinstance(value, list) and all(_is(v, args[0]) for v in value)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _type_name(a) for a in args)
    if origin is dict:
        return "a mapping"
    if origin is list:
        return f"a list of {_type_name(args[0]).removeprefix('a ').removeprefix('an ')}s"
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _check_types(path: Path, data: dict[str, Any]) -> None:
    for key, value in data.items():
        hint = _TYPES[key]
        if _is(value, hint):
            continue
        note = ""
        if isinstance(value, str) and _is(1.0, hint):
            try:
                float(value)
                note = f" (YAML reads {value} as text: write it with a decimal point, e.g. 1.0e-4)"
            except ValueError:
                pass
        raise InputError(
            f"{path}: {key} must be {_type_name(hint)}, got {value!r} "
            f"({type(value).__name__}){note}"
        )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    unknown = sorted(set(data) - fields, key=str)
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"{path}: unknown config key {unknown[0]!r}{hint}")
    _check_types(path, data)
    return data


def _merge(cfg: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value


QUICK = {"epochs": 3, "folds": 2}
"""What ``--quick`` sets: a smoke run that exercises every step in seconds."""


def resolve_config(
    model: str,
    dataset: str,
    *,
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    quick: bool = False,
) -> RunConfig:
    """Build the :class:`RunConfig` for ``model`` on ``dataset`` (``"h2o_modes:asym"`` allowed).

    Bad keys, types and values are an :class:`~sbbench.errors.InputError` that names the
    file the value came from (a baseline YAML or ``config_file``) and the key; a missing
    ``config_file`` is a :class:`~sbbench.errors.NotFound`.
    """
    name, _, task = dataset.partition(":")
    cfg: dict[str, Any] = RunConfig(model=model, dataset=name).to_dict()
    origin: dict[str, Path | None] = {}  # key -> the file its value came from
    paths = baseline_files(model, name)
    for path in paths:
        data = _read_yaml(path)
        _merge(cfg, data)
        origin.update(dict.fromkeys(data, path))
    if paths:
        cfg["baseline"] = " + ".join(f"baselines/{p.parent.name}/{p.name}" for p in paths)
    if config_file is not None:
        p = Path(config_file)
        if not p.is_file():
            raise NotFound(f"config file {p} does not exist")
        data = _read_yaml(p)
        _merge(cfg, data)
        origin.update(dict.fromkeys(data, p))
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    for key in overrides or {}:
        if key not in fields:
            raise InputError(f"unknown config key {key!r} in overrides")
    _merge(cfg, dict(overrides or {}))
    origin.update(dict.fromkeys(overrides or {}))
    if quick:
        _merge(cfg, QUICK)
        origin.update(dict.fromkeys(QUICK))
    cfg["model"], cfg["dataset"] = _registry_spelling(model), name
    if task:
        cfg["task"] = task
    run = RunConfig(**cfg)
    try:
        run.validate()
    except InputError as exc:
        where = origin.get(getattr(exc, "key", ""))
        if where is None:
            raise
        raise InputError(f"{where}: {exc}") from None
    return run
