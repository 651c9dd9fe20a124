"""Small batched linear-algebra helpers for the point-group detector.

Conventions (shared with the rest of sbbench): an operation ``R`` is a (3, 3)
orthogonal matrix acting on column vectors, ``g.x = R @ x``; on row-stacked
points (N, 3) that is ``X @ R.T``. Permutations satisfy ``R_g x_i ~ x_perm[g, i]``.
"""

from __future__ import annotations

import numpy as np

__all__ = []

_HASH_WEIGHTS: dict[int, np.ndarray] = {}


def procrustes(source: np.ndarray, targets: np.ndarray, dets: np.ndarray) -> np.ndarray:
    """Orthogonal matrices R_k minimising sum_i |R_k x_i - y_ki|^2 with det(R_k) fixed.

    Parameters
    ----------
    source : (N, 3) points x_i.
    targets : (K, N, 3) points y_ki.
    dets : (K,) +1 (proper rotation) or -1 (improper operation) for each k.

    Returns
    -------
    (K, 3, 3) array. This is the Kabsch solution with the sign of the last
    singular vector chosen to give the requested determinant, which also makes
    the answer unique for planar point sets (where the unconstrained problem
    cannot tell an operation from its product with the plane reflection).
    """
    cov = np.einsum("kni,nj->kij", targets, source)
    u, _, vt = np.linalg.svd(cov)
    d = dets * np.sign(np.linalg.det(u) * np.linalg.det(vt))
    u = u.copy()
    u[:, :, 2] *= d[:, None]
    return u @ vt


def perm_keys(perms: np.ndarray, dets: np.ndarray) -> np.ndarray:
    """A 64-bit hash per (permutation, determinant) pair identifying an operation.

    A point-group operation of a point set spanning 3D is fixed by the permutation
    it induces; for a planar set the identity and the plane reflection share one,
    so the determinant is part of the key. Random weights make collisions
    (probability ~2^-64 per pair) negligible.
    """
    n = perms.shape[-1]
    w = _HASH_WEIGHTS.get(n)
    if w is None:
        w = np.random.default_rng(n).integers(1, 2**63, size=n, dtype=np.uint64)
        _HASH_WEIGHTS[n] = w
    keys = (perms.astype(np.uint64) * w).sum(axis=-1, dtype=np.uint64)
    return keys * np.uint64(2) + (dets < 0).astype(np.uint64)


def rotation_about(axis: np.ndarray, angle: float) -> np.ndarray:
    """Proper rotation by ``angle`` (radians) about the unit vector ``axis`` (Rodrigues)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def perpendicular(axis: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to the unit vector ``axis`` (deterministic)."""
    e = np.zeros(3)
    e[int(np.argmin(np.abs(axis)))] = 1.0
    v = e - (e @ axis) * axis
    return v / np.linalg.norm(v)
