"""Schoenflies symbol of a finite point group given by its matrices.

The decision tree follows Harris & Bertolucci (1989), reorganised around two
numbers that are exact for a closed group: ``n``, the highest order of a proper
rotation, and ``|G+|``, the number of proper rotations. A finite subgroup of
SO(3) is cyclic (|G+| = n), dihedral (|G+| = 2n) or polyhedral (T: 12, O: 24,
I: 60); the improper operations then select among C_nv / C_nh / S_2n,
D_nh / D_nd and T_d / T_h.
"""

from __future__ import annotations

import numpy as np

__all__ = []

_MAX_ORDER = 240
_TOL = 1e-4  # on turns and matrix entries: float32 operations (errors ~1e-7) still name right


def rotation_orders(rotations: np.ndarray) -> np.ndarray:
    """Order of each proper rotation (smallest k >= 1 with R^k = I), from its angle.

    The angle is atan2(sin, cos) with sin from the antisymmetric part, which is
    well conditioned at 0 and pi (unlike arccos of the trace).
    """
    cos = (np.trace(rotations, axis1=1, axis2=2) - 1.0) / 2.0
    anti = rotations - np.swapaxes(rotations, 1, 2)
    sin = 0.5 * np.sqrt(anti[:, 2, 1] ** 2 + anti[:, 0, 2] ** 2 + anti[:, 1, 0] ** 2)
    turns = np.arctan2(sin, cos) / (2.0 * np.pi)  # in [0, 1/2]
    k = np.arange(1, _MAX_ORDER + 1)
    frac = turns[:, None] * k[None, :]
    hit = np.abs(frac - np.round(frac)) < _TOL
    if not hit.any(axis=1).all():
        raise ValueError("a rotation angle is not a rational fraction of a turn (order > 240)")
    return k[np.argmax(hit, axis=1)]


def rotation_axes(rotations: np.ndarray) -> np.ndarray:
    """Unit axis of each proper rotation (eigenvector of eigenvalue 1; sign arbitrary)."""
    sym = 0.5 * (rotations + np.swapaxes(rotations, 1, 2))
    _, vecs = np.linalg.eigh(sym)
    return vecs[:, :, -1]


def reflection_normals(ops: np.ndarray) -> np.ndarray:
    """Unit normals of the pure reflections among ``ops`` (det -1, trace +1)."""
    dets = np.linalg.det(ops)
    tr = np.trace(ops, axis1=1, axis2=2)
    refl = ops[(dets < 0) & (np.abs(tr - 1.0) < _TOL)]
    if len(refl) == 0:
        return np.zeros((0, 3))
    mm = 0.5 * (np.eye(3) - refl)  # = m m^T
    col = np.argmax(np.einsum("kii->ki", mm), axis=1)
    normals = mm[np.arange(len(refl)), :, col]
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def schoenflies(ops: np.ndarray) -> str:
    """Schoenflies symbol ('C1', 'Cs', 'Ci', 'C3v', 'D6h', 'S4', 'Td', 'Ih', ...) of a group.

    Parameters
    ----------
    ops : (G, 3, 3) the operations of a closed finite point group (entries to ~1e-5,
        so float32 copies such as a dataset's ``sym_ops`` work).

    Raises
    ------
    ValueError
        If the matrices are not a finite point group (|G+| does not match any family).
    """
    ops = np.asarray(ops, dtype=np.float64)
    dets = np.linalg.det(ops)
    proper = ops[dets > 0]
    g, gp = len(ops), len(proper)
    orders = rotation_orders(proper)
    n = int(orders.max())
    has_inversion = bool(np.any(np.all(np.abs(ops + np.eye(3)) < _TOL, axis=(1, 2))))
    normals = reflection_normals(ops)

    def reflection_along(axes: np.ndarray) -> bool:
        return bool(len(normals)) and bool(np.any(np.abs(normals @ axes.T) > 1.0 - _TOL))

    if gp == n:  # cyclic proper part: C1, Cs, Ci, Cn, Cnv, Cnh, S2n
        if g == n:
            return "C1" if n == 1 else f"C{n}"
        if n == 1:
            return "Ci" if has_inversion else "Cs"
        axis = rotation_axes(proper[orders == n][:1])
        if reflection_along(axis):
            return f"C{n}h"
        if len(normals):
            return f"C{n}v"
        return f"S{2 * n}"
    if gp == 2 * n and n >= 2:  # dihedral proper part
        if g == gp:
            return f"D{n}"
        axes = rotation_axes(proper[orders == n])
        return f"D{n}h" if reflection_along(axes) else f"D{n}d"
    family = {(12, 3): "T", (24, 4): "O", (60, 5): "I"}.get((gp, n))
    if family is None:
        raise ValueError(f"matrices are not a point group (|G|={g}, |G+|={gp}, max order {n})")
    if g == gp:
        return family
    if family == "T":
        return "Th" if has_inversion else "Td"
    return family + "h"
