"""The Curie floor binds at exact symmetry only: inputs within the tolerance are reported."""

from __future__ import annotations

import numpy as np
import pytest

from sbbench.curie import EXACT_SYMMETRY, curie_check, sample_check
from sbbench.datasets import make_sample
from sbbench.symmetry import detect

WATER_Z = np.array([8, 1, 1])
WATER = np.array([[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]])
# antisymmetric-stretch-like target: breaks the mirror that swaps the hydrogens
Y = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.2], [0.0, 0.5, -0.2]])


class _Set(list):
    tol = 0.2


def _report(pos):
    return curie_check(_Set([make_sample(WATER_Z, pos, Y, idx=0, tol=0.2)]), name="w")


def test_input_asymmetry_is_the_largest_atom_mismatch_under_the_group():
    pos = WATER.copy()
    pos[1, 1] += 0.03  # one H moved 0.03 Å: still C2v at 0.2 Å
    ops = detect(pos, WATER_Z, tol=0.2).operations
    check = sample_check(pos, WATER_Z, Y, ops, tol=0.2)
    assert len(ops) == 4
    # the mirror swapping the H atoms maps H1 onto H2 with a mismatch of 0.03 Å, less the
    # share of the centroid and of the symmetrised frame: between 0.015 and 0.03 Å
    assert 0.015 < check.input_asymmetry <= 0.03 + 1e-9
    exact = sample_check(WATER, WATER_Z, Y, detect(WATER, WATER_Z, tol=0.2).operations, tol=0.2)
    assert exact.input_asymmetry < 1e-9


def test_report_says_the_floor_binds_only_at_exact_symmetry():
    pos = WATER.copy()
    pos[1, 1] += 0.03
    near = _report(pos)
    assert near.n_breaking == 1 and near.floor_sbmse > 0
    assert near.input_asymmetry > EXACT_SYMMETRY
    text = near.format()
    assert "symmetric only to within" in text and "symmetrize=True" in text
    assert "cannot score below this floor" not in text
    sym, _ = detect(pos, WATER_Z, tol=0.2).symmetrize()
    exact = _report(sym)
    assert exact.input_asymmetry < EXACT_SYMMETRY
    assert "cannot score below this floor" in exact.format()
    assert exact.floor_sbmse == pytest.approx(near.floor_sbmse, rel=0.2)
