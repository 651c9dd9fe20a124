"""Physics checks of the PBE0 + Hirshfeld reference calculation (sbbench.qchem).

Each test runs a small PBE0/def2-SVP calculation (well under a second per
molecule with one thread).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("pyscf")
from ase import Atoms  # noqa: E402
from ase.build import molecule  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

from sbbench.qchem import BOHR_PER_ANGSTROM, free_atom_density, pbe0_hirshfeld  # noqa: E402


def _reconstructed_dipole(res) -> np.ndarray:
    """sum_A q_A R_A + sum_A mu_A in e·bohr."""
    r_bohr = res.positions * BOHR_PER_ANGSTROM
    return (res.hirshfeld_charges[:, None] * r_bohr).sum(0) + res.atomic_dipoles.sum(0)


def _close_group(generators: list[np.ndarray]) -> list[np.ndarray]:
    """All products of the generators (a finite point group)."""
    group = [np.eye(3)]
    frontier = [np.eye(3)]
    while frontier:
        assert len(group) <= 48, "generators do not generate a finite point group"
        new = []
        for g, h in itertools.product(frontier, generators):
            m = h @ g
            if not any(np.allclose(m, x, atol=1e-9) for x in group):
                group.append(m)
                new.append(m)
        frontier = new
    return group


def _permutation(pos: np.ndarray, numbers: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """perm with rot @ pos[i] == pos[perm[i]] (and equal Z), or raise."""
    centre = pos.mean(0)
    moved = (pos - centre) @ rot.T + centre
    dist = np.linalg.norm(moved[:, None] - pos[None], axis=-1)
    perm = dist.argmin(1)
    assert np.allclose(dist[np.arange(len(pos)), perm], 0.0, atol=1e-6), "not a symmetry"
    assert np.array_equal(numbers[perm], numbers)
    return perm


def _rot(axis, angle_deg) -> np.ndarray:
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    return Rotation.from_rotvec(np.deg2rad(angle_deg) * axis).as_matrix()


def _mirror(normal) -> np.ndarray:
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    return np.eye(3) - 2 * np.outer(n, n)


def _ammonia() -> Atoms:
    """NH3 with exact C3v symmetry about the z axis through N."""
    h = [(0.94 * np.cos(a), 0.94 * np.sin(a), -0.38) for a in np.deg2rad([90, 210, 330])]
    return Atoms("NH3", positions=[(0.0, 0.0, 0.0), *h])


@pytest.mark.parametrize(
    ("atoms", "generators"),
    [
        (molecule("H2O"), [_rot([0, 0, 1], 180), _mirror([1, 0, 0])]),
        (_ammonia(), [_rot([0, 0, 1], 120), _mirror([1, 0, 0])]),
        (
            molecule("CH4"),
            [_rot([0, 0, 1], 180), _rot([1, 1, 1], 120), _mirror([1, -1, 0])],
        ),
    ],
    ids=["H2O-C2v", "NH3-C3v", "CH4-Td"],
)
def test_dipole_field_is_symmetric_for_symmetric_structure(atoms, generators):
    group = _close_group(generators)
    assert len(group) == {3: 4, 4: 6, 5: 24}[len(atoms)]
    res = pbe0_hirshfeld(atoms.numbers, atoms.positions)
    mu = res.atomic_dipoles
    for rot in group:
        perm = _permutation(atoms.positions, atoms.numbers, rot)
        # g·mu_A must equal mu_{g(A)} (dipoles are polar vectors: det(R) not applied)
        np.testing.assert_allclose(mu @ rot.T, mu[perm], atol=1e-4)
        np.testing.assert_allclose(res.hirshfeld_charges, res.hirshfeld_charges[perm], atol=1e-4)


@pytest.mark.parametrize(
    ("name", "charge"), [("CH3OH", 0), ("NH4+", 1), ("HCOOH", 0), ("SH2", 0), ("CH3Cl", 0)]
)
def test_charges_sum_to_molecular_charge(name, charge):
    if name == "NH4+":
        ch4 = molecule("CH4")
        atoms = Atoms("NH4", positions=ch4.positions * 1.03 / 1.09)
    else:
        atoms = molecule(name)
    res = pbe0_hirshfeld(atoms.numbers, atoms.positions, charge=charge)
    assert res.converged
    assert abs(res.hirshfeld_charges.sum() - charge) < 1e-3
    assert abs(res.n_electrons_grid - (atoms.numbers.sum() - charge)) < 1e-3


@pytest.mark.parametrize("name", ["CH3OH", "HCOOH", "CH3CHO", "CH3SH", "CH3Cl"])
def test_atomic_dipoles_reconstruct_scf_dipole(name):
    """sum_A (q_A R_A + mu_A) is the SCF dipole: exact for any partition of the grid
    density, so the residual is the grid's integration error (measured 4e-7 to 4e-5
    e·bohr), not a 2 % tolerance that a wrong sign of mu_A on a small atom could pass."""
    atoms = molecule(name)
    rng = np.random.default_rng(7)
    pos = atoms.positions + rng.normal(scale=0.03, size=atoms.positions.shape) + [0.3, -0.2, 0.5]
    res = pbe0_hirshfeld(atoms.numbers, pos)
    recon = _reconstructed_dipole(res)
    assert np.linalg.norm(res.dipole) > 0.1  # a genuinely polar molecule
    assert np.linalg.norm(recon - res.dipole) <= 1e-4


def test_atomic_dipoles_rotate_with_the_molecule():
    atoms = molecule("CH3CHO")
    rot = Rotation.random(random_state=3).as_matrix()
    a = pbe0_hirshfeld(atoms.numbers, atoms.positions)
    b = pbe0_hirshfeld(atoms.numbers, atoms.positions @ rot.T)
    # the DFT grid does not rotate with the molecule: agreement up to grid error
    np.testing.assert_allclose(b.atomic_dipoles, a.atomic_dipoles @ rot.T, atol=5e-4)
    np.testing.assert_allclose(b.hirshfeld_charges, a.hirshfeld_charges, atol=5e-4)
    # and the field is not trivially zero
    assert np.abs(a.atomic_dipoles).max() > 0.05


@pytest.mark.parametrize("z", [1, 6, 7, 8, 16, 17])  # every element of QM7-X
def test_free_atom_density_is_normalised_and_decaying(z):
    """The interpolated pro-atom integrates to Z (measured |N - Z| <= 1.3e-5 with 8000
    radii; 400 radii lost 1.75e-3 e for O and 3.6e-3 e for Cl between table points)."""
    x = np.linspace(np.log(1e-6), np.log(40.0), 400_001)  # a quadrature much finer than the table
    r = np.exp(x)
    rho = free_atom_density(z, r)
    n = np.trapezoid(4 * np.pi * r**3 * rho, x)  # dr = r d(ln r)
    assert abs(n - z) < 3e-5, (z, n)
    assert np.all(np.diff(rho[r > 2.0]) < 0)


def test_free_atom_table_covers_rows_one_to_three():
    for z in range(1, 19):
        assert free_atom_density(z, np.array([1.0]))[0] > 0
    with pytest.raises(ValueError, match="Z=19"):
        free_atom_density(19, np.array([1.0]))


def test_rejects_open_shell_and_bad_shapes():
    with pytest.raises(ValueError, match="odd electron count"):
        pbe0_hirshfeld(np.array([6, 1, 1, 1]), np.zeros((4, 3)) + np.arange(4)[:, None])
    with pytest.raises(ValueError, match="shape"):
        pbe0_hirshfeld(np.array([8, 1, 1]), np.zeros((2, 3)))
