r"""Chamfer distance between point clouds.

For clouds :math:`X = \{x_i\}_{i=1}^N` and :math:`Y = \{y_j\}_{j=1}^M` in
:math:`\mathbb{R}^D`, one direction of the Chamfer distance is

.. math::

    d(X \to Y) = \operatorname{reduce}_{i=1..N} \; \min_j \lVert x_i - y_j \rVert^p,

with :math:`p = 2` (``squared=True``) or :math:`p = 1`, and ``reduce`` the sum
(``reduction="sum"``), the mean (``"mean"``) or nothing (``"none"``, per-point
values). The symmetric form is :math:`d(X \to Y) + d(Y \to X)`.

Conventions of other libraries, as arguments of :func:`chamfer`:

==============================================  =============================================
convention                                      arguments
==============================================  =============================================
SANN paper, m(X, Y) below eq. 3                 ``symmetric=False, reduction="sum"``
chamferdist ``ChamferDistance()(x, y)`` default  ``symmetric=False, reduction="sum"``
pytorch3d ``chamfer_distance`` default          ``symmetric=True, reduction="mean"``
sbbench default                                 ``symmetric=True, reduction="mean"``
==============================================  =============================================

Why sbbench defaults to the symmetric form: the one-sided distance
:math:`d(X \to Y)` is zero whenever every predicted point sits on *some*
target point, so a model that collapses all its predictions onto a single
target point scores a perfect 0. Adding :math:`d(Y \to X)` charges every
target point that no prediction covers. ``reduction="mean"`` makes scores
comparable between molecules of different sizes.
"""

from __future__ import annotations

from typing import Any

import torch

from ._validate import check_cloud, is_numpy, to_tensor

__all__ = ["chamfer"]

REDUCTIONS = ("mean", "sum", "none")


def _safe_sqrt(v: torch.Tensor) -> torch.Tensor:
    """sqrt with a zero (not infinite) gradient where ``v == 0``."""
    pos = v > 0
    return torch.where(
        pos, torch.sqrt(torch.where(pos, v, torch.ones_like(v))), torch.zeros_like(v)
    )


