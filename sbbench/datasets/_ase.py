"""Export to and import from ASE (extxyz), so users can bring their own data.

A frame carries the target as a per-atom array ``atoms.arrays[target]`` of
shape (N, 3k) (or (N, 3)); optional per-atom inputs ``node_vec`` (N, 3) and
``node_attr`` (N, F) travel as arrays of the same names, and ``idx``/``mol_id``
as ``atoms.info`` entries. Write with ``ase.io.write("x.extxyz", to_ase(ds))``
and read back with ``from_ase("x.extxyz", target="y")``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
from torch_geometric.data import InMemoryDataset

from sbbench.errors import InputError, NotFound

from ._base import make_sample
from ._splits import SPLIT_PROTOCOLS

__all__ = ["to_ase", "from_ase", "AseDataset"]


def to_ase(dataset: Iterable[Any], *, target: str = "y") -> list:
    """Convert samples (``z``, ``pos``, ``y``, ...) to a list of :class:`ase.Atoms`.

    ``y`` is stored as ``atoms.arrays[target]``; ``node_vec``/``node_attr`` as arrays
    of those names; ``idx`` and ``mol_id`` in ``atoms.info``. Positions stay in Å.
    """
    from ase import Atoms

    if target in ("numbers", "positions", "node_vec", "node_attr"):
        raise InputError(f"target name {target!r} clashes with an array ASE/sbbench uses")
    out = []
    for data in dataset:
        atoms = Atoms(numbers=data.z.numpy(), positions=data.pos.double().numpy())
        atoms.arrays[target] = data.y.double().numpy().copy()
        for key in ("node_vec", "node_attr"):
            value = getattr(data, key, None)
            if value is not None:
                atoms.arrays[key] = value.double().numpy().copy()
        for key in ("idx", "mol_id"):
            value = getattr(data, key, None)
            if value is not None:
                atoms.info[key] = int(value.reshape(-1)[0])
        out.append(atoms)
    return out


class AseDataset(InMemoryDataset):
    """In-memory dataset built by :func:`from_ase` (no disk cache)."""

    name = "ase"

    def __init__(self, data_list: list, *, protocol: str, tol: float) -> None:
        super().__init__(None, log=False)
        self.protocol = protocol
        self.tol = tol
        self.data, self.slices = self.collate(data_list)


def _frame_array(atoms: Any, key: str, frame: int, n: int, width: int | None) -> np.ndarray:
    if key not in atoms.arrays:
        avail = sorted(k for k in atoms.arrays if k not in ("numbers", "positions"))
        raise InputError(f"frame {frame}: atoms.arrays has no {key!r}; available: {avail}")
    arr = np.asarray(atoms.arrays[key], dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n or (width is not None and arr.shape[1] != width):
        want = f"({n}, {width})" if width is not None else f"({n}, F)"
        raise InputError(f"frame {frame}: array {key!r} has shape {arr.shape}, expected {want}")
    if not np.isfinite(arr).all():
        raise InputError(f"frame {frame}: array {key!r} contains NaN or inf")
    return arr


def from_ase(
    atoms_list: Any,
    target: str,
    *,
    tol: float = 0.1,
    protocol: str = "random",
    node_vec: str | None = "node_vec",
    node_attr: str | None = "node_attr",
) -> AseDataset:
    """Build a contract-conforming dataset from ASE frames or an extxyz file.

    Parameters
    ----------
    atoms_list
        A list of :class:`ase.Atoms` or a path readable by :func:`ase.io.read`
        (all frames are read).
    target
        Name of the per-atom array holding the target: (N, 3k) values per frame
        (k 3-vectors per atom; e.g. forces or atomic dipoles).
    tol
        Tolerance (Å) for :func:`sbbench.symmetry.detect` when computing ``sym_ops``.
    protocol
        Split protocol recorded on the dataset for :func:`sbbench.datasets.kfold`.
    node_vec, node_attr
        Names of optional per-atom input arrays ((N, 3) and (N, F)); used when
        present in the first frame, then required in every frame. ``None`` ignores them.

    Raises
    ------
    ValueError
        Naming the frame index and array key for a missing array, a wrong shape,
        NaN/inf values, or a frame that is not an ``ase.Atoms``.
    """
    from ase import Atoms

    if isinstance(atoms_list, (str, os.PathLike)):
        import ase.io

        path = os.fspath(atoms_list)
        if not os.path.isfile(path):
            raise NotFound(f"no such file: {path}")
        atoms_list = ase.io.read(path, index=":")
    if isinstance(atoms_list, Atoms):
        atoms_list = [atoms_list]
    atoms_list = list(atoms_list)
    if not atoms_list:
        raise InputError("from_ase needs at least one frame")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise InputError(f"tol must be a positive number (Å), got {tol!r}")
    if protocol not in SPLIT_PROTOCOLS:
        raise InputError(f"protocol must be one of {', '.join(SPLIT_PROTOCOLS)}, got {protocol!r}")
    first = atoms_list[0] if isinstance(atoms_list[0], Atoms) else None
    use_vec = node_vec if first is not None and node_vec in first.arrays else None
    use_attr = node_attr if first is not None and node_attr in first.arrays else None
    samples = []
    for i, atoms in enumerate(atoms_list):
        if not isinstance(atoms, Atoms):
            raise InputError(f"frame {i}: expected ase.Atoms, got {type(atoms).__name__}")
        n = len(atoms)
        if n == 0:
            raise InputError(f"frame {i}: has no atoms")
        pos = np.asarray(atoms.get_positions(), dtype=np.float64)
        if not np.isfinite(pos).all():
            raise InputError(f"frame {i}: positions contain NaN or inf")
        y = _frame_array(atoms, target, i, n, None)
        if y.shape[1] % 3:
            raise InputError(
                f"frame {i}: target {target!r} has {y.shape[1]} columns; need 3k (3-vectors)"
            )
        vec = _frame_array(atoms, use_vec, i, n, 3) if use_vec else None
        attr = _frame_array(atoms, use_attr, i, n, None) if use_attr else None
        mol = atoms.info.get("mol_id")
        samples.append(
            make_sample(
                atoms.numbers,
                pos,
                y,
                idx=i,
                tol=float(tol),
                node_vec=vec,
                node_attr=attr,
                mol_id=None if mol is None else int(mol),
            )
        )
    return AseDataset(samples, protocol=protocol, tol=float(tol))
