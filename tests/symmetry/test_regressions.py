"""Regression molecules from pymatgen's tracker (issue 10, item 2).

Geometries quoted from the threads where they are public; where they are not,
a molecule reproducing the described failure class is constructed (said below).

* pymatgen #2253 (C4N6, 4,4'-bi-1,2,4-triazole): ``get_pointgroup`` never returns at
  tol 0.25. Geometry from the thread. The listed coordinates have an exact mirror
  plane y = 0 (Cs); the two triazole rings are equivalent to within 0.25 Å, so at
  tol >= 0.25 Å the group is D2d (checked: every operation moves atoms by <= tol).
* pymatgen #2250 (C7N8): pymatgen misses the C2 axis along z ((x, y, z) ->
  (-x, -y, z), exact to 3e-5 Å in the listed coordinates) at every tolerance.
  Geometry from the thread; answer C2 at every tolerance 0.01-0.5 Å.
* pymatgen PR #1399 (HC6H polyyne, slightly bent): pymatgen crashes ("min() arg is
  an empty sequence") at tol 0.3. Geometry from the thread; answer D*h (all atoms
  lie within 0.05 Å of a line).
* pymatgen #1772 ("D1d" for a C3v cluster): the geometry (a gist) is not public
  here. Reproduced by construction: an XY3 pyramid whose height makes the
  mass-weighted inertia tensor isotropic (an accidental spherical top, the cause
  named in the thread). Answer C3v.
* pymatgen #4596 (C2v reported as Cs or D2d): the 7-atom "square-face capped
  trigonal prism" (ST:7) from pymatgen's own chemenv geometries, as in the thread
  (coordinates below); answer C2v at tol 0.01, 0.1, 0.3. The thread's corrected
  4-atom C2v example is not public here: reproduced by a planar 4-atom C2v molecule
  whose C2 axis is not the unique inertia axis. The thread's first 4-atom example
  turned out to be D2d: reproduced by a flattened tetrahedron (answer D2d).
"""

from __future__ import annotations

import contextlib
import signal

import numpy as np
import pytest

from sbbench.symmetry import detect


def parse(text: str):
    rows = [line.split() for line in text.strip().splitlines()]
    return [r[0] for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])


ISSUE_2253 = """
C 1.887551 0.000000 -0.075956
N 2.605011 0.000000 -1.145031
N 1.722945 0.000000 -2.225207
C 0.522780 0.000000 -1.755613
N 0.567925 0.000000 -0.391239
N -0.515557 0.000000 0.463576
C -1.184399 1.083249 0.935390
N -2.210929 0.702391 1.629345
N -2.210929 -0.702391 1.629345
C -1.184399 -1.083249 0.935390
"""

ISSUE_2250 = """
C -0.000000 -0.000002  1.048832
C  1.008447  0.765201  0.191851
C -1.008448 -0.765196  0.191849
C  2.019657  1.482290  1.088066
C -2.019653 -1.482295  1.088058
N  2.932883  2.279851  0.284256
N -2.932877 -2.279853  0.284246
C  3.030291  3.615607  0.223535
C -3.030270 -3.615608  0.223507
N  3.994395  3.952771 -0.650098
N -3.994383 -3.952767 -0.650120
N  4.468392  2.802027 -1.112496
N -4.468410 -2.802025 -1.112481
N  3.829808  1.789427 -0.549517
N -3.829830 -1.789428 -0.549487
"""

PR_1399 = """
C 0.043026 -3.170664 -0.017826
C 0.025377 -1.961567 -0.006592
C 0.006889 -0.608728 0.002115
C -0.009166 0.608634 0.009211
C -0.026800 1.961505 0.013524
C -0.042680 3.170676 0.016064
H 0.059658 -4.231919 -0.031944
H -0.056304 4.232063 0.015448
"""

# chemenv ST:7, "Square-face capped trigonal prism" (pymatgen AllCoordinationGeometries)
ST7 = np.array(
    [
        [-0.6547, -0.378, 0.6547],
        [0.6547, -0.378, 0.6547],
        [0.0, 0.7559, 0.6547],
        [-0.6547, -0.378, -0.6547],
        [0.6547, -0.378, -0.6547],
        [0.0, 0.7559, -0.6547],
        [0.0, -1.0, 0.0],
    ]
)


@contextlib.contextmanager
def alarm(seconds: int, message: str):
    """Raise TimeoutError(message) if the block runs longer than ``seconds``."""

    def handler(signum, frame):
        raise TimeoutError(message)

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