def _nearest_indices(
    x: torch.Tensor,
    y: torch.Tensor,
    xmask: torch.Tensor | None,
    ymask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of nearest neighbours x->y (..., N) and y->x (..., M), without gradients.

    One table of squared distances per pair of clouds, formed from explicit
    differences (not the |a|^2 + |b|^2 - 2 a.b expansion, whose cancellation can
    pick a wrong neighbour for nearly coincident points, so that CD(x, x) != 0);
    padded points (``mask`` False) are never chosen as neighbours.
    """
    with torch.no_grad():
        d2 = (x.unsqueeze(-2) - y.unsqueeze(-3)).square_().sum(-1)
        if ymask is not None:
            d2.masked_fill_(~ymask.unsqueeze(-2), float("inf"))
        idx_xy = d2.argmin(dim=-1)
        if xmask is not None:
            d2.masked_fill_(~xmask.unsqueeze(-1), float("inf"))
        idx_yx = d2.transpose(-1, -2).contiguous().argmin(dim=-1)  # strided argmin is slow
    return idx_xy, idx_yx


def _distance_to(x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, squared: bool):
    """Exact (differentiable) distance from each point of ``x`` to ``y[idx]``."""
    y_nn = torch.gather(y, -2, idx.unsqueeze(-1).expand(*idx.shape, y.shape[-1]))
    d = (x - y_nn).square().sum(-1)
    return d if squared else _safe_sqrt(d)


def nearest_both(
    x: torch.Tensor,
    y: torch.Tensor,
    xmask: torch.Tensor | None = None,
    ymask: torch.Tensor | None = None,
    squared: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest-neighbour distances x->y (..., N) and y->x (..., M) of two clouds.

    The neighbour is *found* without gradients (:func:`_nearest_indices`) and the
    distance to it is *recomputed* exactly from the difference vector, so
    identical points give exactly 0, gradients are exact, and memory is
    O(N M) per pair rather than O(N M D).
    """
    lead = torch.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    x = x.expand(*lead, *x.shape[-2:])
    y = y.expand(*lead, *y.shape[-2:])
    if xmask is not None:
        xmask = xmask.expand(*lead, xmask.shape[-1])
    if ymask is not None:
        ymask = ymask.expand(*lead, ymask.shape[-1])
    idx_xy, idx_yx = _nearest_indices(x, y, xmask, ymask)
    return _distance_to(x, y, idx_xy, squared), _distance_to(y, x, idx_yx, squared)


def reduce_points(d: torch.Tensor, mask: torch.Tensor | None, reduction: str) -> torch.Tensor:
    """Sum or mean of per-point values ``d`` (..., N) over the valid entries of ``mask``."""
    if mask is not None:
        d = torch.where(mask, d, torch.zeros_like(d))
    total = d.sum(-1)
    if reduction == "sum":
        return total
    count = d.shape[-1] if mask is None else mask.sum(-1).clamp(min=1)
    return total / count


def chamfer_padded(
    x: torch.Tensor,
    y: torch.Tensor,
    xmask: torch.Tensor | None = None,
    ymask: torch.Tensor | None = None,
    *,
    symmetric: bool = True,
    reduction: str = "mean",
    squared: bool = True,
) -> torch.Tensor:
    """Chamfer distance over leading batch dimensions of padded clouds (no input checks).

    ``x`` (..., N, D), ``y`` (..., M, D); masks mark real (non-padding) points.
    Returns (...,). This is the single implementation behind every public metric.
    """
    dx, dy = nearest_both(x, y, xmask, ymask, squared)
    d = reduce_points(dx, xmask, reduction)
    if symmetric:
        d = d + reduce_points(dy, ymask, reduction)
    return d


def check_options(reduction: str, allow_none: bool = True) -> None:
    allowed = REDUCTIONS if allow_none else REDUCTIONS[:2]
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")


def chamfer(
    x: Any,
    y: Any,
    *,
    symmetric: bool = True,
    reduction: str = "mean",
    squared: bool = True,
) -> Any:
    r"""Chamfer distance between point clouds ``x`` (N, D) and ``y`` (M, D).

    Parameters
    ----------
    x, y
        Point clouds as torch tensors or numpy arrays (same kind is returned).
        For per-atom vector targets, a "point" is the atom's D-dimensional label.
    symmetric
        ``True``: :math:`d(X\to Y) + d(Y\to X)`; ``False``: :math:`d(X\to Y)` only.
    reduction
        ``"mean"`` divides each direction by its number of points, ``"sum"``
        does not, ``"none"`` returns the per-point nearest distances: an (N,)
        array, or for ``symmetric=True`` the pair ``(d_x (N,), d_y (M,))``.
    squared
        Use squared Euclidean distances (default, as in the SANN paper) or plain
        distances. The plain form has a finite (zero) gradient where a distance
        is exactly 0.

    Returns
    -------
    Scalar tensor/array, or per-point values for ``reduction="none"``.
    Differentiable in both inputs.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [1.0, 0.0]]); y = np.array([[0.0, 0.0]])
    >>> float(chamfer(x, y))                     # (0 + 1)/2 + 0/1
    0.5
    >>> float(chamfer(x, y, symmetric=False, reduction="sum"))   # SANN m(X, Y)
    1.0
    """
    check_options(reduction)
    numpy_out = is_numpy(x)
    xt, yt = to_tensor(x, "x"), to_tensor(y, "y")
    check_cloud(xt, "x")
    check_cloud(yt, "y")
    if xt.shape[1] != yt.shape[1]:
        raise ValueError(
            f"x and y must have the same point dimension, got {xt.shape[1]} and {yt.shape[1]}"
        )
    dtype = torch.promote_types(xt.dtype, yt.dtype)
    xt, yt = xt.to(dtype), yt.to(dtype)
    if reduction == "none":
        dx, dy = nearest_both(xt, yt, squared=squared)
        out: Any = (dx, dy) if symmetric else dx
    else:
        out = chamfer_padded(xt, yt, symmetric=symmetric, reduction=reduction, squared=squared)
    if numpy_out:
        return (
            tuple(o.detach().numpy() for o in out)
            if isinstance(out, tuple)
            else out.detach().numpy()
        )
    return out
