"""Open re-computation of QM7-X-style Hirshfeld properties (PBE0 + Hirshfeld, PySCF).

Used only to generate the shipped offline reference set
(``datasets/qm7x/make_reference.py``); loading data never needs it. PySCF is
the optional extra ``sbbench[reference]`` and is imported lazily.
"""

from ._hirshfeld import HirshfeldResult, free_atom_density, hirshfeld, pbe0_hirshfeld
from ._units import ANGSTROM_PER_BOHR, BOHR_PER_ANGSTROM, EV_PER_HARTREE

__all__ = [
    "ANGSTROM_PER_BOHR",
    "BOHR_PER_ANGSTROM",
    "EV_PER_HARTREE",
    "HirshfeldResult",
    "free_atom_density",
    "hirshfeld",
    "pbe0_hirshfeld",
]
