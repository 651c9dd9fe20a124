"""The official QM7-X HDF5 layout: reading with clear errors, and writing.

Layout (Hoja et al., Sci. Data 8, 43 (2021); Zenodo record 4288677): files
``1000.hdf5`` ... ``8000.hdf5``, each holding groups ``f[idmol][idconf]`` where
``idmol`` is the molecule number as a string and ``idconf`` names the
conformer, e.g. ``Geom-m1-i1-c1-opt`` (the relaxed structure) or
``Geom-m1-i1-c1-17`` (a displaced one). Datasets per conformer used here:

========== ======== ============================================
key        shape    meaning (unit)
========== ======== ============================================
atNUM      (N,)     atomic numbers
atXYZ      (N, 3)   positions (Å)
hVDIP      (N, 3)   Hirshfeld atomic dipole vectors (e·bohr)
hCHG       (N,)     Hirshfeld charges (e)
vDIP       (3,)     molecular dipole vector (e·Å, FHI-aims output unit)
ePBE0      (1,)     PBE0 total energy (eV); official files also have ``ePBE0+MBD``
========== ======== ============================================

Scalars are stored as length-1 arrays. Only ``atNUM``, ``atXYZ`` and ``hVDIP``
are required by the benchmark; every read names the file, molecule, conformer
and key when something is missing or malformed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from sbbench._io import atomic_path
from sbbench.errors import InputError, NotFound

__all__ = [
    "REQUIRED_KEYS",
    "Conformer",
    "conformer_name",
    "heavy_atom_count",
    "iter_conformers",
    "open_hdf5",
    "parse_conformer_name",
    "read_conformer",
    "write_qm7x_file",
]

#: Keys every conformer must have for the benchmark.
REQUIRED_KEYS: tuple[str, ...] = ("atNUM", "atXYZ", "hVDIP")

_CONF_RE = re.compile(r"^Geom-m(\d+)-i(\d+)-c(\d+)-(opt|\d+)$")


def conformer_name(idmol: int, isomer: int = 1, conformer: int = 1, step: int | str = "opt"):
    """Official conformer id, e.g. ``conformer_name(1, step=17) == 'Geom-m1-i1-c1-17'``."""
    return f"Geom-m{int(idmol)}-i{int(isomer)}-c{int(conformer)}-{step}"


def parse_conformer_name(name: str) -> tuple[int, int, int, str]:
    """Split ``Geom-m<mol>-i<isomer>-c<conformer>-<opt|step>`` into its four fields.

    Raises
    ------
    ValueError
        If ``name`` does not follow the QM7-X pattern.
    """
    m = _CONF_RE.match(name)
    if m is None:
        raise InputError(f"conformer id {name!r} does not match 'Geom-m<i>-i<j>-c<k>-<opt|n>'")
    return int(m[1]), int(m[2]), int(m[3]), m[4]


def heavy_atom_count(numbers: np.ndarray) -> int:
    """Number of non-hydrogen atoms."""
    return int((np.asarray(numbers) > 1).sum())


@dataclass
class Conformer:
    """One QM7-X conformer as read from disk (units as in the file)."""

    file: str
    idmol: str
    idconf: str
    numbers: np.ndarray
    positions: np.ndarray
    hvdip: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def _where(file, idmol, idconf=None, key=None) -> str:
    parts = [f"file {file}", f"molecule {idmol!r}"]
    if idconf is not None:
        parts.append(f"conformer {idconf!r}")
    if key is not None:
        parts.append(f"key {key!r}")
    return ", ".join(parts)


def read_conformer(
    group: h5py.Group, *, file: str, idmol: str, idconf: str, extra_keys=()
) -> Conformer:
    """Read and validate one conformer group ``f[idmol][idconf]``.

    Raises
    ------
    ValueError
        Naming file, molecule, conformer and key, if a required key is missing,
        has the wrong shape, or holds non-finite values.
    """
    if not isinstance(group, h5py.Group):
        raise InputError(f"{_where(file, idmol, idconf)}: expected an HDF5 group")
    for key in REQUIRED_KEYS:
        if key not in group:
            raise InputError(f"{_where(file, idmol, idconf, key)}: missing")
    numbers = np.asarray(group["atNUM"][()]).reshape(-1)
    n = len(numbers)
    if n == 0 or not np.issubdtype(numbers.dtype, np.number):
        raise InputError(f"{_where(file, idmol, idconf, 'atNUM')}: expected a non-empty (N,) array")
    if np.any(numbers != np.round(numbers)) or np.any(numbers < 1) or np.any(numbers > 118):
        raise InputError(f"{_where(file, idmol, idconf, 'atNUM')}: invalid atomic numbers")
    out = {}
    for key in ("atXYZ", "hVDIP"):
        arr = np.asarray(group[key][()], dtype=np.float64)
        if arr.shape != (n, 3):
            raise InputError(
                f"{_where(file, idmol, idconf, key)}: expected shape ({n}, 3), got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{_where(file, idmol, idconf, key)}: non-finite values")
        out[key] = arr
    extra = {}
    for key in extra_keys:
        if key not in group:
            raise InputError(f"{_where(file, idmol, idconf, key)}: missing")
        extra[key] = np.asarray(group[key][()])
    return Conformer(
        file=file,
        idmol=idmol,
        idconf=idconf,
        numbers=numbers.astype(np.int64),
        positions=out["atXYZ"],
        hvdip=out["hVDIP"],
        extra=extra,
    )


def iter_conformers(
    path: str | os.PathLike,
    *,
    max_heavy: int | None = None,
    molecules: set[str] | None = None,
    extra_keys=(),
) -> Iterator[Conformer]:
    """Stream the conformers of one QM7-X-layout file, one at a time (bounded memory).

    Parameters
    ----------
    path : path-like
        An official ``NNNN.hdf5`` file or the shipped reference file.
    max_heavy : int, optional
        Skip molecules with more heavy (non-H) atoms; decided from the first
        conformer's ``atNUM`` so skipped molecules cost one small read.
    molecules : set of str, optional
        Only these ``idmol`` keys.
    extra_keys : sequence of str
        Further keys to read into :attr:`Conformer.extra` (required when given).
    """
    path = Path(path)
    with open_hdf5(path) as f:
        for idmol in f:
            if molecules is not None and idmol not in molecules:
                continue
            mol = f[idmol]
            if not isinstance(mol, h5py.Group) or len(mol) == 0:
                raise InputError(f"{_where(path, idmol)}: expected a group of conformers")
            if max_heavy is not None:
                first = next(iter(mol))
                if "atNUM" not in mol[first]:
                    raise InputError(f"{_where(path, idmol, first, 'atNUM')}: missing")
                if heavy_atom_count(mol[first]["atNUM"][()]) > max_heavy:
                    continue
            for idconf in mol:
                yield read_conformer(
                    mol[idconf], file=str(path), idmol=idmol, idconf=idconf, extra_keys=extra_keys
                )


def open_hdf5(path: str | os.PathLike) -> h5py.File:
    """Open a QM7-X file read-only; FileNotFoundError / ValueError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"QM7-X file not found: {path}")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"file {path}: not a readable HDF5 file ({exc})") from exc


def write_qm7x_file(
    path: str | os.PathLike,
    molecules: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]],
    *,
    attrs: Mapping[str, str] | None = None,
) -> Path:
    """Write ``{idmol: {idconf: {key: array}}}`` in the QM7-X layout, atomically.

    Scalars are stored as length-1 arrays as in the official files. The data is
    written to a temporary file in the target folder and renamed, so a crash
    never leaves a half-written file under ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # HDF5 1.8 object-header format: ~35% smaller than the default for many tiny
    # datasets, readable by any HDF5 >= 1.8
    with atomic_path(path) as tmp, h5py.File(tmp, "w", libver=("v108", "v108")) as f:
        for key, value in (attrs or {}).items():
            f.attrs[key] = value
        for idmol, confs in molecules.items():
            g = f.create_group(str(idmol))
            for idconf, data in confs.items():
                c = g.create_group(idconf)
                for key, value in data.items():
                    arr = np.asarray(value)
                    c.create_dataset(key, data=arr.reshape(1) if arr.ndim == 0 else arr)
    return path
