"""The benchmark's shared vocabulary: typed definitions that every layer imports.

One definition each, so that metrics, datasets, training, results, leaderboards and
``sbbench reproduce`` cannot disagree:

* :class:`ChamferConvention`: which Chamfer distance a score or a loss is (the keyword
  arguments of :func:`sbbench.metrics.chamfer`), with the two conventions the benchmark
  reports, :data:`SBBENCH_DEFAULT` and :data:`SANN_PAPER`. Results files record a
  convention as its mapping (:meth:`ChamferConvention.to_dict`); read one back with
  :meth:`ChamferConvention.from_dict` and compare objects, not JSON text
  (``{"symmetric": false, "reduction": "sum"}`` *is* :data:`SANN_PAPER`).
* :data:`SplitProtocol` / :data:`SPLIT_PROTOCOLS`: the split protocols of
  :func:`sbbench.datasets.kfold`, of a dataset's ``protocol`` and of a results file's
  ``split.protocol``; :func:`split_group_by` says what a protocol keeps together.

This module imports nothing of sbbench (it sits below every other module).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, get_args

from sbbench.errors import InputError

__all__ = [
    "ChamferConvention",
    "Reduction",
    "REDUCTIONS",
    "SBBENCH_DEFAULT",
    "SANN_PAPER",
    "SplitProtocol",
    "SPLIT_PROTOCOLS",
    "check_split_protocol",
    "split_group_by",
]

Reduction = Literal["mean", "sum"]
"""How a Chamfer direction reduces over points: the mean (sbbench) or the sum (SANN)."""
REDUCTIONS: tuple[Reduction, ...] = get_args(Reduction)


@dataclasses.dataclass(frozen=True)
class ChamferConvention:
    """A Chamfer convention: the keyword arguments of :func:`sbbench.metrics.chamfer`.

    ``symmetric``: :math:`d(X\\to Y) + d(Y\\to X)` (True) or the one-sided
    :math:`d(X\\to Y)` (False, which a prediction collapsed onto one target point
    games); ``reduction``: mean or sum over the points of each direction; ``squared``:
    squared or plain Euclidean distances. The defaults are :data:`SBBENCH_DEFAULT`.
    Instances are immutable, hashable and compare by value.
    """

    symmetric: bool = True
    reduction: Reduction = "mean"
    squared: bool = True

    #: the keys of :meth:`to_dict`, in the order results files record them
    KEYS = ("symmetric", "reduction", "squared")

    def __post_init__(self) -> None:
        for key in ("symmetric", "squared"):
            value = getattr(self, key)
            if not isinstance(value, bool):
                raise InputError(f"Chamfer convention: {key} must be true or false, got {value!r}")
        if not isinstance(self.reduction, str) or self.reduction not in REDUCTIONS:
            raise InputError(
                f"Chamfer convention: reduction must be one of {', '.join(REDUCTIONS)}, "
                f"got {self.reduction!r}"
            )

    @classmethod
    def from_dict(cls, value: Mapping[str, Any], *, what: str = "Chamfer convention"):
        """The convention of a recorded mapping (``loss_chamfer``, a config's value).

        Missing keys take the :data:`SBBENCH_DEFAULT` value (as :func:`~sbbench.metrics.
        chamfer`'s defaults do). Raises InputError (a ValueError), prefixed with ``what``, for a
        non-mapping, an unknown key or a value of the wrong type.
        """
        if isinstance(value, ChamferConvention):
            return value
        if not isinstance(value, Mapping):
            raise InputError(f"{what} must be a mapping of {', '.join(cls.KEYS)}, got {value!r}")
        unknown = sorted((str(k) for k in value if k not in cls.KEYS), key=str)
        if unknown:
            raise InputError(f"{what}: unknown key {unknown[0]!r} (valid: {', '.join(cls.KEYS)})")
        try:
            return cls(**dict(value))
        except InputError as exc:
            raise InputError(str(exc).replace("Chamfer convention", what, 1)) from None

    def to_dict(self) -> dict[str, Any]:
        """``{"symmetric", "reduction", "squared"}``: the keyword arguments, as recorded."""
        return {k: getattr(self, k) for k in self.KEYS}

    @property
    def one_sided(self) -> bool:
        """Whether this is a one-sided distance (the SANN paper's m(X, Y) is)."""
        return not self.symmetric

    def __str__(self) -> str:
        name = {SBBENCH_DEFAULT: " (sbbench default)", SANN_PAPER: " (SANN paper)"}
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.KEYS)
        return args + name.get(self, "")


SBBENCH_DEFAULT = ChamferConvention(symmetric=True, reduction="mean", squared=True)
"""The leaderboards' CD/SBCD: symmetric, mean-reduced, squared (pytorch3d's default)."""

SANN_PAPER = ChamferConvention(symmetric=False, reduction="sum", squared=True)
"""The SANN paper's m(X, Y) below its eq. 3: one-sided, summed, squared (its tables use
it; as a training loss it rewards predictions that collapse onto one target point)."""


SplitProtocol = Literal["same", "random", "grouped"]
"""A split protocol:

``same``     train = val = test = every sample (the SANN toy tasks, Sec. 6.1-6.2)
``random``   random parts of the samples: conformers of one molecule can fall into both
             train and test (the SANN paper's QM7-X protocol, Sec. 6.3)
``grouped``  random parts of the molecules (``mol_id``): no molecule is in two parts
"""
SPLIT_PROTOCOLS: tuple[SplitProtocol, ...] = get_args(SplitProtocol)

_GROUP_BY: dict[str, str | None] = {"same": None, "random": None, "grouped": "molecule"}


def check_split_protocol(value: Any, *, what: str = "split protocol") -> SplitProtocol:
    """``value`` if it is a :data:`SplitProtocol`, else InputError naming ``what``."""
    if not isinstance(value, str) or value not in SPLIT_PROTOCOLS:
        raise InputError(f"{what} must be one of {', '.join(SPLIT_PROTOCOLS)}, got {value!r}")
    return value  # type: ignore[return-value]


def split_group_by(protocol: SplitProtocol) -> str | None:
    """What ``protocol`` keeps in one part: ``"molecule"`` for grouped, else None."""
    return _GROUP_BY[check_split_protocol(protocol)]
