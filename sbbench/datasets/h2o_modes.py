r"""Normal modes of H2O (SANN paper, Sec. 6.2, Fig. 5, Tables 2 and 7).

Source of the modes
    ``datasets/h2o_modes/h2o_modes.json``, written by
    ``datasets/h2o_modes/make_modes.py`` from a real Hessian: B3LYP/def2-TZVP
    (PySCF) geometry optimisation, analytic Hessian, mass weighting, projection
    of translations/rotations, diagonalisation. Harmonic frequencies 1617
    (bend), 3786 (sym), 3891 (asym) cm^-1 vs. measured fundamentals 1595,
    3657, 3756 cm^-1 (+1.4 %, +3.5 %, +3.6 %; harmonic B3LYP is expected a few
    percent above fundamentals). The file's sha256 is checked on every load.

Construction (as in the paper)
    ``n_samples`` (default 2) copies of the molecule, each rotated by its own
    random rotation (``seed``) and centred at the centroid of its positions
    (Å). Target ``y`` (3, 3), rotated with the molecule, by ``targets``:

    * ``"displacement"`` (default): the Cartesian displacement vector d_i of
      the chosen mode on each atom (dimensionless; sum_i |d_i|^2 = 1), in
      which oxygen carries under 0.5 % of the norm;
    * ``"direction"``: d_i / |d_i|, a unit vector per atom -- SANN Sec. 6.2's
      "the node labels are the directional vectors of the motions".

    Models get ``z`` and ``pos`` only (edges are the model's choice; the paper
    uses a fully connected graph).

Tasks and symmetry (input: C2v)
    ``sym`` (A1) and ``bend`` (A1): the target is invariant under all four
    C2v operations (up to the atom permutation); a strictly equivariant model
    can reach SBCD 0. ``asym`` (B2): C2 and the perpendicular mirror flip its
    sign, only the molecular plane mirror keeps it (stabilizer Cs), so the
    equivariant optimum is > 0 (computed numerically, see the data card).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from torch_geometric.data import Data

from sbbench._io import atomic_write_bytes
from sbbench._paths import shipped_file

from ._base import SBDataset, make_sample, verify_sha256
from ._registry import register
from ._rotation import random_rotation

__all__ = ["H2OModes", "read_modes", "EXPERIMENT_CM1"]

#: Measured fundamental frequencies of gas-phase H2O (cm^-1).
EXPERIMENT_CM1 = {"bend": 1594.7, "sym": 3657.1, "asym": 3755.9}

MODES_FILE = "h2o_modes.json"


def read_modes(
    path: str | Path | None = None, *, checksum: str | Path | None = None
) -> dict[str, Any]:
    """The shipped (or given) modes file, after checking its sha256.

    Parameters
    ----------
    path
        A modes JSON file; default: the shipped ``datasets/h2o_modes/h2o_modes.json``.
    checksum
        A hex digest or ``*.sha256`` file; default: ``<path>.sha256`` next to the file.

    Raises
    ------
    ValueError
        On a checksum mismatch or a file missing required keys.
    """
    path = Path(path) if path is not None else shipped_file("h2o_modes", MODES_FILE)
    verify_sha256(path, checksum if checksum is not None else path.with_name(path.name + ".sha256"))
    data = json.loads(path.read_text())
    for key in ("numbers", "positions", "modes"):
        if key not in data:
            raise ValueError(f"{path}: missing key {key!r}")
    for task in H2OModes.tasks:
        if task not in data["modes"]:
            raise ValueError(f"{path}: missing mode {task!r}")
    return data


@register("h2o_modes")
class H2OModes(SBDataset):
    """Two randomly rotated H2O molecules labelled by one normal mode (SANN Table 2)."""

    tasks = ("sym", "bend", "asym")
    defaults: ClassVar[dict[str, Any]] = {"n_samples": 2, "seed": 0, "targets": "displacement"}
    targets = ("displacement", "direction")
    protocol = "same"
    version = 2  # 2: samples carry sym_perms (atom permutations of sym_ops)
    tol = 0.01

    @classmethod
    def validate(cls, opts: dict[str, Any]) -> None:
        cls._require(opts, "n_samples", opts["n_samples"] >= 1, "a positive integer")
        cls._require(opts, "targets", opts["targets"] in cls.targets, f"one of {cls.targets}")

    @property
    def raw_file_names(self) -> list[str]:
        return [MODES_FILE]

    def download(self) -> None:
        """Copy the shipped modes file (checksum-verified) into ``raw_dir``."""
        src = shipped_file("h2o_modes", MODES_FILE)
        verify_sha256(src, src.with_name(MODES_FILE + ".sha256"))
        dst = Path(self.raw_dir) / MODES_FILE
        dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dst, src.read_bytes())

    def build(self) -> list[Data]:
        shipped_sum = shipped_file("h2o_modes", MODES_FILE + ".sha256")
        raw = Path(self.raw_dir) / MODES_FILE
        try:
            ref = read_modes(raw, checksum=shipped_sum)
        except (ValueError, OSError) as exc:
            warnings.warn(
                f"h2o_modes: raw copy {raw} is bad ({exc}); copying it again", stacklevel=2
            )
            self.download()
            ref = read_modes(raw, checksum=shipped_sum)
        z = np.asarray(ref["numbers"], dtype=np.int64)
        pos0 = np.asarray(ref["positions"], dtype=np.float64)
        mode = np.asarray(ref["modes"][self.options["task"]]["vector"], dtype=np.float64)
        if self.options["targets"] == "direction":
            mode = mode / np.linalg.norm(mode, axis=1, keepdims=True)
        rng = np.random.default_rng(self.options["seed"])
        out = []
        for idx in range(self.options["n_samples"]):
            rot = random_rotation(rng)
            pos = pos0 @ rot.T
            pos -= pos.mean(axis=0)
            out.append(make_sample(z, pos, mode @ rot.T, idx=idx, tol=self.tol, mol_id=0))
        return out
