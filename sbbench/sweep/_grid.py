"""Hyperparameter grids for ``sbbench sweep`` (SANN paper appendix C.3, Tables 5 and 6).

A grid file is YAML::

    name: egnn_synthetic      # optional; default: the file name without .yaml
    model: egnn
    dataset: square           # dataset[:task]; ``sbbench sweep --dataset`` overrides it
    seeds: [0, 1, 2]          # optional; default [0]
    base:                     # optional RunConfig keys for every point (like --config)
      epochs: 100
    grid:                     # the cartesian product of these lists, in this order
      layers: [1, 2, 3, 5, 7]
      hidden: [32, 64, 128]

A ``grid`` key naming a :class:`~sbbench.training.RunConfig` field (``lr``,
``batch_size``, ``loss``, ...) sets that field; any other key is a model
hyperparameter (``model_hparams``). Every (grid point, seed) becomes one task:
``sbbench run`` with that point's config and ``--seed``, so each task's config
is the baseline YAML of the model and dataset, then ``base``, then the point,
then ``--quick`` (the resolution order of :func:`~sbbench.training.resolve_config`).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import itertools
import re
from pathlib import Path
from typing import Any

import yaml

from sbbench.errors import InputError, NotFound
from sbbench.training import RunConfig, resolve_config

__all__ = ["Grid", "GridPoint", "SweepTask", "load_grid", "expand"]

_TOP_KEYS = ("name", "model", "dataset", "seeds", "base", "grid")
# RunConfig fields a grid sets elsewhere (model, dataset, seeds) or that the sweep owns.
_RESERVED = ("model", "dataset", "task", "seeds", "threads", "hparam_selection", "baseline")
_RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))


@dataclasses.dataclass(frozen=True)
class GridPoint:
    """One point of a grid: ``values`` of the grid keys and its directory name ``id``."""

    id: str
    values: dict[str, Any]


@dataclasses.dataclass
class Grid:
    """A parsed grid file (see the module docstring for the format)."""

    name: str
    model: str
    dataset: str
    seeds: list[int]
    base: dict[str, Any]
    axes: dict[str, list[Any]]
    source: str = "<dict>"

    def points(self) -> list[GridPoint]:
        """The cartesian product of :attr:`axes`, first key varying slowest."""
        keys = list(self.axes)
        points = []
        for combo in itertools.product(*(self.axes[k] for k in keys)):
            values = dict(zip(keys, combo, strict=True))
            points.append(GridPoint(id=_point_id(values), values=values))
        ids = [p.id for p in points]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup is not None:
            raise InputError(f"{self.source}: two grid points share the directory name {dup!r}")
        return points


@dataclasses.dataclass
class SweepTask:
    """One (grid point, seed): a full :class:`RunConfig` and where its outputs go."""

    point: GridPoint
    seed: int
    config: RunConfig

    @property
    def rel_dir(self) -> Path:
        """``<grid-point-id>/seed<k>``, relative to the sweep's output folder."""
        return Path(self.point.id) / f"seed{self.seed}"

    @property
    def label(self) -> str:
        return f"{self.point.id} seed {self.seed}"


def _point_id(values: dict[str, Any]) -> str:
    """A readable, filesystem-safe directory name, e.g. ``layers-3_hidden-64``."""
    if not values:
        return "default"
    parts = [f"{key}-{re.sub(r'[^A-Za-z0-9.+-]+', '', str(v)) or 'x'}" for key, v in values.items()]
    return "_".join(parts)


