"""Tolerance sweeps: the point group of one structure at each of a grid of tolerances.

Near a threshold the detected group flips with small changes of ``tol`` (a slightly
distorted molecule is C3v at 0.05 Å and D3h at 0.2 Å); a sweep shows where. It is what
``sbbench symmetry FILE --sweep START:STOP[:STEP]`` prints, kept here so that notebooks
and scripts get the same rows, and the same JSON, as the command line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from numpy.typing import ArrayLike

from sbbench.errors import InputError

from ._group import CloseAtomsError, detect

__all__ = [
    "DEFAULT_SWEEP_STEP",
    "MAX_SWEEP_POINTS",
    "SweepPoint",
    "parse_sweep",
    "tolerance_sweep",
    "sweep_report",
    "tolerance_grid",
]

#: Step in Å of a sweep given as ``START:STOP`` (fine enough to see a flip between two
#: printed digits of ``tol``).
DEFAULT_SWEEP_STEP = 0.01
#: Most tolerances one sweep may ask for: each is a full detection, so a grid this long
#: already takes minutes for a large molecule; a longer one is a typo in STEP.
MAX_SWEEP_POINTS = 10_000


@dataclass(frozen=True)
class SweepPoint:
    """The detection at one tolerance of a sweep.

    Attributes
    ----------
    tol : float
        The tolerance in Å.
    schoenflies, label : str or None
        ``PointGroup.schoenflies`` and ``PointGroup.label``; None where detection failed.
    order : int or None
        Number of operations returned; None where detection failed.
    error : str or None
        Why detection failed at this tolerance (e.g. mapped atoms collide because
        ``tol`` is comparable to the bond lengths); None where it succeeded.
    """

    tol: float
    schoenflies: str | None
    order: int | None
    label: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready row: ``tol, schoenflies, order`` and then ``label`` (success) or
        ``error`` (failure), the keys ``sbbench symmetry --sweep --json`` prints."""
        row: dict[str, Any] = {"tol": self.tol, "schoenflies": self.schoenflies}
        row["order"] = self.order
        if self.error is None:
            row["label"] = self.label
        else:
            row["error"] = self.error
        return row


def tolerance_grid(
    start: float, stop: float, step: float = DEFAULT_SWEEP_STEP, *, name: str = "sweep"
) -> list[float]:
    """Tolerances ``start, start + step, ...`` up to ``stop`` (inclusive), in Å.

    The count is rounded, so ``stop`` is hit despite floating-point steps, and every
    value is rounded to 10 decimals (0.1 + 2 * 0.1 prints as 0.3, not 0.30000000000000004).

    Parameters
    ----------
    start, stop : float
        First and last tolerance in Å, ``0 < start <= stop``.
    step : float
        Spacing in Å, > 0 (default :data:`DEFAULT_SWEEP_STEP`).
    name : str
        What the error messages call the sweep (the command line passes ``"--sweep"``).

    Returns
    -------
    list of float

    Raises
    ------
    ValueError
        If ``start <= 0``, ``start > stop`` or ``step <= 0`` (or any is not finite), or the grid
        would hold more than :data:`MAX_SWEEP_POINTS` tolerances.
    """
    return _grid(start, stop, step, name, f"{start:g}:{stop:g}:{step:g}")


def _grid(start: float, stop: float, step: float, name: str, shown: str) -> list[float]:
    """:func:`tolerance_grid`, its messages quoting ``shown`` (the spec as the user wrote it)."""
    finite = all(math.isfinite(v) for v in (start, stop, step))
    if not finite or not (0 < start <= stop) or not step > 0:
        raise InputError(f"{name} needs 0 < START <= STOP and STEP > 0, got {shown!r}")
    count = int(round((stop - start) / step)) + 1
    if count > MAX_SWEEP_POINTS:
        raise InputError(f"{name} {shown!r} asks for {count} tolerances; use a larger STEP")
    return [round(start + k * step, 10) for k in range(count)]


def parse_sweep(spec: str, *, name: str = "sweep") -> list[float]:
    """The tolerances of a sweep written ``START:STOP[:STEP]`` (Å), see :func:`tolerance_grid`.

    Parameters
    ----------
    spec : str
        E.g. ``"0.01:0.5"`` (step :data:`DEFAULT_SWEEP_STEP`) or ``"0.01:0.5:0.05"``.
    name : str
        What the error messages call the sweep (the command line passes ``"--sweep"``).

    Raises
    ------
    ValueError
        If ``spec`` is not two or three numbers separated by ``:``, or the numbers are
        rejected by :func:`tolerance_grid`; the message quotes ``spec`` as given.
    """
    try:
        vals = [float(p) for p in spec.split(":")]
    except ValueError:
        raise InputError(f"{name} must be START:STOP[:STEP] in Å, got {spec!r}") from None
    if len(vals) not in (2, 3):
        raise InputError(f"{name} must be START:STOP[:STEP] in Å, got {spec!r}")
    step = vals[2] if len(vals) == 3 else DEFAULT_SWEEP_STEP
    return _grid(vals[0], vals[1], step, name, spec)


def tolerance_sweep(
    positions: ArrayLike, numbers: ArrayLike | None, tolerances: Sequence[float]
) -> list[SweepPoint]:
    """Detect the point group of one structure at each tolerance.

    A tolerance at which detection fails (too large: mapped atoms collide, or the
    accepted operations generate more than any point group of the structure) gives a
    :class:`SweepPoint` with ``error`` set, and the sweep goes on: where a sweep stops
    making sense is part of its answer.

    Parameters
    ----------
    positions : array_like, (N, 3)
        Cartesian positions in Å.
    numbers : array_like, (N,), optional
        Atomic numbers (only equality matters); None means all atoms are alike.
    tolerances : sequence of float
        Tolerances in Å, e.g. from :func:`tolerance_grid` or :func:`parse_sweep`.

    Returns
    -------
    list of SweepPoint
        One per tolerance, in the given order.

    Raises
    ------
    CloseAtomsError
        If two atoms are closer than :data:`MIN_DISTANCE`: bad input at every
        tolerance, so one error rather than a failed row per tolerance.
    ValueError
        If ``tolerances`` is empty (a sweep of nothing is a caller's mistake).
    """
    if len(tolerances) == 0:
        raise ValueError("a tolerance sweep needs at least one tolerance")
    points = []
    for tol in tolerances:
        try:
            pg = detect(positions, numbers, tol=tol)
        except CloseAtomsError:
            raise
        except ValueError as exc:
            points.append(SweepPoint(tol=tol, schoenflies=None, order=None, error=str(exc)))
            continue
        points.append(SweepPoint(tol, pg.schoenflies, pg.order, label=pg.label))
    return points


def sweep_report(points: Sequence[SweepPoint], **about: Any) -> dict[str, Any]:
    """JSON-ready document of a sweep: ``about`` first, then ``"sweep"``: one row per point.

    Parameters
    ----------
    points : sequence of SweepPoint
        What :func:`tolerance_sweep` returned.
    **about
        JSON-ready facts about the input placed before the rows (the command line
        passes ``file=``).

    Returns
    -------
    dict
        ``{**about, "sweep": [point.as_dict(), ...]}``; ``json.dumps`` takes it as is.
    """
    return {**about, "sweep": [p.as_dict() for p in points]}
