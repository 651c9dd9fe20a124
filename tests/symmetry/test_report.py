"""``sbbench.symmetry.point_group_report`` and ``equivalence_classes``: a group as JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import molecule

from sbbench.symmetry import detect, equivalence_classes, point_group_report


@pytest.fixture(scope="module")
def ch4():
    m = molecule("CH4")
    return detect(m.positions, m.numbers, tol=0.05), m.get_chemical_symbols()


def test_classes_of_methane(ch4):
    pg, symbols = ch4
    assert equivalence_classes(pg, symbols) == [
        {"element": "C", "indices": [0]},
        {"element": "H", "indices": [1, 2, 3, 4]},
    ]


def test_classes_of_ethane_staggered():
    """C2H6: the carbons form one class, the six hydrogens another (D3d swaps the ends)."""
    m = molecule("C2H6")
    pg = detect(m.positions, m.numbers, tol=0.1)
    classes = equivalence_classes(pg, m.get_chemical_symbols())
    assert sorted((c["element"], len(c["indices"])) for c in classes) == [("C", 2), ("H", 6)]
    assert sorted(i for c in classes for i in c["indices"]) == list(range(8))


def test_report_is_json_ready_and_complete(ch4):
    pg, symbols = ch4
    doc = point_group_report(pg, symbols, file="ch4.xyz", n_atoms=5)
    assert list(doc)[:3] == ["file", "n_atoms", "tol"]  # about first, in the given order
    back = json.loads(json.dumps(doc))  # no numpy left in it
    assert back == doc
    assert (doc["schoenflies"], doc["label"], doc["order"], doc["tol"]) == ("Td", "Td", 24, 0.05)
    assert doc["is_infinite"] is False
    ops = np.array(doc["operations"])
    assert ops.shape == (24, 3, 3) and np.allclose(ops[0], np.eye(3))
    perms = np.array(doc["permutations"])
    assert perms.shape == (24, 5) and all(sorted(p) == list(range(5)) for p in perms)
    assert doc["orbits"] == [0, 1, 1, 1, 1]
    assert doc["classes"] == equivalence_classes(pg, symbols)
    frame = np.array(doc["frame"])
    assert np.allclose(frame @ frame.T, np.eye(3))
    assert np.allclose(doc["centroid"], molecule("CH4").positions.mean(axis=0))
    assert 0 <= doc["symmetrize_rmsd"] < 0.05


def test_report_of_a_linear_molecule_names_the_stand_in():
    co2 = molecule("CO2")
    pg = detect(co2.positions, co2.numbers, tol=0.1)
    doc = point_group_report(pg, co2.get_chemical_symbols())
    assert doc["schoenflies"] == "D*h" and doc["label"] == "D*h (as D8h)"
    assert doc["is_infinite"] is True and doc["order"] == len(doc["operations"]) == 32


@pytest.mark.parametrize("symbols", [["C", "H"], ["C", "H", "H", "H", "H", "H"]])
def test_wrong_number_of_symbols_is_a_clear_error(ch4, symbols):
    pg, _ = ch4
    with pytest.raises(ValueError, match=f"{len(symbols)} symbols for a group of 5 atoms"):
        equivalence_classes(pg, symbols)
    with pytest.raises(ValueError, match="symbols for a group of 5 atoms"):
        point_group_report(pg, symbols)