def _close(word: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(word, valid, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_hparam_names(model: str, source: str) -> set[str]:
    """Hyperparameter names ``sbbench.models.build(model, ...)`` accepts."""
    from sbbench.models import MODIFIERS, model_class

    base, *mods = model.lower().split("+")
    try:
        cls = model_class(base)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None
    params = inspect.signature(cls.__init__).parameters
    names = {p for p in params if p not in ("self", "args", "kwargs")}
    for mod in mods:
        if mod not in MODIFIERS:
            raise InputError(f"{source}: unknown modifier '+{mod}'{_close(mod, list(MODIFIERS))}")
        names.update(MODIFIERS[mod])
    return names


def _check_grid(data: Any, source: str) -> Grid:
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping with keys {', '.join(_TOP_KEYS)}")
    for key in data:
        if key not in _TOP_KEYS:
            raise InputError(f"{source}: unknown key {key!r}{_close(str(key), list(_TOP_KEYS))}")
    for key in ("model", "dataset", "grid"):
        if key not in data:
            raise InputError(f"{source}: missing required key {key!r}")
    for key in ("model", "dataset"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise InputError(f"{source}: {key!r} must be a non-empty string")
    seeds = data.get("seeds", [0])
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise InputError(f"{source}: 'seeds' must be a non-empty list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise InputError(f"{source}: 'seeds' repeats a seed: {seeds}")
    base = data.get("base") or {}
    if not isinstance(base, dict):
        raise InputError(f"{source}: 'base' must be a mapping of RunConfig keys")
    allowed = [f for f in _RUN_FIELDS if f not in _RESERVED]
    for key in base:
        if key not in allowed:
            raise InputError(f"{source}: base: unknown config key {key!r}{_close(key, allowed)}")
    axes = data["grid"]
    if not isinstance(axes, dict) or not axes:
        raise InputError(f"{source}: 'grid' must be a non-empty mapping of key -> list of values")
    hparams = _model_hparam_names(data["model"], source)
    for key, values in axes.items():
        if not isinstance(key, str):
            raise InputError(f"{source}: grid: key {key!r} is not a string")
        if key in _RESERVED or key in ("model_hparams", "dataset_options"):
            raise InputError(f"{source}: grid: {key!r} cannot be a grid axis")
        if key not in _RUN_FIELDS and key not in hparams:
            raise InputError(
                f"{source}: grid: {key!r} is neither a RunConfig field nor a hyperparameter of "
                f"model {data['model']!r}{_close(key, sorted(hparams) + allowed)}"
            )
        if not isinstance(values, list) or not values:
            raise InputError(f"{source}: grid: {key!r} must be a non-empty list of values")
    name = data.get("name") or Path(source).stem
    return Grid(
        name=str(name),
        model=data["model"].strip(),
        dataset=data["dataset"].strip(),
        seeds=list(seeds),
        base=dict(base),
        axes={k: list(v) for k, v in axes.items()},
        source=source,
    )


def load_grid(path: str | Path) -> Grid:
    """Read and check a grid YAML file; ValueError naming the file and key on bad input."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"grid file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    return _check_grid(data, str(path))


def expand(
    grid: Grid,
    *,
    dataset: str | None = None,
    seeds: list[int] | None = None,
    quick: bool = False,
) -> list[SweepTask]:
    """All (grid point, seed) tasks of ``grid``, each with its resolved :class:`RunConfig`.

    Parameters
    ----------
    grid
        From :func:`load_grid`.
    dataset, seeds
        Override the grid's ``dataset`` (``name[:task]``) and ``seeds``.
    quick
        Apply ``sbbench run --quick`` (few epochs, 2 folds) to every task.
    """
    dataset = dataset or grid.dataset
    seeds = list(seeds) if seeds else grid.seeds
    tasks = []
    for point in grid.points():
        hparams = {k: v for k, v in point.values.items() if k not in _RUN_FIELDS}
        training = {k: v for k, v in point.values.items() if k in _RUN_FIELDS}
        for seed in seeds:
            overrides = {
                **grid.base,
                **training,
                "model_hparams": {**grid.base.get("model_hparams", {}), **hparams},
                "seeds": [seed],
                "threads": 1,
                "hparam_selection": f"grid search {grid.name}: {point.id}",
            }
            cfg = resolve_config(grid.model, dataset, overrides=overrides, quick=quick)
            tasks.append(SweepTask(point=point, seed=seed, config=cfg))
    return tasks
