"""Seeded random rotations."""

from __future__ import annotations

import numpy as np

__all__ = ["random_rotation"]


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A Haar-random proper rotation (3, 3) from ``rng`` (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q
