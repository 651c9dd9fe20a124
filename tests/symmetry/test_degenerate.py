"""Degenerate and bad inputs (issue 4): collinear, planar, two atoms, one atom, atoms
closer than tol, large N; NaN/inf, wrong shapes, label count, tol <= 0."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule
from scipy.spatial.transform import Rotation

from sbbench.symmetry import detect, max_operations

from .test_families import check_group


def rotated(pos, seed, noise=1e-3):
    rng = np.random.default_rng(seed)
    rot = Rotation.random(random_state=rng).as_matrix()
    return pos @ rot.T + rng.normal(0, noise, np.shape(pos)) + rng.normal(size=3)


@pytest.mark.parametrize(
    ("labels", "z", "expected"),
    [
        ([1, 1], [-0.37, 0.37], "D*h"),  # H2
        ([1, 17], [-0.64, 0.64], "C*v"),  # HCl
        ([8, 6, 8], [-1.16, 0.0, 1.16], "D*h"),  # CO2
        ([8, 6, 6], [-1.16, 0.0, 1.16], "C*v"),
        ([6, 6, 6], [-1.2, 0.0, 1.5], "C*v"),  # same labels, asymmetric spacing
        ([1, 6, 6, 6, 6, 1], [-3.2, -2.1, -0.7, 0.7, 2.1, 3.2], "D*h"),
    ],
)
def test_collinear(labels, z, expected):
    pos = rotated(np.outer(z, [0.0, 0.0, 1.0]), len(z))
    pg = detect(pos, labels)
    assert pg.schoenflies == expected
    check_group(pg, pos, 0.1)
    sym, rmsd = pg.symmetrize()
    centred = sym - sym.mean(axis=0)
    assert np.linalg.matrix_rank(centred, tol=1e-9) == 1  # exactly on a line
    assert rmsd < 0.01


def test_single_atom_and_coincident_points():
    pg = detect([[1.0, 2.0, 3.0]], [6])
    assert pg.schoenflies == "Kh" and pg.is_infinite and pg.order == 48  # O_h subgroup
    check_group(pg, np.array([[1.0, 2.0, 3.0]]), 0.1)
    assert np.allclose(pg.frame @ pg.frame.T, np.eye(3))
    pts = np.array([[0.0, 0, 0], [0.01, 0, 0], [0, 0.02, 0]])  # all within tol/2
    assert detect(pts, [1, 6, 8], tol=0.1, min_distance=0).schoenflies == "Kh"


def test_planar():
    pg = detect(rotated(molecule("C6H6").positions, 3), molecule("C6H6").numbers)
    assert pg.schoenflies == "D6h"
    rng = np.random.default_rng(5)
    flat = np.column_stack([rng.uniform(-3, 3, (7, 2)), np.zeros(7)])
    pos = rotated(flat, 6)
    pg = detect(pos, [1, 6, 7, 8, 9, 16, 17])  # all distinct: only the plane reflection
    assert pg.schoenflies == "Cs"
    check_group(pg, pos, 0.1)
    normal = np.linalg.svd(pos - pos.mean(0))[2][-1]
    sigma = pg.operations[1]
    assert np.allclose(sigma @ normal, -normal, atol=1e-3)


def check_matrices(pg, pos, tol):
    """Closed group of matrices, identity first, permutations are label-preserving
    bijections mapping every atom within tol (they need not compose exactly when atoms
    are closer than tol: which of two near-coincident atoms is the image is ambiguous)."""
    ops = pg.operations
    g = len(ops)
    assert np.allclose(ops[0], np.eye(3))
    prod = np.einsum("aij,bjk->abik", ops, ops).reshape(-1, 1, 9)
    assert np.abs(prod - ops.reshape(1, g, 9)).max(axis=2).min(axis=1).max() < 1e-8
    assert all(sorted(p) == list(range(len(pos))) for p in pg.permutations.tolist())
    x = pos - pos.mean(axis=0)
    assert np.linalg.norm(x @ ops.transpose(0, 2, 1) - x[pg.permutations], axis=-1).max() <= tol


def test_atoms_closer_than_tol():
    """Two H atoms 0.03 Å apart in CH4 (tol 0.1), as an abstract point cloud
    (``min_distance=0``; by default such atoms are an error, tests/symmetry/
    test_input_checks.py): a valid group, never a crash; the pair sits near a C3 axis
    so the answer is C3v."""
    ch4 = molecule("CH4")
    nums = np.append(ch4.numbers, 1)
    for extra in ([0.02, -0.02, 0.0], [0.0, 0.0, 0.0]):  # near and exact duplicate
        pos = np.vstack([ch4.positions, ch4.positions[1] + extra])
        pg = detect(pos, nums, tol=0.1, min_distance=0)
        assert pg.schoenflies == "C3v"
        check_matrices(pg, pos, 0.1)
        assert pg.orbits[2] == pg.orbits[3] == pg.orbits[4] != pg.orbits[1]
    # different labels may overlap freely: CH4 with a He on top of the carbon stays Td
    pos = np.vstack([ch4.positions, ch4.positions[0] + [0.01, 0.0, 0.0]])
    assert detect(pos, np.append(ch4.numbers, 2), min_distance=0).schoenflies == "Td"


def test_large_structures():
    c60 = molecule("C60")
    pos = rotated(c60.positions, 11, noise=0.003)
    pg = detect(pos, c60.numbers)
    assert pg.schoenflies == "Ih" and pg.order == 120
    assert (pg.orbits == 0).all()
    check_group(pg, pos, 0.1)
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 15, (200, 3))  # random: some points closer than MIN_DISTANCE
    assert detect(pos, rng.integers(1, 9, 200), min_distance=0).schoenflies == "C1"


def test_too_large_tolerance_raises_naming_tol():
    """An icosahedron (edge 2 Å) is Ih at tol 1 Å; at 1.2-1.5 Å so many vertex maps are
    accepted that they generate more than max_operations (120 here): a clear error, not a hang.
    (At tol >= 2 Å the vertices merge and it is Kh.)"""
    phi = (1 + 5**0.5) / 2
    v = np.array([[0, s1, s2 * phi] for s1 in (1, -1) for s2 in (1, -1)])
    ico = np.concatenate([np.roll(v, k, axis=1) for k in range(3)])
    assert detect(ico, tol=1.0).schoenflies == "Ih"
    for tol in (1.2, 1.5):
        bound = max_operations(np.zeros(12))
        with pytest.raises(ValueError, match=rf"more than {bound} .* tol={tol:g} Å"):
            detect(ico, tol=tol)


@pytest.mark.parametrize(
    ("positions", "numbers", "tol", "match"),
    [
        ([[0, 0, 0], [1, np.nan, 0]], None, 0.1, "non-finite.*row 1"),
        ([[0, 0, 0], [1, np.inf, 0]], None, 0.1, "non-finite.*row 1"),
        ([[0, 0], [1, 1]], None, 0.1, r"shape \(N, 3\)"),
        ([0.0, 1.0, 2.0], None, 0.1, r"shape \(N, 3\)"),
        (np.zeros((0, 3)), None, 0.1, "empty"),
        ([["a", "b", "c"]], None, 0.1, "numeric"),
        ([[0, 0, 0], [1, 0, 0]], [1], 0.1, "one label per point"),
        ([[0, 0, 0], [1, 0, 0]], [[1, 1]], 0.1, "one label per point"),
        ([[0, 0, 0], [1, 0, 0]], None, 0.0, "tol must be a positive"),
        ([[0, 0, 0], [1, 0, 0]], None, -0.1, "tol must be a positive"),
        ([[0, 0, 0], [1, 0, 0]], None, float("nan"), "tol must be a positive"),
        ([[0, 0, 0], [1, 0, 0]], None, "big", "tol must be a positive"),
    ],
)
def test_bad_input(positions, numbers, tol, match):
    with pytest.raises(ValueError, match=match):
        detect(positions, numbers, tol=tol)


def test_labels_can_be_anything():
    water = [[0, 0, 0.119], [0, 0.763, -0.477], [0, -0.763, -0.477]]
    assert detect(water, ["O", "H", "H"]).schoenflies == "C2v"
    assert detect(water, [8, 1, 1]).schoenflies == "C2v"
    assert detect(water, [8, 1, 2]).schoenflies == "Cs"
    assert detect(water).schoenflies == "C2v"  # all alike: an isosceles triangle


def test_torch_inputs():
    torch = pytest.importorskip("torch")
    water = torch.tensor([[0, 0, 0.119], [0, 0.763, -0.477], [0, -0.763, -0.477]])
    pg = detect(water.requires_grad_(), torch.tensor([8, 1, 1]))
    assert pg.schoenflies == "C2v"
    assert pg.stabilizer(torch.zeros(3, 3, dtype=torch.float64)).schoenflies == "C2v"
