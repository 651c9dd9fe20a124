"""Open re-computation of QM7-X-style Hirshfeld properties (PBE0 + Hirshfeld, PySCF).

Used only to generate the shipped offline reference sets
(``datasets/qm7x/make_reference.py``, ``make_reference_v2.py``); loading data
never needs it. PySCF, RDKit and tblite (GFN2-xTB conformers and normal modes,
``_xtb``) are the optional extra ``sbbench[reference]`` and are imported lazily.
"""

from ._hirshfeld import HirshfeldResult, free_atom_density, hirshfeld, pbe0_hirshfeld
from ._units import ANGSTROM_PER_BOHR, BOHR_PER_ANGSTROM, EV_PER_HARTREE
from ._xtb import NormalModes, embed, normal_modes, optimize, sample_displacement, xtb_energy

__all__ = [
    "ANGSTROM_PER_BOHR",
    "BOHR_PER_ANGSTROM",
    "EV_PER_HARTREE",
    "HirshfeldResult",
    "NormalModes",
    "embed",
    "free_atom_density",
    "hirshfeld",
    "normal_modes",
    "optimize",
    "pbe0_hirshfeld",
    "sample_displacement",
    "xtb_energy",
]
