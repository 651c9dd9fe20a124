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

from ._kernels import operation_invariants

__all__ = []

_TOL = 1e-4  # on turns and matrix entries: float32 operations (errors ~1e-7) still name right


def schoenflies(ops: np.ndarray) -> str:
    """Schoenflies symbol ('C1', 'Cs', 'Ci', 'C3v', 'D6h', 'S4', 'Td', 'Ih', ...) of a group.

    Parameters
    ----------
    ops : (G, 3, 3) the operations of a closed finite point group (entries to ~1e-5,
        so float32 copies such as a dataset's ``sym_ops`` work).

    Raises
    ------
    ValueError
        If ``ops`` is not (G, 3, 3) or the matrices are not a finite point group
        (|G+| does not match any family).
    """
    ops = np.ascontiguousarray(ops, dtype=np.float64)
    if ops.ndim != 3 or ops.shape[1:] != (3, 3) or len(ops) == 0:
        raise ValueError(f"ops must have shape (G, 3, 3) with G >= 1, got {ops.shape}")
    dets, orders, axes, inversion, reflection, normals = operation_invariants(ops, _TOL)
    proper = dets > 0
    if np.any(orders[proper] == 0):
        raise ValueError(
            f"a rotation angle is not a rational fraction of a turn of order <= {len(ops)}: "
            "the matrices are not a finite point group"
        )
    g, gp = len(ops), int(proper.sum())
    n = int(orders.max())
    has_inversion = bool(inversion.any())
    normals = normals[reflection]

    def reflection_along(rot_axes: np.ndarray) -> bool:
        return bool(len(normals)) and bool(np.any(np.abs(normals @ rot_axes.T) > 1.0 - _TOL))

    if gp == n:  # cyclic proper part: C1, Cs, Ci, Cn, Cnv, Cnh, S2n
        if g == n:
            return "C1" if n == 1 else f"C{n}"
        if n == 1:
            return "Ci" if has_inversion else "Cs"
        if reflection_along(axes[orders == n][:1]):
            return f"C{n}h"
        if len(normals):
            return f"C{n}v"
        return f"S{2 * n}"
    if gp == 2 * n and n >= 2:  # dihedral proper part
        if g == gp:
            return f"D{n}"
        return f"D{n}h" if reflection_along(axes[orders == n]) else f"D{n}d"
    family = {(12, 3): "T", (24, 4): "O", (60, 5): "I"}.get((gp, n))
    if family is None:
        raise ValueError(f"matrices are not a point group (|G|={g}, |G+|={gp}, max order {n})")
    if g == gp:
        return family
    if family == "T":
        return "Th" if has_inversion else "Td"
    return family + "h"


def group_label(ops, positions=None, *, tol: float = 0.1) -> str:
    """The printed name of a group given by its operations, e.g. ``'C2v'`` or ``'D*h (as D8h)'``.

    The infinite point groups are represented by finite subgroups: C*v by C_nv and
    D*h by D_nh with n = ``LINEAR_AXIS_ORDER`` (8) about the molecular axis, Kh by
    Oh (see :class:`sbbench.symmetry.PointGroup`). Their operations alone name the
    finite group (``schoenflies`` gives 'D8h'); sbbench prints both, ``'D*h (as D8h)'``,
    everywhere such a stand-in appears (``sbbench symmetry``, ``sbbench curie``).

    Parameters
    ----------
    ops : (G, 3, 3) a closed point group, as for :func:`schoenflies`.
    positions : (N, 3), optional
        The structure the group belongs to. If every position is within tol/2 of
        one line (as in :func:`sbbench.symmetry.detect`) a C8v or D8h is a stand-in
        for C*v or D*h; if every position is within tol/2 of the centroid an Oh of
        48 matrices is a stand-in for Kh. Without positions the finite name is returned.
    """
    from ._detect import LINEAR_AXIS_ORDER

    name = schoenflies(ops)
    if positions is None:
        return name
    x = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    x = x - x.mean(axis=0)
    if name == "Oh" and np.linalg.norm(x, axis=1).max(initial=0.0) <= 0.5 * tol:
        return "Kh (as Oh)"
    infinite = {f"C{LINEAR_AXIS_ORDER}v": "C*v", f"D{LINEAR_AXIS_ORDER}h": "D*h"}.get(name)
    if infinite is None:
        return name
    axis = np.linalg.svd(x, full_matrices=False)[2][0] if len(x) > 1 else np.array([0, 0, 1.0])
    off = x - np.outer(x @ axis, axis)
    if np.linalg.norm(off, axis=1).max(initial=0.0) <= 0.5 * tol:
        return f"{infinite} (as {name})"
    return name
