"""Oracle test on the 162 molecules of ``ase.collections.g2`` against pymatgen.

Reference: pymatgen's ``PointGroupAnalyzer`` with its default tolerances on the
clean, unrotated geometry (pymatgen is the test oracle only, never a runtime
dependency). Ours runs on a randomly rotated (proper or improper), translated
copy with 0.005 Å Gaussian noise, at tol = 0.1 Å. The issue asks for >= 99 %
agreement; we assert that and that every disagreement is listed below.

Corrections to the reference (pymatgen is wrong on these):

* ``C4H4NH`` (pyrrole) and ``COF2``: pymatgen says Cs; the molecules are planar
  C2v (the test verifies the four operations numerically on the clean geometry,
  to 1e-3 Å). Two moments of inertia are nearly equal, so pymatgen treats them as
  a symmetric top and looks for the principal axis in the wrong place.

Tolerance-dependent molecules (kept, reference unchanged, checked separately):

* ``CH3O`` and ``CH3S`` are Jahn-Teller distorted: their C3 operations move atoms
  by 0.069 Å and 0.045 Å. At tol = 0.1 Å (and pymatgen's default 0.3) they are
  C3v; below those distances they are Cs (``test_jahn_teller_threshold``).

Remaining disagreements after the corrections: none (``KNOWN_DISAGREEMENTS`` is
empty; any new one fails the test and must be explained here).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ase.collections import g2
from scipy.spatial.transform import Rotation

from sbbench.symmetry import detect

CORRECTIONS = {  # name: (pymatgen's answer, correct answer)
    "C4H4NH": ("Cs", "C2v"),
    "COF2": ("Cs", "C2v"),
}
KNOWN_DISAGREEMENTS: dict[str, str] = {}


def pymatgen_reference() -> dict[str, str]:
    pmg = pytest.importorskip("pymatgen.symmetry.analyzer")
    from pymatgen.core import Molecule

    ref = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in g2.names:
            atoms = g2[name]
            mol = Molecule(atoms.get_chemical_symbols(), atoms.positions)
            ref[name] = pmg.PointGroupAnalyzer(mol).sch_symbol
    for name, (wrong, right) in CORRECTIONS.items():
        if ref[name] == wrong:  # a newer pymatgen may have fixed it
            ref[name] = right
    return ref


def noisy_copy(pos: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    rot = Rotation.random(random_state=rng).as_matrix() * rng.choice([-1.0, 1.0])
    return pos @ rot.T + rng.normal(0.0, sigma, pos.shape) + rng.normal(0.0, 5.0, 3)


def test_g2_against_pymatgen():
    ref = pymatgen_reference()
    rng = np.random.default_rng(2024)
    disagree = {}
    for name in g2.names:
        atoms = g2[name]
        ours = detect(noisy_copy(atoms.positions, rng, 0.005), atoms.numbers, tol=0.1)
        if ours.schoenflies != ref[name]:
            disagree[name] = f"pymatgen {ref[name]}, ours {ours.schoenflies}"
    assert len(disagree) <= 0.01 * len(g2.names), disagree
    assert set(disagree) <= set(KNOWN_DISAGREEMENTS), disagree


@pytest.mark.parametrize("name", sorted(CORRECTIONS))
def test_corrections_verified(name):
    """The corrected groups are real: every operation maps the clean molecule onto itself."""
    atoms = g2[name]
    pg = detect(atoms.positions, atoms.numbers, tol=0.1)
    assert pg.schoenflies == CORRECTIONS[name][1]
    x = atoms.positions - atoms.positions.mean(axis=0)
    moved = x @ pg.operations.transpose(0, 2, 1) - x[pg.permutations]
    assert np.linalg.norm(moved, axis=-1).max() < 1e-3
    assert (atoms.numbers[pg.permutations] == atoms.numbers).all()


@pytest.mark.parametrize(("name", "dist"), [("CH3O", 0.069), ("CH3S", 0.045)])
def test_jahn_teller_threshold(name, dist):
    atoms = g2[name]
    assert detect(atoms.positions, atoms.numbers, tol=dist + 0.005).schoenflies == "C3v"
    assert detect(atoms.positions, atoms.numbers, tol=dist - 0.005).schoenflies == "Cs"


def test_g2_stable_under_noise():
    """Unlike pymatgen (whose answer changes for ~10 % of G2 under 0.01 Å noise), ours
    does not change under 0.01 Å noise at tol = 0.1 Å."""
    rng = np.random.default_rng(7)
    changed = {}
    for name in g2.names:
        atoms = g2[name]
        clean = detect(atoms.positions, atoms.numbers, tol=0.1).schoenflies
        noisy = detect(noisy_copy(atoms.positions, rng, 0.01), atoms.numbers, tol=0.1)
        if noisy.schoenflies != clean:
            changed[name] = (clean, noisy.schoenflies)
    assert not changed, changed
