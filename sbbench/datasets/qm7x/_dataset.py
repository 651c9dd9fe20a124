"""The ``qm7x`` dataset: Hirshfeld atomic dipoles of symmetry-breaking QM7-X molecules.

Two sources behind one loader (issue 6):

``"official"``
    The curated subset of the official QM7-X files written by
    ``sbbench qm7x curate`` (``curated.hdf5`` in the data folder: the
    ``data_dir`` option, else ``$SBBENCH_DATA/qm7x``, else
    ``~/.cache/sbbench/data/qm7x``).
``"reference"``
    The shipped offline reference set (``datasets/qm7x/reference.hdf5``,
    PBE0/def2-SVP Hirshfeld dipoles computed with PySCF by sbbench; *not* the
    official data), curated on load with the same criterion.
``"auto"`` (default)
    ``"official"`` if the curated file exists, else ``"reference"``; the choice
    is logged (logger ``sbbench.datasets.qm7x``) and is part of the cache key.

Samples: ``z`` = ``atNUM``, ``pos`` = ``atXYZ`` (Å), ``y`` = ``hVDIP`` (N, 3) in
e·bohr, ``sym_ops``/``orbit`` from :func:`sbbench.symmetry.detect` at 0.2 Å
(SANN App. C.2), ``mol_id`` = the QM7-X molecule number (for grouped splits).
Splits: SANN Table 3 uses ten random 60/20/20 splits, see :attr:`QM7X.split_fractions`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .._base import SBDataset, make_sample, sha256_file
from .._registry import register
from ._curate import conformer_breaks_symmetry
from ._fetch import default_data_dir
from ._format import open_hdf5, read_conformer

__all__ = ["QM7X", "CURATED_NAME", "resolve_source"]

log = logging.getLogger("sbbench.datasets.qm7x")

#: File name of the curated official subset inside the data folder.
CURATED_NAME = "curated.hdf5"
SOURCES = ("auto", "official", "reference")


def resolve_source(source: str = "auto", data_dir: str = "") -> tuple[str, Path]:
    """Which file the ``qm7x`` dataset reads: ``(source, path)`` with source resolved.

    Raises
    ------
    ValueError
        For an unknown source.
    FileNotFoundError
        If ``"official"`` is requested and no curated file exists (with the
        commands that make it), or the shipped reference file is missing.
    """
    from sbbench._paths import shipped_file

    if source not in SOURCES:
        raise ValueError(f"qm7x: source must be one of {SOURCES}, got {source!r}")
    folder = Path(data_dir).expanduser() if data_dir else default_data_dir()
    curated = folder / CURATED_NAME
    if source == "official" or (source == "auto" and curated.is_file()):
        if not curated.is_file():
            raise FileNotFoundError(
                f"qm7x: no curated official data at {curated}; run `sbbench fetch qm7x "
                f"--dest {folder}` then `sbbench qm7x curate --src {folder}`"
            )
        return "official", curated
    return "reference", shipped_file("qm7x", "reference.hdf5")


@register("qm7x")
class QM7X(SBDataset):
    """QM7-X Hirshfeld dipoles restricted to symmetry-breaking molecules (SANN Sec. 6.3).

    Options
    -------
    source : {"auto", "official", "reference"}
        See the module docstring.
    data_dir : str
        Folder holding ``curated.hdf5`` (default ``$SBBENCH_DATA/qm7x``).
    dipole_tol : float
        e·bohr tolerance of the dipole-field stabilizer used to curate the
        reference set on load (the official curated file records its own).
    """

    defaults: ClassVar[dict[str, Any]] = {"source": "auto", "data_dir": "", "dipole_tol": 0.01}
    protocol: ClassVar[str] = "grouped"
    tol: ClassVar[float] = 0.2
    version: ClassVar[int] = 2  # 2: samples carry sym_perms (atom permutations of sym_ops)
    #: SANN Table 3: ten independent random 60/20/20 splits.
    split_fractions: ClassVar[tuple[float, float, float]] = (0.6, 0.2, 0.2)
    n_folds: ClassVar[int] = 10

    @classmethod
    def validate(cls, opts: dict[str, Any]) -> None:
        cls._require(opts, "source", opts["source"] in SOURCES, f"one of {SOURCES}")
        cls._require(opts, "dipole_tol", opts["dipole_tol"] > 0, "> 0")

    @classmethod
    def check_options(cls, **options: Any) -> dict[str, Any]:
        """Normalise options and resolve ``source="auto"`` to the file actually read."""
        opts = super().check_options(**options)
        source, path = resolve_source(opts["source"], opts["data_dir"])
        if opts["source"] == "auto":
            log.info("qm7x: source='auto' -> %s (%s)", source, path)
        opts["source"] = source
        opts["data_dir"] = str(path.parent) if source == "official" else ""
        return opts

    @property
    def path(self) -> Path:
        """The HDF5 file this dataset was built from."""
        return resolve_source(self.options["source"], self.options["data_dir"])[1]

    def _key(self) -> str:
        # the cache also depends on the bytes of the source file
        digest = sha256_file(self.path)
        return hashlib.sha256((super()._key() + digest).encode()).hexdigest()[:16]

    def build(self) -> list:
        path = self.path
        curate_here = self.options["source"] == "reference"
        samples = []
        with open_hdf5(path) as f:
            for idmol in f:
                mol = f[idmol]
                try:
                    mol_id = int(idmol)
                except ValueError:
                    raise ValueError(
                        f"file {path}, molecule {idmol!r}: id is not an integer"
                    ) from None
                confs = [read_conformer(mol[c], file=str(path), idmol=idmol, idconf=c) for c in mol]
                if curate_here and not any(
                    conformer_breaks_symmetry(
                        c.positions,
                        c.numbers,
                        c.hvdip,
                        tol=self.tol,
                        dipole_tol=self.options["dipole_tol"],
                    )[0]
                    for c in confs
                ):
                    continue
                for c in confs:
                    samples.append(
                        make_sample(
                            c.numbers,
                            c.positions,
                            np.asarray(c.hvdip),
                            idx=len(samples),
                            tol=self.tol,
                            mol_id=mol_id,
                        )
                    )
        if not samples:
            raise ValueError(f"qm7x: no symmetry-breaking molecules in {path}")
        return samples
