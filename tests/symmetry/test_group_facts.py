"""PointGroup as the one source of symmetry facts: ``from_operations``, ``reynolds`` and
``induced_permutations`` (issue 18 item 12), checked against facts found without them:
hand-written permutations, orbits of structures built as orbits, the character formula
for the dimension of the invariant fields, and the detector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sbbench.symmetry import PointGroup, detect, induced_permutations

from ._groups import all_finite_symbols, mirror, rotation
from .test_families import check_group, orbit_structure

# water in the yz plane, C2 along z; atoms O, H, H
WATER = np.array([[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]])
WATER_Z = np.array([8, 1, 1])
E, C2Z = np.eye(3), np.diag([-1.0, -1.0, 1.0])
SIGMA_XZ, SIGMA_YZ = np.diag([1.0, -1.0, 1.0]), np.diag([-1.0, 1.0, 1.0])
C2V = np.stack([E, C2Z, SIGMA_XZ, SIGMA_YZ])
# R_g x_i = x_perm[g, i], written down from the geometry (the Hs swap unless y is kept)
C2V_PERMS = np.array([[0, 1, 2], [0, 2, 1], [0, 2, 1], [0, 1, 2]])

AMMONIA = np.array(
    [[0.0, 0.0, 0.116], [0.0, 0.939, -0.271], [0.813, -0.470, -0.271], [-0.813, -0.470, -0.271]]
)


def c3v_ops() -> np.ndarray:
    c3 = rotation([0, 0, 1], 2 * np.pi / 3)
    sv = mirror([1, 0, 0])  # the plane x = 0 holds N and H1
    return np.stack([E, c3, c3 @ c3, sv, c3 @ sv, c3 @ c3 @ sv])


def exact_ammonia() -> np.ndarray:
    """AMMONIA with the H ring made exactly C3-symmetric (the literal rounds to 1e-3)."""
    h = AMMONIA[1] @ c3v_ops()[[0, 2, 1]].transpose(0, 2, 1)  # C3 takes H1 to H3
    return np.vstack([AMMONIA[:1], h])


def match(ops_a: np.ndarray, ops_b: np.ndarray) -> np.ndarray:
    """Index in ``ops_b`` of every matrix of ``ops_a`` (asserting a bijection)."""
    d = np.abs(ops_a[:, None] - ops_b[None]).max(axis=(2, 3))
    idx = d.argmin(axis=1)
    assert d.min(axis=1).max() < 1e-8 and len(set(idx.tolist())) == len(ops_a)
    return idx


# ----------------------------------------------------------------- from_operations


def test_from_operations_c2v_by_hand_and_as_detected():
    pg = PointGroup.from_operations(C2V, WATER, WATER_Z)
    assert pg.schoenflies == "C2v" and pg.order == 4 and not pg.is_infinite
    assert np.array_equal(pg.operations, C2V)  # kept as given, in the given order
    assert np.array_equal(pg.permutations, C2V_PERMS)
    assert np.array_equal(pg.orbits, [0, 1, 1])
    found = detect(WATER, WATER_Z)
    idx = match(found.operations, pg.operations)
    assert np.array_equal(found.permutations, pg.permutations[idx])
    assert np.array_equal(found.orbits, pg.orbits)


def test_from_operations_accepts_float32_tensors_and_shifted_structures():
    """A dataset's ``sym_ops`` are float32 tensors; the operations act about the centroid."""
    ops = torch.tensor(c3v_ops(), dtype=torch.float32)
    pos = torch.tensor(AMMONIA + [5.0, -3.0, 2.0])
    pg = PointGroup.from_operations(ops, pos, torch.tensor([7, 1, 1, 1]), tol=0.01)
    assert pg.schoenflies == "C3v"
    assert pg.permutations.dtype == np.int64
    assert np.array_equal(pg.permutations[:, 0], np.zeros(6))  # N on every axis and plane
    assert np.array_equal(pg.orbits, [0, 1, 1, 1])
    assert np.array_equal(pg.permutations[3], [0, 1, 3, 2])  # x -> -x keeps H1, swaps H2, H3


