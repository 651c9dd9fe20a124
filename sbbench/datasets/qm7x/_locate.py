"""Where the QM7-X files are: the official download folder, one file, or a version of the
shipped reference set.

:func:`curation_sources` turns "curate this" (a folder, a file, or the reference set)
into the arguments of :func:`~sbbench.datasets.qm7x.curate`, with errors that say which
file is missing and the command that fetches it. ``sbbench qm7x curate`` is a thin
wrapper around the two.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sbbench.errors import InputError, NotFound

from ._fetch import default_data_dir

__all__ = [
    "CURATED_NAME",
    "REFERENCE_FILES",
    "REFERENCE_VERSION",
    "CurationSources",
    "curation_sources",
    "official_files",
    "reference_file",
]

#: File name of the curated official subset inside the data folder.
CURATED_NAME = "curated.hdf5"
#: Shipped reference-set versions (``datasets/qm7x/``, computed by sbbench, not the
#: official data): 1 = 57 G2 molecules with Cartesian noise (``make_reference.py``),
#: 2 = enumerated molecules with GFN2-xTB normal-mode conformers, randomly oriented
#: (``make_reference_v2.py``). Old versions stay loadable for the rows made on them.
REFERENCE_FILES = {1: "reference.hdf5", 2: "reference_v2.hdf5"}
#: The version served by default (``load("qm7x", source="reference")``).
REFERENCE_VERSION = 2

#: The duplicate list of the official record, next to the NNNN.hdf5 files.
DUPMOLS_NAME = "DupMols.dat"


@dataclass(frozen=True)
class CurationSources:
    """What to curate, as :func:`~sbbench.datasets.qm7x.curate` takes it.

    Attributes
    ----------
    files : list of Path
        QM7-X-layout HDF5 files, in the order to scan them.
    dupmols : Path or None
        ``DupMols.dat`` of an official folder; None for a single file or the
        reference set (nothing to drop).
    default_output : Path or None
        Where the curated file goes when no output is given: ``<folder>/curated.hdf5``
        for an official folder, which is where the ``qm7x`` dataset looks for it; None
        for a single file or the reference set (an output must be given: writing next
        to a shipped or a lone file would not be found by the dataset).
    """

    files: list[Path]
    dupmols: Path | None
    default_output: Path | None


def reference_file(version: int = REFERENCE_VERSION) -> Path:
    """The shipped QM7-X reference set of a version (:data:`REFERENCE_FILES`; computed by
    sbbench, not the official data).

    Raises
    ------
    ValueError
        For a version that does not exist.
    FileNotFoundError
        If the installation does not ship it.
    """
    from sbbench._paths import shipped_file

    if version not in REFERENCE_FILES:
        raise InputError(
            f"qm7x: reference_version must be one of {sorted(REFERENCE_FILES)}, got {version!r}"
        )
    return shipped_file("qm7x", REFERENCE_FILES[version])


def official_files(folder: str | os.PathLike) -> list[Path]:
    """The official ``NNNN.hdf5`` files of a QM7-X folder, in numeric order (1000, ..., 8000).

    Other ``.hdf5`` files (``curated.hdf5``, a leftover of a failed curation) are not
    official data and are left out.

    Parameters
    ----------
    folder : path-like
        A folder filled by ``sbbench fetch qm7x``.

    Returns
    -------
    list of Path
        At least one file.

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder, or holds no ``NNNN.hdf5`` file; the message
        names the ``sbbench fetch qm7x`` command that fills it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"no QM7-X folder {folder}; run `sbbench fetch qm7x --dest {folder}` first")
    files = sorted(
        (p for p in folder.glob("*.hdf5") if p.stem.isdigit()), key=lambda p: int(p.stem)
    )
    if not files:
        raise NotFound(f"no NNNN.hdf5 files in {folder}; run `sbbench fetch qm7x --dest {folder}`")
    return files


def curation_sources(
    src: str | os.PathLike | None = None,
    *,
    reference: bool = False,
    reference_version: int = REFERENCE_VERSION,
) -> CurationSources:
    """The files to curate for a source folder, a single file or the reference set.

    Parameters
    ----------
    src : path-like, optional
        A folder of official files (``NNNN.hdf5`` and ``DupMols.dat``, as ``sbbench
        fetch qm7x`` leaves them) or one QM7-X-layout file; default
        :func:`~sbbench.datasets.qm7x.default_data_dir`. Ignored when ``reference``.
    reference : bool
        Curate the shipped reference set (:func:`reference_file`) instead.
    reference_version : int
        Which version of it (:data:`REFERENCE_FILES`; default the served one).

    Returns
    -------
    CurationSources

    Raises
    ------
    FileNotFoundError
        If ``src`` is neither a file nor a folder, the folder holds no ``NNNN.hdf5``
        (:func:`official_files`), or its ``DupMols.dat`` is missing (curating without
        it would keep the duplicates the paper drops).
    """
    path = Path(src) if src is not None else default_data_dir()
    if reference or path.is_file():
        return CurationSources(
            files=[reference_file(reference_version) if reference else path],
            dupmols=None,
            default_output=None,
        )
    files = official_files(path)
    dupmols = path / DUPMOLS_NAME
    if not dupmols.is_file():
        raise NotFound(f"{dupmols} is missing; run `sbbench fetch qm7x --files DupMols`")
    return CurationSources(files=files, dupmols=dupmols, default_output=path / CURATED_NAME)
