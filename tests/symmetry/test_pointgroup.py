"""PointGroup beyond the symbol: canonical frame (SANN Def. 3.5), symmetrize, stabilizer."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from sbbench.symmetry import detect

from .test_families import check_group

SYMMETRIC = ["H2O", "NH3", "CH4", "C6H6", "C2H6", "CO2", "HCN", "SF6", "C2H4", "CH3OH"]


def get_molecule(name: str):
    """ASE molecule by name; SF6 (octahedral, S-F 1.56 Å) is built here."""
    if name == "SF6":
        from ase import Atoms

        f = 1.56 * np.vstack([np.eye(3), -np.eye(3)])
        return Atoms("SF6", positions=np.vstack([np.zeros(3), f]))
    return molecule(name)


def random_o3(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return Rotation.random(random_state=rng).as_matrix() * (1.0 if seed % 2 else -1.0)


def canonical(pos, numbers, tol=0.1):
    return detect(pos, numbers, tol=tol).canonical_positions()


def match_rows(a, b, labels, tol):
    """Permutation p with |a_i - b_p(i)| <= tol and equal labels (or None)."""
    d = np.linalg.norm(a[:, None] - b[None], axis=-1)
    d[labels[:, None] != labels[None, :]] = np.inf
    p = d.argmin(axis=1)
    if d[np.arange(len(a)), p].max() > tol or len(set(p.tolist())) != len(a):
        return None
    return p


def test_frame_trivial_symmetry_exact():
    rng = np.random.default_rng(0)
    pos = rng.uniform(-2, 2, (9, 3))
    nums = rng.integers(1, 4, 9)
    pg = detect(pos, nums)
    assert pg.schoenflies == "C1"
    c0 = pg.canonical_positions()
    assert np.allclose(pg.frame.T @ pg.frame, np.eye(3), atol=1e-12)
    for seed in range(6):
        rot = random_o3(seed)
        c1 = canonical(pos @ rot.T + rng.normal(size=3) * 10, nums)
        assert np.abs(c1 - c0).max() < 1e-6


@pytest.mark.parametrize("name", SYMMETRIC)
def test_frame_relaxed_equivariance(name):
    """c(R.x) = c(x) up to a permutation that belongs to Sym(x) (clean geometries)."""
    mol = get_molecule(name)
    pg = detect(mol.positions, mol.numbers)
    c0 = pg.canonical_positions()
    group_perms = {tuple(p) for p in pg.permutations.tolist()}
    for seed in range(4):
        rot = random_o3(seed)
        c1 = canonical(mol.positions @ rot.T + seed, mol.numbers)
        p = match_rows(c1, c0, mol.numbers, 1e-4)
        assert p is not None, "canonical positions differ by more than a symmetry"
        if not pg.is_infinite:
            assert tuple(p) in group_perms or tuple(np.argsort(p)) in group_perms


def test_frame_noisy_within_tolerance():
    rng = np.random.default_rng(3)
    for name in ("NH3", "C6H6", "CH4"):
        mol = molecule(name)
        pos = mol.positions + rng.normal(0, 0.005, mol.positions.shape)
        c0 = canonical(pos, mol.numbers)
        c1 = canonical(pos @ random_o3(5).T, mol.numbers)
        assert match_rows(c1, c0, mol.numbers, 0.1) is not None


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(4, 10),
    seed=st.integers(0, 2**32 - 1),
    rot_seed=st.integers(0, 2**32 - 1),
)
def test_rotation_invariance_property(n, seed, rot_seed):
    """Group, order and (for C1) canonical positions do not depend on the input frame."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-3, 3, (n, 3))
    nums = rng.integers(1, 3, n)
    a = detect(pos, nums, min_distance=0)  # a random point cloud: points may be close
    b = detect(pos @ random_o3(rot_seed).T + 1.0, nums, min_distance=0)
    assert (a.schoenflies, a.order) == (b.schoenflies, b.order)
    assert np.array_equal(np.sort(np.bincount(a.orbits)), np.sort(np.bincount(b.orbits)))
    if a.schoenflies == "C1":
        assert np.abs(a.canonical_positions() - b.canonical_positions()).max() < 1e-6


