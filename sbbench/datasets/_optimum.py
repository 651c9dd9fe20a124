"""Best score a strictly equivariant model can reach on a sample (for the data cards).

A strictly equivariant model f satisfies f(g.x) = g.f(x) for every g in O(3).
For g in Sym(x) the input maps onto itself up to a permutation pi_g of the nodes
(R_g x_i = x_{pi_g(i)}), so every achievable output v obeys

    v_{pi_g(i)} = R_g v_i          for all g in Sym(x) and nodes i,

i.e. v lies in the image of the Reynolds projector
P v_i = (1/|G|) sum_g R_g^T v_{pi_g(i)} (Curie's principle, Smidt et al. eq. 3-5).
Conversely every such v is the output of some equivariant function, so the best
SBCD of a strictly equivariant model on one sample is
min over v in range(P) of SBCD(v, y). :func:`equivariant_basis` gives an orthonormal
basis of range(P) and :func:`best_equivariant_score` minimises over it
numerically (multi-start Powell from the least-squares projections of every
g.y and random points). The data cards derive the value analytically where
they can; the tests check both agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["equivariant_basis", "equivariant_projector", "best_equivariant_score"]


def equivariant_projector(pos: Any, ops: Any, k: int = 1, *, tol: float = 0.1) -> np.ndarray:
    """Reynolds projector (3kN, 3kN) onto outputs with k 3-vectors per node that are
    equivariant under ``ops`` (G, 3, 3), a symmetry group of ``pos`` (N, 3): the matrix
    of :meth:`sbbench.symmetry.PointGroup.reynolds`, column by column."""
    from sbbench.symmetry import PointGroup

    pg = PointGroup.from_operations(ops, pos, tol=tol)
    n = pg.permutations.shape[1]
    columns = [pg.reynolds(e.reshape(n, 3 * k)).reshape(-1) for e in np.eye(3 * k * n)]
    return np.stack(columns, axis=1)


def equivariant_basis(pos: Any, ops: Any, k: int = 1, *, tol: float = 0.1) -> np.ndarray:
    """Orthonormal basis (3kN, d) of the outputs a strictly equivariant model can produce."""
    proj = equivariant_projector(pos, ops, k, tol=tol)
    sym = 0.5 * (proj + proj.T)
    vals, vecs = np.linalg.eigh(sym)
    return vecs[:, vals > 0.5]


def best_equivariant_score(
    pos: Any,
    y: Any,
    ops: Any,
    *,
    n_random: int = 20,
    seed: int = 0,
    tol: float = 0.1,
    **chamfer_kwargs: Any,
) -> tuple[float, np.ndarray]:
    """Minimum SBCD over strictly equivariant outputs (numerical, multi-start).

    Returns
    -------
    (score, prediction)
        The smallest SBCD found and the (N, 3k) equivariant prediction reaching it.
    """
    from scipy.optimize import minimize

    from sbbench.metrics import sbcd

    y = np.asarray(y, dtype=np.float64)
    ops = np.asarray(ops, dtype=np.float64)
    n, d3 = y.shape
    k = d3 // 3
    basis = equivariant_basis(pos, ops, k, tol=tol)
    if basis.shape[1] == 0:
        zero = np.zeros_like(y)
        return float(sbcd(zero, y, ops, **chamfer_kwargs)), zero

    def score(c: np.ndarray) -> float:
        return float(sbcd((basis @ c).reshape(n, d3), y, ops, **chamfer_kwargs))

    rng = np.random.default_rng(seed)
    gy = np.einsum("gab,nkb->gnka", ops, y.reshape(n, k, 3)).reshape(len(ops), -1)
    starts = [np.zeros(basis.shape[1])] + [basis.T @ v for v in gy]
    scale = max(float(np.abs(y).max()), 1e-3)
    starts += [rng.normal(scale=scale, size=basis.shape[1]) for _ in range(n_random)]
    unique = {tuple(np.round(c, 8)): c for c in starts}  # symmetric targets repeat starts
    best_c, best = starts[0], score(starts[0])
    for c0 in unique.values():
        res = minimize(score, c0, method="Powell", options={"xtol": 1e-10, "ftol": 1e-13})
        if res.fun < best:
            best, best_c = float(res.fun), res.x
    return best, (basis @ best_c).reshape(n, d3)
