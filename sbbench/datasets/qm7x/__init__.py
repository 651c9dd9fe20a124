"""QM7-X Hirshfeld dipoles: official-file reader and fetcher, curation, and the ``qm7x`` dataset.

* :mod:`._format`: the official HDF5 layout (read with errors naming file,
  molecule, conformer and key; write atomically).
* :mod:`._fetch`: resumable, MD5-verified download of the Zenodo files
  (``sbbench fetch qm7x``).
* :mod:`._curate`: SANN App. C.2 symmetry-breaking curation
  (``sbbench qm7x curate``).
* :mod:`._locate`: which files to curate (an official folder, one file, or the shipped
  reference set; :func:`curation_sources`).
* :mod:`._dataset`: the registered ``qm7x`` dataset (official curated files or
  the shipped reference set).
"""

from ._curate import (
    PAPER_MOLECULES,
    CurationResult,
    conformer_breaks_symmetry,
    curate,
    read_dupmols,
)
from ._dataset import QM7X, conformer_rotation, resolve_source
from ._fetch import OFFICIAL_FILES, OFFICIAL_MD5, OFFICIAL_URL_BASE, default_data_dir, fetch
from ._format import (
    REQUIRED_KEYS,
    Conformer,
    conformer_name,
    heavy_atom_count,
    iter_conformers,
    open_hdf5,
    parse_conformer_name,
    read_conformer,
    write_qm7x_file,
)
from ._locate import (
    CURATED_NAME,
    REFERENCE_FILES,
    REFERENCE_VERSION,
    CurationSources,
    curation_sources,
    official_files,
    reference_file,
)

__all__ = [
    "CURATED_NAME",
    "REFERENCE_FILES",
    "REFERENCE_VERSION",
    "conformer_rotation",
    "OFFICIAL_FILES",
    "OFFICIAL_MD5",
    "OFFICIAL_URL_BASE",
    "PAPER_MOLECULES",
    "QM7X",
    "REQUIRED_KEYS",
    "Conformer",
    "CurationResult",
    "CurationSources",
    "conformer_breaks_symmetry",
    "conformer_name",
    "curate",
    "curation_sources",
    "default_data_dir",
    "fetch",
    "heavy_atom_count",
    "iter_conformers",
    "official_files",
    "open_hdf5",
    "parse_conformer_name",
    "read_conformer",
    "read_dupmols",
    "reference_file",
    "resolve_source",
    "write_qm7x_file",
]