@pytest.mark.parametrize("name", ["H2O", "NH3", "CH4", "C6H6", "C2H6", "CO2", "SF6", "C60"])
def test_symmetrize(name):
    mol = get_molecule(name)
    rng = np.random.default_rng(len(name))
    pos = mol.positions @ random_o3(1).T + rng.normal(0, 0.01, mol.positions.shape)
    pg = detect(pos, mol.numbers, tol=0.1)
    sym, rmsd = pg.symmetrize()
    assert 0.0 < rmsd < 0.1
    assert np.isclose(rmsd, np.sqrt(((sym - pos) ** 2).sum(-1).mean()))
    assert np.allclose(sym.mean(axis=0), pos.mean(axis=0))
    again = detect(sym, mol.numbers, tol=0.1)
    assert again.schoenflies == pg.schoenflies
    assert detect(sym, mol.numbers, tol=1e-6).schoenflies == pg.schoenflies  # exact now
    if not pg.is_infinite:
        x = sym - sym.mean(axis=0)
        moved = x @ pg.operations.transpose(0, 2, 1) - x[pg.permutations]
        assert np.abs(moved).max() < 1e-9


def h2o():
    mol = molecule("H2O")
    return mol.positions, mol.numbers


def test_stabilizer_h2o_modes():
    pos, nums = h2o()
    pg = detect(pos, nums)
    x = pos - pos.mean(axis=0)
    b1, b2 = x[1] - x[0], x[2] - x[0]
    zero = np.zeros(3)
    sym_stretch = np.array([zero, b1, b2])
    asym_stretch = np.array([zero, b1, -b2])
    assert pg.stabilizer(sym_stretch).schoenflies == "C2v"
    sub = pg.stabilizer(asym_stretch)
    assert sub.schoenflies == "Cs"
    check_group(sub, pos, 0.1)
    # the surviving mirror is the molecular plane: it fixes every atom
    assert np.array_equal(sub.permutations[1], [0, 1, 2])
    normal = np.cross(b1, b2)
    assert np.allclose(sub.operations[1] @ normal, -normal / 1.0, atol=1e-9)
    # operations of the stabilizer are operations of the group
    diff = np.abs(sub.operations[:, None] - pg.operations[None]).max(axis=(2, 3))
    assert diff.min(axis=1).max() < 1e-12
    # the same vectors rotated with the molecule give the same stabilizer
    rot = random_o3(3)
    rsub = detect(pos @ rot.T, nums).stabilizer(asym_stretch @ rot.T)
    assert rsub.schoenflies == "Cs" and np.allclose(
        rsub.operations[1], rot @ sub.operations[1] @ rot.T
    )


def test_stabilizer_dipoles_and_tolerance():
    nh3 = molecule("NH3")
    pg = detect(nh3.positions, nh3.numbers)
    axis = np.array([0.0, 0.0, 1.0])  # ASE's NH3 has its C3 axis along z
    assert pg.stabilizer(np.tile(axis, (4, 1))).schoenflies == "C3v"
    rng = np.random.default_rng(0)
    assert pg.stabilizer(rng.normal(size=(4, 3))).schoenflies == "C1"
    small = rng.normal(size=(4, 3)) * 0.01
    assert pg.stabilizer(small, tol=0.1) is pg  # below tolerance: nothing breaks
    assert pg.stabilizer(small, tol=1e-4).schoenflies == "C1"
    with pytest.raises(ValueError, match="3 rows but the structure has 4 atoms"):
        pg.stabilizer(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="tol must be a positive"):
        pg.stabilizer(np.zeros((4, 3)), tol=0)


