"""Synthetic structures for every point-group family (issue 4, "Correctness, measured").

Each structure is the orbit of 2-3 generic points under the exact group (n up to 8
for the axial families), randomly rotated or reflected, with 1e-3 Å noise. The
detector must return the exact symbol and order, a closed group (products and
inverses inside it), the identity first, and permutations consistent with the
operations.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sbbench.symmetry import detect, schoenflies

from ._groups import all_finite_symbols, close, expected_order, generators

SYMBOLS = all_finite_symbols(8)


def orbit_structure(symbol: str, seed: int):
    """Orbit of generic points under the exact group: positions (N, 3), labels (N,)."""
    ops = close(generators(symbol))
    rng = np.random.default_rng(seed)
    npts = {1: 4}.get(len(ops), 2 if len(ops) > 48 else 3)  # any 3 points are coplanar (Cs)
    for _ in range(100):
        seeds = rng.normal(size=(npts, 3))
        seeds *= rng.uniform(3.0, 6.0, size=(npts, 1)) / np.linalg.norm(
            seeds, axis=1, keepdims=True
        )
        pos = np.concatenate([s @ ops.transpose(0, 2, 1) for s in seeds])
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
        if d[np.triu_indices(len(pos), 1)].min() > 0.6:  # generic: no point near an element
            labels = np.repeat([1, 1, 6, 6][:npts], len(ops))
            return pos, labels, ops
    raise AssertionError(f"no generic orbit for {symbol}")


def check_group(pg, pos, tol):
    ops, perms = pg.operations, pg.permutations
    g = len(ops)
    assert np.allclose(ops[0], np.eye(3), atol=1e-12), "identity first"
    assert np.allclose(ops @ ops.transpose(0, 2, 1), np.eye(3), atol=1e-10), "orthogonal"
    # closure: every product (as a matrix) is in the set, and the permutations agree
    prod = np.einsum("aij,bjk->abik", ops, ops).reshape(-1, 1, 9)
    dist = np.abs(prod - ops.reshape(1, g, 9)).max(axis=2)
    idx = dist.argmin(axis=1)
    assert dist.min(axis=1).max() < 1e-8, "closed under products"
    pprod = perms[:, perms].reshape(g * g, -1)  # perm of g.h is perm_g[perm_h]
    assert np.array_equal(pprod, perms[idx]), "permutations compose like the matrices"
    inv = np.abs(ops.transpose(0, 2, 1)[:, None].reshape(g, 1, 9) - ops.reshape(1, g, 9))
    assert inv.max(axis=2).min(axis=1).max() < 1e-8, "inverses in the group"
    # permutations consistent with the operations, within tol
    x = pos - pos.mean(axis=0)
    assert np.linalg.norm(x @ ops.transpose(0, 2, 1) - x[perms], axis=-1).max() <= tol
    assert all(sorted(p) == list(range(len(pos))) for p in perms.tolist())


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_family_orbits(symbol):
    seed = sum(map(ord, symbol))
    pos, labels, ops = orbit_structure(symbol, seed)
    assert schoenflies(ops) == symbol  # the naming tree on the exact generators
    rng = np.random.default_rng(seed + 1)
    rot = Rotation.random(random_state=rng).as_matrix() * rng.choice([-1.0, 1.0])
    noisy = pos @ rot.T + rng.normal(0.0, 1e-3, pos.shape) + rng.normal(size=3)
    pg = detect(noisy, labels, tol=0.1)
    assert pg.schoenflies == symbol
    assert pg.order == expected_order(symbol) == len(ops)
    # naming also works on float32 copies (a dataset's sym_ops) in any frame
    assert schoenflies((rot @ ops @ rot.T).astype(np.float32)) == symbol
    check_group(pg, noisy, 0.1)
    # orbits: one class per generic seed point
    assert len(np.unique(pg.orbits)) == len(pos) // len(ops)


@pytest.mark.parametrize("symbol", ["C*v", "D*h"])
def test_linear_families(symbol):
    rng = np.random.default_rng(7)
    z = np.array([-2.3, -1.1, 0.2, 1.5]) if symbol == "C*v" else np.array([-2.0, -0.7, 0.7, 2.0])
    labels = [8, 6, 7, 1] if symbol == "C*v" else [1, 6, 6, 1]
    pos = np.outer(z, [0.0, 0.0, 1.0])
    rot = Rotation.random(random_state=rng).as_matrix()
    noisy = pos @ rot.T + rng.normal(0, 1e-3, pos.shape)
    pg = detect(noisy, labels, tol=0.1)
    assert pg.schoenflies == symbol and pg.is_infinite
    assert pg.order == (16 if symbol == "C*v" else 32)  # C8v / D8h finite subgroups
    check_group(pg, noisy, 0.1)
    axis = rot[:, 2]
    # every rotation about the detected axis: the axis is the molecular one
    fixed = pg.operations[:8] @ axis
    assert np.abs(np.abs(fixed @ axis) - 1).max() < 1e-3
