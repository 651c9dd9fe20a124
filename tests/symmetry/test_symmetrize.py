"""symmetrize_structure: project onto the detected group until it stops growing."""

from __future__ import annotations

import numpy as np
import pytest

from sbbench.datasets.qm7x import iter_conformers, reference_file
from sbbench.symmetry import detect, symmetrize_structure


def _conformer(idmol: str, idconf: str):
    """A real conformer of the shipped reference set v2 (methane, 1500 K sample)."""
    for c in iter_conformers(reference_file(2)):
        if (c.idmol, c.idconf) == (idmol, idconf):
            return c.positions, c.numbers
    raise AssertionError(f"{idmol}/{idconf} not in the reference set")


def _max_image_distance(pos, z, pg) -> float:
    """max over operations and atoms of the distance from g.x_i to the nearest same-element
    atom: 0 for a structure exactly invariant under the group."""
    c = pos - pos.mean(0)
    worst = 0.0
    for rot in pg.operations:
        d = np.linalg.norm((c @ rot.T)[:, None] - c[None], axis=-1)
        d[z[:, None] != z[None, :]] = np.inf
        worst = max(worst, float(d.min(1).max()))
    return worst


def test_one_projection_can_gain_symmetry_and_the_fixed_point_is_exact():
    pos, z = _conformer("1", "Geom-m1-i1-c1-5")  # CH4: C3v at 0.2 Å, Td after projecting
    first = detect(pos, z, tol=0.2)
    once, _ = first.symmetrize()
    bigger = detect(once, z, tol=0.2)
    assert bigger.order > first.order  # one projection is not exactly symmetric under ...
    assert _max_image_distance(once, z, bigger) > 1e-3  # ... the group found on it

    sym, rmsd, pg = symmetrize_structure(pos, z, tol=0.2)
    assert pg.schoenflies == "Td" and pg.order == detect(sym, z, tol=0.2).order
    assert _max_image_distance(sym, z, pg) < 1e-8
    assert rmsd == pytest.approx(float(np.sqrt(((sym - pos) ** 2).sum(-1).mean())))
    assert 0 < rmsd < 0.2
    assert np.allclose(sym.mean(0), pos.mean(0))  # the centroid stays


def test_exactly_symmetric_input_is_a_fixed_point():
    pos, z = _conformer("1", "Geom-m1-i1-c1-5")
    sym, _, pg = symmetrize_structure(pos, z, tol=0.2)
    again, rmsd, pg2 = symmetrize_structure(sym, z, tol=0.2)
    assert rmsd < 1e-10 and np.allclose(again, sym, atol=1e-10)
    assert pg2.order == pg.order


def test_a_group_that_keeps_growing_is_an_error():
    pos, z = _conformer("1", "Geom-m1-i1-c1-5")  # needs three projections
    with pytest.raises(RuntimeError, match="still grows after 1 rounds"):
        symmetrize_structure(pos, z, tol=0.2, max_rounds=1)