def test_stabilizer_tangential_field_keeps_rotations_only():
    """v_i = axis x x_i (a swirl) is kept by the C3 rotations of NH3, reversed by the
    mirrors: C3v -> C3; with one H's vector perturbed beyond tol only the identity."""
    nh3 = molecule("NH3")
    pg = detect(nh3.positions, nh3.numbers)
    x = nh3.positions - nh3.positions.mean(axis=0)
    swirl = np.cross([0.0, 0.0, 1.0], x)
    sub = pg.stabilizer(swirl, tol=0.05)
    assert sub.schoenflies == "C3" and sub.order == 3
    assert (np.linalg.det(sub.operations) > 0).all()
    broken = swirl.copy()
    broken[1] += [0.0, 0.0, 0.3]
    assert pg.stabilizer(broken, tol=0.05).schoenflies == "C1"


def test_stabilizer_linear():
    co2 = molecule("CO2")  # C at the origin, O on z
    pg = detect(co2.positions, co2.numbers)
    assert pg.schoenflies == "D*h"
    z = np.array([0, 0, 1.0])
    assert pg.stabilizer(np.array([0 * z, z, -z])).schoenflies == "D*h"  # symmetric stretch
    assert pg.stabilizer(np.array([0.3 * z, -z, -z])).schoenflies == "C*v"  # asymmetric
    bend = np.array([[0, 0.6, 0], [0, -0.3, 0], [0, -0.3, 0]])
    sub = pg.stabilizer(bend)
    assert sub.schoenflies == "C2v"
    check_group(sub, co2.positions, 0.1)
    assert pg.stabilizer(np.zeros((3, 3))) is pg
    atom = detect([[0.0, 0, 0]], [18])
    assert atom.stabilizer([[0.0, 0, 1.0]]).schoenflies == "C*v"


@pytest.mark.parametrize("name", ["H2O", "CO2", "CH4"])
def test_stabilizer_frame_uses_the_vectors(name):
    """Generic vectors break all symmetry; the stabilizer's frame then pins the pair
    (positions, vectors) exactly: c(R.x) = c(x) to rounding, even for linear CO2 whose
    positions alone leave the rotation about the axis free."""
    mol = molecule(name)
    vec = np.random.default_rng(1).normal(size=mol.positions.shape) * 0.5
    sub = detect(mol.positions, mol.numbers).stabilizer(vec, tol=0.01)
    assert sub.schoenflies == "C1"
    c0 = sub.canonical_positions()
    for seed in range(4):
        rot = random_o3(seed)
        moved = detect(mol.positions @ rot.T + 1.0, mol.numbers).stabilizer(vec @ rot.T, tol=0.01)
        assert np.abs(moved.canonical_positions() - c0).max() < 1e-9


def test_largest_subgroup_drops_a_passing_operation_that_would_break_closure():
    """Filtering deviations <= tol can keep a non-group; largest_subgroup returns a group."""
    from sbbench.symmetry import detect, largest_subgroup

    square = np.array([[1.0, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0]])
    ops = detect(square, tol=0.01).operations  # D4h, 16 operations
    assert len(ops) == 16
    c2z = np.diag([-1.0, -1, 1])
    in_h = [
        g
        for g, r in enumerate(ops)
        if np.allclose(r, np.eye(3))
        or np.allclose(r, c2z)
        or np.allclose(r, np.diag([1.0, -1, 1]))
        or np.allclose(r, np.diag([-1.0, 1, 1]))
    ]  # C2v: E, C2(z), sigma(xz), sigma(yz)
    dev = np.ones(len(ops))
    dev[in_h] = 0.0
    c4 = next(g for g, r in enumerate(ops) if np.allclose(r @ r, c2z) and np.linalg.det(r) > 0)
    dev[c4] = 0.05  # passes alone, but C4^3 (dev 1) is in any group containing it
    keep = largest_subgroup(ops, dev, 0.1)
    assert sorted(keep) == sorted(in_h)
    table = {(g, h) for g in keep for h in keep}
    for g, h in table:  # closed under products
        assert any(np.allclose(ops[g] @ ops[h], ops[k]) for k in keep)
    with pytest.raises(ValueError, match="deviations has shape"):
        largest_subgroup(ops, dev[:3], 0.1)
    with pytest.raises(ValueError, match=r"ops must have shape \(G, 3, 3\)"):
        largest_subgroup(ops[:, :2], dev, 0.1)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        largest_subgroup(ops, dev, -0.1)