@pytest.mark.parametrize("symbol", all_finite_symbols(6))
def test_from_operations_every_family(symbol):
    """Orbits of generic points under an exact group: the orbits are the seeds' blocks."""
    pos, labels, ops = orbit_structure(symbol, seed=1)
    pg = PointGroup.from_operations(ops, pos, labels, tol=1e-6)
    assert pg.schoenflies == symbol
    check_group(pg, pos, 1e-6)
    blocks = np.repeat(np.arange(len(pos) // len(ops)), len(ops))
    assert np.array_equal(pg.orbits, blocks)
    found = detect(pos, labels, tol=0.01)
    assert found.schoenflies == symbol
    idx = match(found.operations, pg.operations)
    assert np.array_equal(found.permutations, pg.permutations[idx])


def test_from_operations_symmetrize_and_frame_work_as_for_detect():
    pg = PointGroup.from_operations(c3v_ops(), AMMONIA, [7, 1, 1, 1], tol=0.01)
    sym, rmsd = pg.symmetrize()
    assert rmsd < 1e-3
    assert np.abs(sym - exact_ammonia()).max() < 1e-3
    f = pg.frame
    assert np.allclose(f.T @ f, np.eye(3), atol=1e-12)


# ----------------------------------------------------------------- rejections


def test_an_operation_that_is_no_symmetry_is_named():
    ops = np.stack([E, rotation([0, 0, 1], 2 * np.pi / 3)])  # C3 is no symmetry of water
    with pytest.raises(ValueError, match=r"operation 1 is not a symmetry .* moves atom 1"):
        induced_permutations(ops, WATER, WATER_Z)


def test_a_permutation_across_labels_is_rejected():
    """C2 would swap O-labelled and H-labelled points if labels were ignored."""
    with pytest.raises(ValueError, match=r"operation 1 is not a symmetry .* with its label"):
        PointGroup.from_operations(C2V, WATER, [8, 1, 8])
    # without labels the same points and operations are fine
    assert np.array_equal(PointGroup.from_operations(C2V, WATER).permutations, C2V_PERMS)


def test_two_atoms_onto_one_is_rejected():
    """Within tol, x -> -x sends atoms 1 and 2 both nearest atom 0: no permutation."""
    pos = np.array([[2.0, 0, 0], [-2.0, 0, 0], [-2.0, 0.4, 0], [2.0, -0.4, 0]])
    ops = np.stack([E, SIGMA_YZ])
    with pytest.raises(ValueError, match="moves atoms 1 and 2 both within tol 0.5 Å of atom 0"):
        PointGroup.from_operations(ops, pos, tol=0.5)


@pytest.mark.parametrize(
    "ops, message",
    [
        (C2V[:3], "not a group: the product of operations 1 and 2"),
        (C2V[[1, 0, 2, 3]], r"operations\[0\] must be the identity"),
        (np.concatenate([C2V, C2V[1:2]]), "operations 1 and 4 are the same matrix"),
        (np.stack([E, 2 * C2Z]), r"operations\[1\] is not orthogonal"),
        (C2V[:, :2], r"shape \(G, 3, 3\)"),
        (np.full((1, 3, 3), np.nan), "non-finite"),
    ],
    ids=["not closed", "identity not first", "repeated", "not orthogonal", "shape", "nan"],
)
def test_operations_that_are_not_a_group_are_rejected(ops, message):
    with pytest.raises(ValueError, match=message):
        PointGroup.from_operations(ops, WATER, WATER_Z)


def test_induced_permutations_of_single_operations():
    """One candidate operation need not be a group (C4 of a square alone)."""
    square = np.array([[1.0, 0, 0], [0, 1.0, 0], [-1.0, 0, 0], [0, -1.0, 0]])
    c4 = rotation([0, 0, 1], np.pi / 2)
    assert np.array_equal(induced_permutations(c4[None], square), [[1, 2, 3, 0]])
    assert np.array_equal(induced_permutations(C2V, WATER, WATER_Z, tol=1e-9), C2V_PERMS)


# ----------------------------------------------------------------- reynolds


def character_dimension(pg: PointGroup) -> int:
    """dim of the invariant vector fields: (1/|G|) sum_g (#atoms fixed by g) tr(R_g)."""
    n = pg.permutations.shape[1]
    fixed = (pg.permutations == np.arange(n)).sum(axis=1)
    return round(float((fixed * np.trace(pg.operations, axis1=1, axis2=2)).mean()))


def reynolds_matrix(pg: PointGroup, k: int = 1) -> np.ndarray:
    n = pg.permutations.shape[1]
    cols = [pg.reynolds(e.reshape(n, 3 * k)).reshape(-1) for e in np.eye(3 * k * n)]
    return np.stack(cols, axis=1)


def groups():
    yield "water", PointGroup.from_operations(C2V, WATER, WATER_Z)
    yield "ammonia", PointGroup.from_operations(c3v_ops(), exact_ammonia(), [7, 1, 1, 1])
    for symbol in ("D4h", "Td", "S6", "Ih"):
        pos, labels, ops = orbit_structure(symbol, seed=2)
        yield symbol, PointGroup.from_operations(ops, pos, labels, tol=1e-6)


@pytest.mark.parametrize("name, pg", list(groups()), ids=[n for n, _ in groups()])
def test_reynolds_is_the_invariant_projection(name, pg):
    n = pg.permutations.shape[1]
    rng = np.random.default_rng(0)
    for k in (1, 2):
        v = rng.normal(size=(n, 3 * k))
        pv = pg.reynolds(v)
        assert pv.shape == v.shape
        blocks = pv.reshape(n, k, 3)
        for rot, perm in zip(pg.operations, pg.permutations, strict=True):
            # invariant: v_perm(g, i) = R_g v_i for every operation
            assert np.abs(blocks[perm] - blocks @ rot.T).max() < 1e-12
        assert np.abs(pg.reynolds(pv) - pv).max() < 1e-12  # idempotent
        w = rng.normal(size=v.shape)
        assert abs(np.sum((v - pv) * pg.reynolds(w))) < 1e-10  # orthogonal projection
    p = reynolds_matrix(pg)
    assert round(np.trace(p)) == character_dimension(pg)
    assert np.linalg.matrix_rank(p, tol=1e-8) == character_dimension(pg)


def test_reynolds_of_water_by_hand():
    """On O (fixed by all of C2v) only the z component survives; the Hs are averaged
    with their mirror images: (v1 + sigma_xz v2) / 2 in the plane x = 0."""
    pg = PointGroup.from_operations(C2V, WATER, WATER_Z)
    v = np.array([[1.0, 2.0, 3.0], [0.5, 1.0, -1.0], [0.7, 3.0, 2.0]])
    h1 = (v[1] + SIGMA_XZ @ v[2]) / 2 * [0, 1, 1]
    want = np.array([[0.0, 0.0, 3.0], h1, SIGMA_XZ @ h1])
    assert np.allclose(pg.reynolds(v), want, atol=1e-15)
    assert character_dimension(pg) == 3  # z on O; y and z on the H pair


def test_reynolds_keeps_invariant_fields_and_matches_symmetrize():
    pg = PointGroup.from_operations(c3v_ops(), AMMONIA, [7, 1, 1, 1], tol=0.01)
    centred = AMMONIA - AMMONIA.mean(axis=0)
    sym, _ = pg.symmetrize()
    assert np.allclose(pg.reynolds(centred), sym - pg.centroid, atol=1e-14)
    exact = PointGroup.from_operations(c3v_ops(), exact_ammonia(), [7, 1, 1, 1])
    x = exact_ammonia() - exact_ammonia().mean(axis=0)
    assert np.allclose(exact.reynolds(x), x, atol=1e-14)  # positions are invariant


def test_reynolds_of_a_stabilizer_uses_its_operations():
    """Dipoles along +-y on the Hs break C2v to Cs (the plane x = 0): the projection
    averages over those 2 operations only."""
    pg = detect(WATER, WATER_Z)
    stab = pg.stabilizer(np.array([[0, 0, 0], [0, 1.0, 0], [0, 1.0, 0]]), tol=0.01)
    assert stab.schoenflies == "Cs"
    v = np.random.default_rng(3).normal(size=(3, 3))
    pv = stab.reynolds(v)
    for rot, perm in zip(stab.operations, stab.permutations, strict=True):
        assert np.abs(pv[perm] - pv @ rot.T).max() < 1e-12
    assert np.allclose(pv[:, 1:], v[:, 1:]) and np.allclose(pv[:, 0], 0)  # x flipped away


def test_reynolds_rejects_a_field_of_the_wrong_shape():
    pg = PointGroup.from_operations(C2V, WATER, WATER_Z)
    for bad in (np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(9), np.zeros((3, 0))):
        with pytest.raises(ValueError, match=r"field must have shape \(N=3, 3k\)"):
            pg.reynolds(bad)
