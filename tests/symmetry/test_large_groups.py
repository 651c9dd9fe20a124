"""Large axial groups and the structure-derived operation bound (issue 18 item 10).

The detector used to refuse D100h rings (400 operations; MolSym and QSym2 test
cases) with "more than 240 symmetry operations": a fixed cap. The bound is now
``max_operations(labels) = max(120, 4 m)``, m the atoms of the most frequent label
(the argument is in ``sbbench.symmetry._detect.max_operations``), checked here
against every family; pathological tolerances still fail fast.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from sbbench.symmetry import POLYHEDRAL_MAX_ORDER, detect, max_operations, schoenflies

from ._groups import close, generators, rotation
from .test_degenerate import rotated
from .test_families import check_group


def ring(n: int, bond: float = 1.39, z: float = 0.0) -> np.ndarray:
    """A regular n-gon with the given edge length (Å) in the plane at height z."""
    r = bond / (2 * np.sin(np.pi / n))
    ang = 2 * np.pi * np.arange(n) / n
    return np.column_stack([r * np.cos(ang), r * np.sin(ang), np.full(n, z)])


def test_bound_values():
    assert POLYHEDRAL_MAX_ORDER == 120
    assert max_operations([6] * 100) == 400
    assert max_operations([6] * 50 + [7] * 50) == 200
    assert max_operations([1] * 12) == 120  # small structures: the icosahedral groups
    assert max_operations([6] * 60) == 240
    assert max_operations([6, 1, 1]) == 120


def test_d100h_ring():
    pos = rotated(ring(100), 1, noise=1e-3)
    pg = detect(pos, [6] * 100)
    assert (pg.schoenflies, pg.order) == ("D100h", 400)
    assert pg.order == max_operations([6] * 100)  # the bound is tight
    check_group(pg, pos, 0.1)
    assert (pg.orbits == 0).all()


def test_two_element_rings():
    # C100H100 (an annulene-like ring, H outside): D100h with 100 atoms of each element
    inner = ring(100)
    outer = inner * (1 + 1.08 / np.linalg.norm(inner[0]))
    pos = rotated(np.vstack([inner, outer]), 2, noise=1e-3)
    pg = detect(pos, [6] * 100 + [1] * 100)
    assert (pg.schoenflies, pg.order) == ("D100h", 400)
    check_group(pg, pos, 0.1)
    # alternating 50 + 50: D50h, 4 x 50 = 200 operations, again the bound
    alt = rotated(ring(100), 3, noise=1e-3)
    pg = detect(alt, [6, 7] * 50)
    assert (pg.schoenflies, pg.order) == ("D50h", 200)
    check_group(pg, alt, 0.1)


def test_staggered_sandwich_d60d():
    """Two staggered 60-rings of one element 3 Å apart: D60d, 240 operations for m = 120."""
    top = ring(60, z=1.5)
    bottom = ring(60, z=-1.5) @ rotation([0, 0, 1], np.pi / 60).T
    pos = rotated(np.vstack([top, bottom]), 4, noise=1e-3)
    pg = detect(pos, [6] * 120)
    assert (pg.schoenflies, pg.order) == ("D60d", 240)


def test_naming_above_order_240():
    """Schoenflies naming found rotation orders only up to 240; now up to |G|."""
    n = 150
    rots = [rotation([0, 0, 1], 2 * np.pi * k / n) for k in range(n)]
    proper = rots + [r @ rotation([1, 0, 0], np.pi) for r in rots]
    sigma_h = np.diag([1.0, 1.0, -1.0])
    ops = np.array(proper + [sigma_h @ r for r in proper])
    assert schoenflies(ops) == "D150h"
    assert schoenflies(ops[: 2 * n]) == "D150"


AXIAL = [f"{f}{n}{s}" for n in (3, 4, 5, 7, 12) for f, s in (("C", ""), ("C", "v"), ("C", "h"))]
AXIAL += [f"D{n}{s}" for n in (3, 4, 5, 7, 12) for s in ("", "h", "d")]
AXIAL += [f"S{2 * n}" for n in (2, 3, 4, 6)]
POLYHEDRAL = ["T", "Td", "Th", "O", "Oh", "I", "Ih"]


@pytest.mark.parametrize("symbol", AXIAL + POLYHEDRAL)
def test_bound_holds_for_every_orbit(symbol):
    """The argument checked on exact groups: a structure with one label is a union of
    orbits, so the worst case is one orbit off the axis; points on the special planes
    and axes (the smallest orbits) included. |G| <= max(120, 4 |orbit|)."""
    ops = close(generators(symbol))
    assert schoenflies(ops) == symbol
    n = int("".join(c for c in symbol if c.isdigit()) or 0)
    phi = np.pi / (2 * n) if n else 0.3
    points = [
        [1.0, 0.0, 0.0],  # on sigma_h and a C2 / sigma_v: the smallest off-axis orbits
        [np.cos(phi), np.sin(phi), 0.0],  # on a sigma_d bisector
        [1.0, 0.0, 0.7],
        [0.0, 1.0, 0.7],
        [0.7, 0.3, 0.45],  # generic
        [1.0, 1.0, 1.0],  # polyhedral axes
        [0.0, 1.0, (1 + 5**0.5) / 2],
        [0.0, 0.0, 1.0],  # on the principal axis: an orbit of 1 or 2 (bound not needed)
    ]
    for x in np.array(points):
        images = np.einsum("gij,j->gi", ops, x)
        orbit = len(np.unique(np.round(images, 8), axis=0))
        off_axis = np.linalg.norm(x[:2]) > 1e-9 or symbol in POLYHEDRAL
        if off_axis:
            assert len(ops) <= max(120, 4 * orbit), (symbol, x, orbit)


@pytest.mark.parametrize("tol", [1.2, 1.5])
def test_pathological_tolerance_fails_fast(tol):
    phi = (1 + 5**0.5) / 2
    v = np.array([[0, s1, s2 * phi] for s1 in (1, -1) for s2 in (1, -1)])
    ico = np.concatenate([np.roll(v, k, axis=1) for k in range(3)])
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"more than 120 symmetry operations .* tol={tol:g} Å"):
        detect(ico, tol=tol)
    assert time.perf_counter() - start < 5.0
