"""Cross-check of sbbench's Hirshfeld partitioning against horton-part.

horton-part (theochem's HORTON partitioning code, on PyPI) is an independent
Hirshfeld implementation: it interpolates the pro-atoms with cubic splines in r
(sbbench: log-linear in log r), builds its own pro-molecule and weights, and
integrates each atom on its own atomic grid (qc-grid Becke-radial x Lebedev),
where sbbench integrates on PySCF's level-3 molecular Becke grid. Both get the
*same* input: the PBE0/def2-SVP density matrix of ``pbe0_hirshfeld`` (evaluated
by PySCF on horton's grid) and the same free-atom table
(``_free_atom_table``: radii in bohr, spherically averaged UKS density).

Conventions: horton's ``cartesian_multipoles[A]`` holds ``-∫ w_A rho (r - R_A)^n dr``
for the Cartesian powers n in the order 1, x, y, z, ... (Z_A added to entry 0;
horton_part/core/base.py, ``Part.do_moments``), so entry 0 is the charge q_A and
entries 1:4 are ``-∫ w_A rho (r - R_A) dr`` about the nucleus, exactly sbbench's
mu_A in e·bohr: no sign flip or change of reference point is needed.

Target of issue 19: agreement to 1e-3 e and 1e-3 e·bohr. Measured (horton grid
120 Becke radii x 434 Lebedev points per atom): charges within 1.2e-5 e and
atomic dipoles within 3.3e-5 e·bohr for every molecule here (largest: CH3SH).
The remainder is quadrature error of the two grids, not a disagreement of the
codes: with 150 x 590 horton points CH3SH drops to 6e-6 e and 1.1e-5 e·bohr, and
sbbench's ``hirshfeld`` run on horton's own grid agrees with horton to 3e-6 e
and 9e-6 e·bohr.

Needs the ``reference`` extra (pyscf, horton-part, qc-grid); skipped otherwise.
About 35 s single-threaded for the six molecules.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("pyscf")
pytest.importorskip("horton_part")
pytest.importorskip("grid")

from ase.build import molecule  # noqa: E402
from grid.atomgrid import AtomGrid  # noqa: E402
from grid.becke import BeckeWeights  # noqa: E402
from grid.molgrid import MolGrid  # noqa: E402
from grid.onedgrid import GaussChebyshev, OneDGrid  # noqa: E402
from grid.rtransform import BeckeRTransform  # noqa: E402
from horton_part import HirshfeldWPart, ProAtomDB, ProAtomRecord  # noqa: E402
from pyscf import gto  # noqa: E402
from pyscf.dft import numint  # noqa: E402

from sbbench.qchem import BOHR_PER_ANGSTROM, pbe0_hirshfeld  # noqa: E402
from sbbench.qchem._hirshfeld import _free_atom_table  # noqa: E402

XC, BASIS = "PBE0", "def2-SVP"  # pbe0_hirshfeld's defaults
N_RADIAL = 120  # horton atomic grid: Becke-transformed Gauss-Chebyshev radii ...
LEBEDEV_DEGREE = 35  # ... times a 434-point Lebedev sphere
CHARGE_TOL = 1e-3  # e, issue 19's target
DIPOLE_TOL = 1e-3  # e·bohr, issue 19's target

# ASE G2 names; S in SH2 and CH3SH, Cl in CH3Cl.
MOLECULES = ["H2O", "NH3", "CH3OH", "SH2", "CH3SH", "CH3Cl"]

_LOGGER = logging.getLogger("sbbench.tests.horton_crosscheck")
_LOGGER.setLevel(logging.WARNING)


def _proatom_record(z: int) -> ProAtomRecord:
    """sbbench's free-atom density of element z as a horton-part neutral pro-atom."""
    radii, rho = _free_atom_table(z, XC, BASIS)
    # Radial weights 4π r² dr on the log grid (trapezoid in ln r); horton only uses
    # them for bookkeeping (moments), the spline goes through (radii, rho).
    weights = 4.0 * np.pi * radii**3 * np.log(radii[1] / radii[0])
    weights[[0, -1]] *= 0.5
    return ProAtomRecord(z, 0, 0.0, OneDGrid(radii, weights), rho)


def _horton_hirshfeld(numbers, pos_bohr, mol, dm):
    """Hirshfeld charges, atomic dipoles, grid electron count and grid size from horton-part."""
    rgrid = BeckeRTransform(1e-5, 1.5).transform_1d_grid(GaussChebyshev(N_RADIAL))
    atgrids = [AtomGrid(rgrid, degrees=[LEBEDEV_DEGREE], center=c, rotate=0) for c in pos_bohr]
    molgrid = MolGrid(numbers, atgrids, BeckeWeights(order=3), store=True)
    rho = np.empty(molgrid.size)
    block = 20000
    for start in range(0, molgrid.size, block):
        ao = numint.eval_ao(mol, molgrid.points[start : start + block])
        rho[start : start + block] = numint.eval_rho(mol, ao, dm)
    db = ProAtomDB([_proatom_record(int(z)) for z in sorted(set(numbers.tolist()))])
    part = HirshfeldWPart(
        pos_bohr, numbers, numbers.astype(float), molgrid, rho, db, lmax=1, logger=_LOGGER
    )
    part.do_charges()
    part.do_moments()
    charges = np.array(part.cache.load("charges"))
    multipoles = np.array(part.cache.load("cartesian_multipoles"))
    np.testing.assert_allclose(multipoles[:, 0], charges, atol=1e-12)  # entry 0 is q_A
    return charges, multipoles[:, 1:4], molgrid.integrate(rho), molgrid.size


@pytest.mark.slow
@pytest.mark.parametrize("name", MOLECULES)
def test_hirshfeld_agrees_with_horton_part(name):
    atoms = molecule(name)
    numbers = atoms.numbers.astype(int)
    res, dm = pbe0_hirshfeld(numbers, atoms.positions, xc=XC, basis=BASIS, return_dm=True)
    assert res.converged
    # The same molecule object pbe0_hirshfeld builds (neutral closed shell).
    pos_bohr = atoms.positions * BOHR_PER_ANGSTROM
    mol = gto.M(
        atom=[(int(z), tuple(p)) for z, p in zip(numbers, pos_bohr)],
        unit="Bohr",
        basis=BASIS,
        charge=0,
        spin=0,
        verbose=0,
    )
    q_h, mu_h, n_grid, grid_size = _horton_hirshfeld(numbers, pos_bohr, mol, dm)

    # horton's grid is fine enough: it holds all electrons, and its partition
    # rebuilds PySCF's molecular dipole, sum_A (q_A R_A + mu_A).
    assert abs(n_grid - numbers.sum()) < 1e-4
    dip_h = (q_h[:, None] * pos_bohr).sum(0) + mu_h.sum(0)
    np.testing.assert_allclose(dip_h, res.dipole, atol=1e-4)

    dq = np.abs(res.hirshfeld_charges - q_h).max()
    dmu = np.abs(res.atomic_dipoles - mu_h).max()
    print(
        f"{name}: horton grid {grid_size} points, "
        f"max |dq| = {dq:.1e} e, max |dmu| = {dmu:.1e} e*bohr"
    )
    np.testing.assert_allclose(res.hirshfeld_charges, q_h, rtol=0, atol=CHARGE_TOL)
    np.testing.assert_allclose(res.atomic_dipoles, mu_h, rtol=0, atol=DIPOLE_TOL)
