"""Small batched linear-algebra helpers for the point-group detector.

Conventions (shared with the rest of sbbench): an operation ``R`` is a (3, 3)
orthogonal matrix acting on column vectors, ``g.x = R @ x``; on row-stacked
points (N, 3) that is ``X @ R.T``. Permutations satisfy ``R_g x_i ~ x_perm[g, i]``.
"""

from __future__ import annotations

import numpy as np

__all__ = []


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


def base_atoms(points: np.ndarray) -> np.ndarray:
    """Three atoms whose images determine a point-group operation (with its determinant).

    The farthest atom from the centroid, the farthest from the line through it,
    and the farthest from the plane through both and the centroid. An isometry
    fixing the centroid is fixed by the images of three points spanning 3D; for a
    planar structure two points fix it up to the plane reflection, which the
    determinant tells apart.
    """
    r = np.linalg.norm(points, axis=1)
    a = int(np.argmax(r))
    u = points[a] / max(r[a], 1e-300)
    perp = points - np.outer(points @ u, u)
    b = int(np.argmax(np.linalg.norm(perp, axis=1)))
    normal = cross(points[a], points[b])
    c = int(np.argmax(np.abs(points @ normal)))
    return np.array([a, b, c])


def image_keys(images: np.ndarray, dets: np.ndarray, n: int) -> np.ndarray:
    """An int64 key per operation from the images (..., 3) of the base atoms (see
    ``base_atoms``) among ``n`` atoms and the determinant; exact while n**3 < 2**62."""
    img = images.astype(np.int64)
    return ((img[..., 0] * n + img[..., 1]) * n + img[..., 2]) * 2 + (dets < 0)


def norm(x: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis (less overhead than np.linalg.norm)."""
    return np.sqrt((x * x).sum(-1))


def distances(points: np.ndarray) -> np.ndarray:
    """(N, N) distances between the rows of ``points``."""
    diff = points[:, None, :] - points[None, :, :]
    return np.sqrt((diff * diff).sum(-1))


def perpendicular(axis: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to the unit vector ``axis`` (deterministic)."""
    e = np.zeros(3)
    e[int(np.argmin(np.abs(axis)))] = 1.0
    v = e - (e @ axis) * axis
    return v / np.linalg.norm(v)


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product over the last axis (faster than np.cross for small arrays)."""
    return np.stack(
        [
            a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
            a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
            a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
        ],
        axis=-1,
    )
