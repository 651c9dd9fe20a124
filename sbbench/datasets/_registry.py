"""Name -> dataset class registry with lazy imports.

Datasets are registered with the :func:`register` decorator on their
:class:`~sbbench.datasets.SBDataset` subclass. So that :func:`names` lists
every dataset without importing heavy dependencies (h5py for QM7-X), each
registered name is also listed in :data:`MODULES` (name -> module path); the
module is imported the first time the dataset is requested.

Adding a dataset
----------------
1. Write ``sbbench/datasets/<module>.py`` (or a subpackage) with an
   :class:`~sbbench.datasets.SBDataset` subclass decorated by
   ``@register("<name>")``.
2. Add one line ``"<name>": "sbbench.datasets.<module>"`` to :data:`MODULES`.
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, Any

from sbbench.errors import InputError, NotFound

if TYPE_CHECKING:
    from ._base import SBDataset

__all__ = ["MODULES", "register", "names", "get_class", "load", "split_name"]

#: name -> module that defines (and registers) it; imported lazily by :func:`get_class`.
MODULES: dict[str, str] = {
    "square": "sbbench.datasets.square",
    "square_order_param": "sbbench.datasets.square",
    "shapes": "sbbench.datasets.shapes",
    "charged_particle": "sbbench.datasets.charged_particle",
    "h2o_modes": "sbbench.datasets.h2o_modes",
    "qm7x": "sbbench.datasets.qm7x",
}

_CLASSES: dict[str, type[SBDataset]] = {}


def register(name: str):
    """Class decorator registering an :class:`SBDataset` subclass under ``name``.

    Sets ``cls.name = name``. Registering a second class under a taken name is
    an error (it would silently shadow a benchmark dataset).
    """

    def deco(cls: type[SBDataset]) -> type[SBDataset]:
        if name in _CLASSES and _CLASSES[name] is not cls:
            raise ValueError(f"dataset name {name!r} is already registered by {_CLASSES[name]}")
        cls.name = name
        _CLASSES[name] = cls
        return cls

    return deco


def names() -> list[str]:
    """Sorted names of all datasets (registered or lazily importable)."""
    return sorted(set(MODULES) | set(_CLASSES))


def split_name(spec: str) -> tuple[str, str | None]:
    """``"h2o_modes:asym"`` -> ``("h2o_modes", "asym")``; ``"square"`` -> ``("square", None)``."""
    if not isinstance(spec, str) or not spec:
        raise InputError(f"dataset name must be a non-empty string, got {spec!r}")
    name, sep, task = spec.partition(":")
    if sep and not task:
        raise InputError(f"empty task in dataset name {spec!r}; use 'name' or 'name:task'")
    return name, (task if sep else None)


def get_class(name: str) -> type[SBDataset]:
    """The dataset class registered under ``name`` (importing its module if needed).

    Raises
    ------
    ValueError
        For an unknown name, listing the valid names and the closest match.
    """
    if name not in _CLASSES and name in MODULES:
        importlib.import_module(MODULES[name])
    if name not in _CLASSES:
        valid = names()
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise NotFound(f"unknown dataset {name!r}.{hint} Valid names: {', '.join(valid)}")
    return _CLASSES[name]


def load(name: str, *, root: str | None = None, **options: Any) -> SBDataset:
    """Load dataset ``name`` (``"name"`` or ``"name:task"``) with the given options.

    Parameters
    ----------
    name
        A name from :func:`names`, optionally ``"name:task"`` (e.g. ``"h2o_modes:asym"``),
        which is the same as passing ``task="asym"``.
    root
        Cache folder; default ``$SBBENCH_CACHE`` or ``~/.cache/sbbench``.
    **options
        Dataset options (see each dataset's class docstring and data card).
        Each distinct set of options is processed once and cached under its own folder.

    Returns
    -------
    SBDataset
        A :class:`torch_geometric.data.InMemoryDataset` of samples following the
        sbbench Data contract (``z``, ``pos``, ``y``, ``sym_ops``, ``num_ops``,
        ``orbit``, ``idx``, ...).

    Examples
    --------
    >>> ds = load("h2o_modes:asym")                                   # doctest: +SKIP
    >>> ds[0].y.shape                                                 # doctest: +SKIP
    torch.Size([3, 3])
    """
    base, task = split_name(name)
    if task is not None:
        if "task" in options and options["task"] != task:
            raise InputError(
                f"conflicting tasks: {name!r} names task {task!r} but task={options['task']!r}"
            )
        options["task"] = task
    return get_class(base)(root=root, **options)
