"""Small exact point groups for metric tests (built by closing generators)."""

import numpy as np


def close_group(generators: list[np.ndarray]) -> np.ndarray:
    """All products of the generators, identity first, as a (G, 3, 3) array."""
    elems = [np.eye(3)]
    frontier = [np.eye(3)]
    while frontier:
        new = []
        for a in frontier:
            for g in generators:
                c = g @ a
                if not any(np.allclose(c, e, atol=1e-9) for e in elems):
                    elems.append(c)
                    new.append(c)
        frontier = new
    return np.stack(elems)


def rot_z(n: int) -> np.ndarray:
    t = 2 * np.pi / n
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1.0]])


MIRROR_X = np.diag([-1.0, 1.0, 1.0])
MIRROR_Z = np.diag([1.0, 1.0, -1.0])

GROUPS = {
    "C1": close_group([]),
    "C2": close_group([rot_z(2)]),
    "C3v": close_group([rot_z(3), MIRROR_X]),
    "D4h": close_group([rot_z(4), MIRROR_X, MIRROR_Z]),
    "Oh": close_group([rot_z(4), np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0.0]]), -np.eye(3)]),
}