#: Small molecules that take every compiled path of the detector the tests below take:
#: asymmetric (H2O), symmetric (NH3) and spherical (CH4) tops, linear (CO2), planar D6h;
#: atoms given as numbers, symbols and None, as below.
_HEX = np.column_stack([np.cos(np.arange(6) * np.pi / 3), np.sin(np.arange(6) * np.pi / 3)])
WARMUP = [
    (np.array([[0, 0, 0.12], [0, 0.76, -0.47], [0, -0.76, -0.47]]), ["O", "H", "H"]),
    (
        np.array([[0, 0, 0.1], [0.94, 0, -0.27], [-0.47, 0.81, -0.27], [-0.47, -0.81, -0.27]]),
        [7, 1, 1, 1],
    ),
    (
        np.array([[0, 0, 0], [1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1.0]]) * 0.63,
        [6, 1, 1, 1, 1],
    ),
    (np.array([[0, 0, 0], [0, 0, 1.16], [0, 0, -1.16]]), [6, 8, 8]),
    (np.column_stack([1.4 * _HEX, np.zeros(6)]), None),  # numbers=None as for ST7
]


@pytest.fixture(scope="module")
def compiled():
    """Compile the detector's numba kernels before any 60 s deadline is armed.

    In a fresh installation the first ``detect`` compiles them (about a minute on 2
    cores, more on a loaded machine; then they are cached on disk), which must not
    count against a test's deadline: that only guards the detection itself.
    """
    with alarm(900, "compiling the point-group detector took over 15 minutes"):
        for pos, numbers in WARMUP:
            pg = detect(pos, numbers, tol=0.1)
            pg.symmetrize()
            _ = pg.permutations


@pytest.fixture
def deadline(compiled):
    """Fail instead of hanging: each detection here must return within 60 s."""
    with alarm(60, "point-group detection did not return within 60 s"):
        yield


def max_displacement(pg, pos):
    x = pos - pos.mean(axis=0)
    return np.linalg.norm(x @ pg.operations.transpose(0, 2, 1) - x[pg.permutations], axis=-1).max()


def test_issue_2253_never_hangs(deadline):
    symbols, pos = parse(ISSUE_2253)
    for tol in (0.01, 0.05, 0.1):
        assert detect(pos, symbols, tol=tol).schoenflies == "Cs"
    for tol in (0.25, 0.3, 0.5):
        pg = detect(pos, symbols, tol=tol)
        assert pg.schoenflies == "D2d"
        assert max_displacement(pg, pos) <= tol


def test_issue_2250_finds_the_c2(deadline):
    symbols, pos = parse(ISSUE_2250)
    c2 = np.diag([-1.0, -1.0, 1.0])
    mapped = pos @ c2.T
    assert np.abs(mapped[:, None] - pos[None]).max(-1).min(1).max() < 1e-4
    for tol in (0.01, 0.1, 0.25, 0.5):
        pg = detect(pos, symbols, tol=tol)
        assert pg.schoenflies == "C2"
        assert np.allclose(pg.operations[1], c2, atol=1e-4)


def test_pr_1399_bent_polyyne_is_linear(deadline):
    symbols, pos = parse(PR_1399)
    for tol in (0.1, 0.3):
        pg = detect(pos, symbols, tol=tol)
        assert pg.schoenflies == "D*h"
    sym, rmsd = pg.symmetrize()
    assert rmsd < 0.05
    assert detect(sym, symbols, tol=0.01).schoenflies == "D*h"


def test_issue_1772_accidental_spherical_top():
    masses = {"P": 30.974, "Cl": 35.453}
    r = 1.8
    h = r * np.sqrt((masses["P"] + 3 * masses["Cl"]) / (2 * masses["P"]))
    ang = 2 * np.pi * np.arange(3) / 3
    pos = np.vstack([[0, 0, h], np.column_stack([r * np.cos(ang), r * np.sin(ang), np.zeros(3)])])
    symbols = ["P", "Cl", "Cl", "Cl"]
    m = np.array([masses[s] for s in symbols])
    x = pos - (m[:, None] * pos).sum(0) / m.sum()
    inertia = (m * (x**2).sum(1)).sum() * np.eye(3) - np.einsum("n,ni,nj->ij", m, x, x)
    eig = np.linalg.eigvalsh(inertia)
    assert np.ptp(eig) < 1e-9 * eig.max()  # it is an accidental spherical top
    for tol in (0.01, 0.1, 0.3):
        assert detect(pos, symbols, tol=tol).schoenflies == "C3v"


def test_issue_4596_c2v_not_cs_or_d2d():
    for tol in (0.01, 0.1, 0.3):
        assert detect(ST7, tol=tol).schoenflies == "C2v"
    # planar C2v (xz plane, C2 along z) whose C2 is not the unique inertia axis
    four = np.array([[0.0, 0, 0.9], [0.0, 0, -0.4], [1.3, 0, -0.8], [-1.3, 0, -0.8]])
    for tol in (0.01, 0.1, 0.3):
        assert detect(four, ["N", "B", "F", "F"], tol=tol).schoenflies == "C2v"
    flat_tet = np.array([[1.0, 0, 0.3], [-1.0, 0, 0.3], [0, 1.0, -0.3], [0, -1.0, -0.3]])
    for tol in (0.01, 0.1, 0.3):
        assert detect(flat_tet, tol=tol).schoenflies == "D2d"
