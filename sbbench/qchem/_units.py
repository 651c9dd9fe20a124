"""Unit constants shared by the reference generator and the QM7-X reader.

Every conversion between Å and bohr or Hartree and eV in ``sbbench`` goes
through these named constants (CODATA 2018 values, as used by PySCF's
``pyscf.data.nist``), so the stored units can be audited in one place.
"""

from __future__ import annotations

__all__ = ["BOHR_PER_ANGSTROM", "ANGSTROM_PER_BOHR", "EV_PER_HARTREE"]

#: Bohr radii per ångström (1 Å = 1.8897261 bohr). Hirshfeld atomic dipoles
#: (``hVDIP``) and molecular dipoles (``vDIP``) are stored in e·bohr, the
#: atomic-unit convention of FHI-aims and of the QM7-X paper.
BOHR_PER_ANGSTROM: float = 1.0 / 0.529177210903

#: Ångström per bohr radius (inverse of :data:`BOHR_PER_ANGSTROM`).
ANGSTROM_PER_BOHR: float = 0.529177210903

#: Electron-volts per Hartree; QM7-X stores energies in eV.
EV_PER_HARTREE: float = 27.211386245988
