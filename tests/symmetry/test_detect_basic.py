"""Point groups of common molecules (ASE geometries), rotated and noisy, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule
from scipy.spatial.transform import Rotation

from sbbench.symmetry import detect

COMMON = {
    "H2O": "C2v",
    "NH3": "C3v",
    "CH4": "Td",
    "C6H6": "D6h",
    "CO2": "D*h",
    "HCN": "C*v",
    "CH3OH": "Cs",
    "C2H6": "D3d",
    "C2H4": "D2h",
    "C60": "Ih",
    "C4H4NH": "C2v",
    "COF2": "C2v",
}


@pytest.mark.parametrize("name", sorted(COMMON))
def test_common_molecules_rotated_noisy(name):
    mol = molecule(name)
    rng = np.random.default_rng(len(name))
    rot = Rotation.random(random_state=rng).as_matrix()
    pos = mol.positions @ rot.T + rng.normal(0.0, 0.005, mol.positions.shape) + rng.normal(size=3)
    pg = detect(pos, mol.numbers, tol=0.1)
    assert pg.schoenflies == COMMON[name]
    assert np.allclose(pg.operations[0], np.eye(3))
    centred = pos - pos.mean(axis=0)
    mapped = centred @ np.swapaxes(pg.operations, 1, 2)
    assert np.linalg.norm(mapped - centred[pg.permutations], axis=-1).max() <= 0.1
