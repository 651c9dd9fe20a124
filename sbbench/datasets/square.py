r"""Square -> rectangle: the SANN Table 1 task and Smidt et al.'s order-parameter variant.

``square`` (SANN paper, Sec. 6.1, Table 1, Fig. 3)
    Two samples with the *same* input, a square of side ``L`` (default 1 Å)
    in the xy plane centred at the origin, vertices
    :math:`(\pm L/2, \pm L/2, 0)`. The target ``y`` (N=4, 3) is the vertex
    positions of a rectangle with half-sides :math:`L/2 + s` and :math:`L/2 - s`,
    :math:`s = L / (4\sqrt 2)`, stretched along x for sample 0 and along y for
    sample 1 (the two equivalent outcomes A and B of Fig. 3). Both are the same
    outcome up to the C4 rotation of the square, so SBCD (eq. 3) scores either
    as correct while plain CD cannot fit both.

    The target is the *positions*, not displacements: the displacement labels of
    A and B form the same set of four diagonal vectors, so a Chamfer distance
    over labels could not tell A from B.

``square_order_param`` (Smidt, Geiger, Miller, Sec. "square to rectangle")
    The same two samples plus the :math:`B_{1g}` order parameter
    :math:`\eta (x^2 - y^2)` that lowers :math:`D_{4h}` to :math:`D_{2h}`
    (:math:`\eta = +1` for sample 0, :math:`-1` for sample 1). It is given as

    * ``node_vec`` (N, 3) in Å: :math:`Q r_i` with the traceless tensor
      :math:`Q = \eta\,\mathrm{diag}(1, -1, 0)`, i.e. half the gradient of the order
      parameter field at each vertex: a per-node vector input every vector-aware
      equivariant model can consume;
    * ``order_param`` (1, 3, 3): :math:`Q` itself (the Cartesian form of its
      :math:`Y_{2,2}` component), for models taking rank-2 inputs.

    It is not a ``node_attr`` scalar because no per-node scalar can do the job: the
    four vertices form a single orbit of the edge-aligned :math:`D_{2h}` too.
    With it Sym(input) = :math:`D_{2h}` = Sym(target), and the target is the
    equivariant function :math:`y_i = r_i + (2s/L) Q r_i`, so the best strictly
    equivariant score is 0.

Best strictly equivariant score on ``square`` (derivation in the data card)
    Equivariant outputs are :math:`\alpha r_i` (the vertex site group
    :math:`C_{2v}` fixes only the radial direction); the best is :math:`\alpha = 1`
    (no deformation) with SBCD :math:`8 s^2 = L^2/4` = 0.25 for the paper's
    :math:`m(X, Y)` (``symmetric=False, reduction="sum"``) and
    :math:`4 s^2 = L^2/8` = 0.125 for the sbbench default
    (``symmetric=True, reduction="mean"``). See :func:`equivariant_optimum`.

Options: ``side`` (float > 0, Å, default 1.0), ``rotate`` (bool, apply one
random rotation per sample to input and target, default False), ``seed`` (int).
Protocol: train = val = test (SANN Sec. 6.1).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch_geometric.data import Data

from ._base import SBDataset, make_sample
from ._registry import register
from ._rotation import random_rotation

__all__ = ["Square", "SquareOrderParam", "square_geometry", "equivariant_optimum"]


def square_geometry(side: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Square vertices and the two target rectangles (stretched along x, along y), (4, 3) Å."""
    h, s = side / 2.0, side / (4.0 * np.sqrt(2.0))
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
    square = np.c_[signs * h, np.zeros(4)]
    rect_x = np.c_[signs * [h + s, h - s], np.zeros(4)]
    rect_y = np.c_[signs * [h - s, h + s], np.zeros(4)]
    return square, rect_x, rect_y


def equivariant_optimum(
    side: float = 1.0, *, symmetric: bool = True, reduction: str = "mean"
) -> float:
    """Analytic best SBCD of a strictly equivariant (non-deforming) model on ``square``.

    Per vertex the squared distance to the same-quadrant target vertex is
    :math:`2 (\\alpha L/2 - L/2)^2 + 2 s^2`, minimal (:math:`2 s^2`) at
    :math:`\\alpha = 1`; the one-sided sum over 4 vertices is :math:`8 s^2`, the mean
    :math:`2 s^2`, and the symmetric forms double these.
    """
    s2 = side**2 / 32.0
    per_point = 2.0 * s2
    value = per_point * (4.0 if reduction == "sum" else 1.0)
    return value * (2.0 if symmetric else 1.0)


class _SquareBase(SBDataset):
    defaults: ClassVar[dict[str, Any]] = {"side": 1.0, "rotate": False, "seed": 0}
    protocol = "same"
    version = 2  # 2: samples carry sym_perms (atom permutations of sym_ops)
    tol = 0.01
    order_parameter: ClassVar[bool] = False

    @classmethod
    def validate(cls, opts: dict[str, Any]) -> None:
        cls._require(opts, "side", opts["side"] > 0, "a positive length in Å")

    def build(self) -> list[Data]:
        side = self.options["side"]
        square, rect_x, rect_y = square_geometry(side)
        rng = np.random.default_rng(self.options["seed"])
        out = []
        for idx, (target, eta) in enumerate(((rect_x, 1.0), (rect_y, -1.0))):
            rot = random_rotation(rng) if self.options["rotate"] else np.eye(3)
            pos, y = square @ rot.T, target @ rot.T
            extra: dict[str, Any] = {}
            if self.order_parameter:
                q = rot @ (eta * np.diag([1.0, -1.0, 0.0])) @ rot.T
                extra = {
                    "node_vec": pos @ q.T,
                    "order_param": torch.from_numpy(q).float().unsqueeze(0),
                }
            out.append(make_sample(np.ones(4), pos, y, idx=idx, tol=self.tol, **extra))
        return out


@register("square")
class Square(_SquareBase):
    """SANN Table 1 square -> rectangle task (two samples, opposite rectangles)."""


@register("square_order_param")
class SquareOrderParam(_SquareBase):
    """Square -> rectangle with the B1g order parameter as input (Smidt et al.)."""

    order_parameter = True
