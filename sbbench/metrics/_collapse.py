r"""Collapse detection: predictions whose per-atom vectors nearly coincide.

The one-sided Chamfer distance :math:`m(X, Y) = \sum_i \min_j \lVert x_i - y_j\rVert^2`
of the SANN paper (below eq. 3) is zero whenever every predicted point sits on
*some* target point, so a prediction that puts all its points on one target
point scores a perfect 0. Such a prediction has (almost) no spread. With the
RMS spread of a cloud :math:`V = \{v_i\}_{i=1}^N`,

.. math::

    s(V) = \sqrt{\frac{1}{N} \sum_{i=1}^{N} \lVert v_i - \bar v \rVert^2},
    \qquad \bar v = \frac{1}{N} \sum_i v_i ,

a prediction is flagged as *collapsed* when :math:`s(\mathrm{pred}) / s(\mathrm{target})`
is below :data:`COLLAPSE_THRESHOLD`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ._validate import check_cloud, to_tensor

__all__ = ["COLLAPSE_THRESHOLD", "spread", "spread_ratio", "is_collapsed", "count_collapsed"]

COLLAPSE_THRESHOLD = 0.1
"""Default spread ratio below which a prediction counts as collapsed: 10 % of the
target's RMS spread, i.e. 1 % of its variance."""

DEGENERATE_RTOL = 1e-12
"""A target whose spread is at most ``DEGENERATE_RTOL * max(1, max|target|)`` has no
spread to compare with; :func:`spread_ratio` is then NaN."""


def _cloud(v: Any, name: str) -> torch.Tensor:
    t = to_tensor(v, name)
    check_cloud(t, name)
    return t.detach().to(device="cpu", dtype=torch.float64)


def _spread(t: torch.Tensor) -> float:
    return float((t - t.mean(dim=0)).square().sum(dim=1).mean().sqrt())


def spread(v: Any) -> float:
    r"""RMS distance of the rows of ``v`` (N, D) to their centroid.

    :math:`s(V) = \sqrt{\frac{1}{N}\sum_i \lVert v_i - \bar v\rVert^2}`, computed
    in float64 and returned as a Python float. Invariant to rotations and
    translations of the cloud and to the order of its rows.
    """
    return _spread(_cloud(v, "v"))


def spread_ratio(pred: Any, target: Any) -> float:
    r"""``spread(pred) / spread(target)``, or NaN where the target has no spread.

    Parameters
    ----------
    pred, target
        (N, D) and (M, D) clouds of per-atom vectors (tensor or numpy; N and M
        may differ, D must agree).

    Returns
    -------
    The ratio as a Python float. When
    ``spread(target) <= 1e-12 * max(1, max|target|)`` the ratio is undefined
    and ``float('nan')`` is returned (never inf).
    """
    p, t = _cloud(pred, "pred"), _cloud(target, "target")
    if p.shape[1] != t.shape[1]:
        raise ValueError(f"pred has D = {p.shape[1]} but target has D = {t.shape[1]}")
    st = _spread(t)
    if st <= DEGENERATE_RTOL * max(1.0, float(t.abs().max())):
        return float("nan")
    return _spread(p) / st


def _check_threshold(threshold: float) -> float:
    try:
        th = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number, got {threshold!r}") from None
    if not (math.isfinite(th) and th > 0):
        raise ValueError(f"threshold must be a finite number > 0, got {threshold!r}")
    return th


def is_collapsed(pred: Any, target: Any, *, threshold: float = COLLAPSE_THRESHOLD) -> bool:
    r"""Whether ``pred`` has collapsed: ``spread_ratio(pred, target) < threshold``.

    A prediction whose per-atom vectors nearly coincide (all on one target
    point, or all ~0) can score ~0 under the one-sided :math:`m(X, Y)` of the
    SANN paper (``chamfer(pred, target, symmetric=False, reduction="sum")``)
    while carrying none of the target's structure. Comparing its RMS spread with
    the target's separates those from genuine fits: the default threshold, 10 %
    of the target's RMS spread (1 % of its variance), is far below the spread
    of any prediction that resembles the target and far above that of a
    collapsed one. The test is invariant to rotations and translations of
    either cloud and to atom order, so it needs no alignment or matching.

    An equivariant model stuck at the Curie floor of a mode that the symmetry
    kills (the symmetrized target is 0, so the best equivariant prediction is
    ~0 everywhere) is flagged too, correctly: its prediction carries no
    structure.

    Parameters
    ----------
    pred, target
        (N, D) and (M, D) clouds (tensor or numpy).
    threshold
        Spread ratio below which the prediction counts as collapsed
        (default :data:`COLLAPSE_THRESHOLD` = 0.1); the comparison is strict.

    Returns
    -------
    A Python bool; False when the ratio is NaN (the target itself has no spread).
    """
    th = _check_threshold(threshold)
    r = spread_ratio(pred, target)
    return bool(r < th)  # NaN < th is False


def count_collapsed(
    preds: Sequence[Any], targets: Sequence[Any], *, threshold: float = COLLAPSE_THRESHOLD
) -> int:
    """Number of samples for which :func:`is_collapsed` holds.

    ``preds[k]`` and ``targets[k]`` are the clouds of sample k (sequences of equal
    length; a (K, N, D) array works too). Returns a Python int.
    """
    if len(preds) != len(targets):
        raise ValueError(
            f"preds and targets must have equal length, got {len(preds)} and {len(targets)}"
        )
    th = _check_threshold(threshold)
    return sum(is_collapsed(p, t, threshold=th) for p, t in zip(preds, targets, strict=True))
