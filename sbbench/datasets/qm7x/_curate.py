"""Symmetry-breaking curation of QM7-X (SANN paper, appendix C.2).

A conformer *breaks symmetry* when its Hirshfeld dipole field has lower
symmetry than its structure: with ``pg = detect(atXYZ, atNUM, tol)`` (tol in
Å, 0.2 in the paper), ``pg.stabilizer(hVDIP, tol=dipole_tol).order < pg.order``.
A molecule (``idmol``) is kept when at least one of its conformers breaks
symmetry, and then *all* its conformers are kept (App. C.2: "we have selected
the conformers of these structures in addition to the structures with broken
symmetry"). Duplicates listed in ``DupMols.dat`` are dropped first.

The dipole tolerance is a separate number in e·bohr. Hirshfeld dipoles are
~0.05-0.3 e·bohr, so reusing 0.2 (the Å tolerance) for them would call almost
every field symmetric; the default 0.01 e·bohr is far above numerical noise
(our PySCF reference reproduces exact symmetry to 1e-5 e·bohr) and below the
physical symmetry breaking of displaced conformers. The paper does not state
its dipole tolerance; the value used is recorded in the output.

The scan streams one molecule at a time (bounded memory) and writes the kept
conformers in the QM7-X layout (so the same reader loads it) together with
per-conformer index attributes and the provenance of the run.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from sbbench._io import atomic_path
from sbbench.errors import InputError, NotFound

from ._format import heavy_atom_count, open_hdf5, parse_conformer_name, read_conformer

__all__ = [
    "PAPER_MOLECULES",
    "CurationResult",
    "conformer_breaks_symmetry",
    "curate",
    "read_dupmols",
]

#: Molecules in the SANN paper's QM7-X subset (Sec. 6.3, Table 3; App. C.2 says 255).
PAPER_MOLECULES = 225


def read_dupmols(path: str | os.PathLike | None) -> set[str]:
    """Entries of ``DupMols.dat`` (one conformer id per line), or an empty set for None.

    An entry ``Geom-m<i>-i<j>-c<k>-opt`` marks that relaxed structure as a
    duplicate; all conformers ``Geom-m<i>-i<j>-c<k>-*`` derived from it are
    dropped (this is how the QM7-X authors' example script uses the list).
    """
    if path is None:
        return set()
    path = Path(path)
    entries = set()
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            s = line.strip()
            if not s:
                continue
            try:
                parse_conformer_name(s)
            except ValueError as exc:
                raise InputError(f"file {path}, line {lineno}: {exc}") from None
            entries.add(s)
    return entries


def _is_duplicate(idconf: str, dups: set[str]) -> bool:
    if not dups:
        return False
    if idconf in dups:
        return True
    return idconf.rsplit("-", 1)[0] + "-opt" in dups


def conformer_breaks_symmetry(
    positions: np.ndarray,
    numbers: np.ndarray,
    hvdip: np.ndarray,
    *,
    tol: float = 0.2,
    dipole_tol: float = 0.01,
) -> tuple[bool, str, int, str, int]:
    """Whether the dipole field has lower symmetry than the structure.

    Returns
    -------
    (broken, group, order, stabilizer_group, stabilizer_order)
    """
    from sbbench.symmetry import detect

    pg = detect(positions, numbers, tol=tol)
    st = pg.stabilizer(hvdip, tol=dipole_tol)
    return st.order < pg.order, pg.schoenflies, pg.order, st.schoenflies, st.order


@dataclass
class CurationResult:
    """Counts of a curation run (and where the output went)."""

    output: Path
    files: list[str]
    molecules_scanned: int = 0
    conformers_scanned: int = 0
    duplicates_dropped: int = 0
    molecules_kept: int = 0
    conformers_kept: int = 0
    conformers_broken: int = 0
    seconds: float = 0.0
    groups: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        rate = self.conformers_scanned / self.seconds if self.seconds > 0 else float("nan")
        lines = [
            f"scanned {self.conformers_scanned} conformers of {self.molecules_scanned} molecules "
            f"in {len(self.files)} file(s) ({rate:.0f} conformers/s)",
            f"dropped {self.duplicates_dropped} duplicate conformers (DupMols)",
            f"symmetry-breaking conformers: {self.conformers_broken}",
            f"kept {self.molecules_kept} molecules / {self.conformers_kept} conformers "
            f"-> {self.output}",
        ]
        if self.molecules_kept != PAPER_MOLECULES:
            lines.append(
                f"NOTE: the SANN paper reports {PAPER_MOLECULES} molecules (Sec. 6.3; App. C.2 "
                f"says 255); this run kept {self.molecules_kept} "
                f"({self.molecules_kept - PAPER_MOLECULES:+d})"
            )
        return "\n".join(lines)


def curate(
    sources: Iterable[str | os.PathLike],
    output: str | os.PathLike,
    *,
    max_heavy: int = 5,
    tol: float = 0.2,
    dipole_tol: float = 0.01,
    dupmols: str | os.PathLike | None = None,
    progress: bool = True,
) -> CurationResult:
    """Scan QM7-X-layout files and write the symmetry-breaking subset (App. C.2).

    Parameters
    ----------
    sources : iterable of path-like
        QM7-X files (official ``NNNN.hdf5`` or the shipped reference file).
    output : path-like
        Output HDF5 (QM7-X layout; written to a temporary file and renamed).
    max_heavy : int
        Keep molecules with at most this many heavy atoms (paper: 5).
    tol : float
        Structure symmetry tolerance in Å (paper: 0.2).
    dipole_tol : float
        Tolerance in e·bohr for the stabilizer of the Hirshfeld dipoles.
    dupmols : path-like, optional
        ``DupMols.dat``; listed duplicates are dropped.
    progress : bool
        Show a tqdm progress bar over molecules.
    """
    from tqdm.auto import tqdm

    if max_heavy < 1:
        raise InputError(f"max_heavy must be >= 1, got {max_heavy}")
    if tol <= 0 or dipole_tol <= 0:
        raise InputError(f"tol and dipole_tol must be > 0, got {tol}, {dipole_tol}")
    sources = [Path(s) for s in sources]
    if not sources:
        raise InputError("no QM7-X source files given")
    for s in sources:
        if not s.is_file():
            raise NotFound(f"QM7-X file not found: {s}")
    dups = read_dupmols(dupmols)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    result = CurationResult(output=output, files=[str(s) for s in sources])
    n_mol_total = 0
    for s in sources:
        with open_hdf5(s) as f:
            n_mol_total += len(f)
    t0 = time.perf_counter()
    with atomic_path(output) as tmp:
        with (
            h5py.File(tmp, "w", libver=("v108", "v108")) as out,
            tqdm(total=n_mol_total, desc="curate", unit="mol", disable=not progress) as bar,
        ):
            for src in sources:
                _scan_file(src, out, result, bar, max_heavy, tol, dipole_tol, dups)
            result.seconds = time.perf_counter() - t0
            out.attrs.update(
                {
                    "title": "QM7-X symmetry-breaking subset (SANN paper App. C.2), by sbbench",
                    "sources": json.dumps([str(s) for s in sources]),
                    "max_heavy": max_heavy,
                    "tol_angstrom": tol,
                    "dipole_tol_e_bohr": dipole_tol,
                    "dupmols": str(dupmols) if dupmols else "",
                    "criterion": "detect(atXYZ, atNUM, tol).stabilizer(hVDIP, dipole_tol).order"
                    " < detect(...).order for some conformer; keep all conformers of the molecule",
                    "counts": json.dumps(
                        {
                            "molecules_scanned": result.molecules_scanned,
                            "conformers_scanned": result.conformers_scanned,
                            "duplicates_dropped": result.duplicates_dropped,
                            "molecules_kept": result.molecules_kept,
                            "conformers_kept": result.conformers_kept,
                            "conformers_broken": result.conformers_broken,
                        }
                    ),
                    "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
    return result


def _scan_file(src, out, result, bar, max_heavy, tol, dipole_tol, dups) -> None:
    with open_hdf5(src) as f:
        for idmol in f:
            bar.update(1)
            mol = f[idmol]
            first = next(iter(mol), None)
            if first is None or "atNUM" not in mol[first]:
                raise InputError(f"file {src}, molecule {idmol!r}: no conformer with 'atNUM'")
            if heavy_atom_count(mol[first]["atNUM"][()]) > max_heavy:
                continue
            result.molecules_scanned += 1
            kept = []
            any_broken = False
            for idconf in mol:
                conf = read_conformer(mol[idconf], file=str(src), idmol=idmol, idconf=idconf)
                result.conformers_scanned += 1
                if _is_duplicate(conf.idconf, dups):
                    result.duplicates_dropped += 1
                    continue
                try:
                    info = conformer_breaks_symmetry(
                        conf.positions, conf.numbers, conf.hvdip, tol=tol, dipole_tol=dipole_tol
                    )
                except ValueError as exc:
                    raise InputError(
                        f"file {src}, molecule {idmol!r}, {conf.idconf}: {exc}"
                    ) from exc
                any_broken |= info[0]
                result.groups[info[1]] = result.groups.get(info[1], 0) + 1
                hchg = mol[conf.idconf]["hCHG"][()] if "hCHG" in mol[conf.idconf] else None
                kept.append((conf, info, hchg))
            if not any_broken:
                continue
            result.molecules_kept += 1
            if idmol in out:
                raise InputError(f"file {src}: molecule {idmol!r} already read from another file")
            g = out.create_group(idmol)
            for conf, (broken, grp, order, sgrp, sorder), hchg in kept:
                c = g.create_group(conf.idconf)
                c.create_dataset("atNUM", data=conf.numbers.astype(np.int32))
                c.create_dataset("atXYZ", data=conf.positions)
                c.create_dataset("hVDIP", data=conf.hvdip)
                if hchg is not None:
                    c.create_dataset("hCHG", data=hchg)
                c.attrs.update(
                    {
                        "source": Path(src).name,
                        "broken": bool(broken),
                        "group": grp,
                        "order": order,
                        "stabilizer": sgrp,
                        "stabilizer_order": sorder,
                    }
                )
                result.conformers_kept += 1
                result.conformers_broken += int(broken)
