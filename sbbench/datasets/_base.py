"""Base class of every sbbench dataset, the per-sample Data contract and its checks.

Data contract
-------------
Every sample is a :class:`torch_geometric.data.Data` with

=============  ===================  ==========================================================
attribute      dtype, shape         meaning
=============  ===================  ==========================================================
``z``          int64 (N,)           atom types (atomic numbers; 0 for abstract points)
``pos``        float32 (N, 3)       positions in Å
``y``          float32 (N, 3k)      per-node target: k 3-vectors per node
``sym_ops``    float32 (G, 3, 3)    Sym(input): orthogonal R with g.x = R @ x about the
                                    centroid of ``pos``, identity first
``sym_perms``  int64 (G*N,)         atom permutations of ``sym_ops``, flattened in
                                    (operation, atom) order: ``sym_perms[g*N + i]`` is the
                                    atom j with R_g x_i ~ x_j (``PointGroup.permutations``);
                                    a PyG batch offsets them by each sample's first atom
                                    (:class:`SBData`), the layout of
                                    :func:`sbbench.metrics.sbmse_batch`
``num_ops``    int64 (1,)           G, so a batch has ``num_ops`` (B,) and ``sym_ops`` (sum G, 3, 3)
``orbit``      int64 (N,)           equivalence class of each node under ``sym_ops``, 0..C-1
``idx``        int64 (1,)           sample index within the dataset
``mol_id``     int64 (1,)           optional: molecule id for grouped splits
``node_attr``  float32 (N, F)       optional extra per-node scalar inputs
``node_vec``   float32 (N, 3)       optional extra per-node vector input (e.g. a velocity)
=============  ===================  ==========================================================

"Input" means everything a model is given: ``z``, ``pos`` and, where present,
``node_attr`` and ``node_vec``. ``sym_ops`` is therefore the subgroup of
:func:`sbbench.symmetry.detect` ``(pos, z)`` that also maps ``node_attr`` onto
itself (as atom labels) and ``node_vec`` onto itself (as vectors).

Caching
-------
:class:`SBDataset` follows PyTorch Geometric's ``InMemoryDataset``: samples are
built once by :meth:`SBDataset.process` and saved under
``<root>/<name>/<key>/processed/`` where ``key`` hashes the dataset name, its
``version`` and the (normalised) options, so any change of options or of the
generator's version uses a fresh folder. Next to ``data.pt`` a ``meta.json``
records the options and the sha256 of ``data.pt``; a cache whose meta data is
missing, unreadable, for other options or whose checksum does not match is
deleted and rebuilt (with a warning), never used. A build that fails or is
interrupted removes what it wrote, so the next load simply builds again. Files are written to a
temporary name and moved into place, and processing holds a file lock, so
parallel workers never read a half-written cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch_geometric.data import Data, InMemoryDataset

from sbbench.errors import InputError

from .._io import atomic_path, atomic_write_bytes
from .._vocabulary import SPLIT_PROTOCOLS

if TYPE_CHECKING:
    from ..symmetry import PointGroup

__all__ = [
    "SBDataset",
    "SBData",
    "make_sample",
    "check_sample",
    "default_root",
    "sha256_file",
    "verify_sha256",
]

#: Bumped when the on-disk format written by :class:`SBDataset` changes.
CACHE_FORMAT = 2
PROTOCOLS = SPLIT_PROTOCOLS  # sbbench._vocabulary.SplitProtocol


class SBData(Data):
    """A :class:`~torch_geometric.data.Data` whose ``sym_perms`` are atom indices.

    Collating samples (``Batch.from_data_list``, ``DataLoader``, the processed cache)
    offsets ``sym_perms`` by the number of atoms before each sample, as PyG does for
    ``edge_index``, so a batch's ``sym_perms`` index the batch's atoms directly.
    """

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "sym_perms":
            return self.num_nodes
        return super().__inc__(key, value, *args, **kwargs)


# The processed cache stores the data class; allow it under torch.load(weights_only=True).
torch.serialization.add_safe_globals([SBData])


def default_root() -> Path:
    """Cache root: ``$SBBENCH_CACHE`` if set, else ``~/.cache/sbbench``."""
    env = os.environ.get("SBBENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "sbbench"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str | os.PathLike) -> None:
    """Check ``path`` against a hex digest or a ``*.sha256`` file (``sha256sum`` format).

    Raises
    ------
    ValueError
        On a mismatch, naming the file and both digests.
    """
    exp = str(expected)
    if not (len(exp) == 64 and all(c in "0123456789abcdef" for c in exp)):
        exp = Path(expected).read_text().split()[0]
    got = sha256_file(path)
    if got != exp:
        raise InputError(
            f"checksum mismatch for {path}: sha256 is {got}, expected {exp}; "
            "the file is corrupted or was modified"
        )


# ----------------------------------------------------------------------------- symmetry


def input_symmetry(
    pos: np.ndarray,
    z: np.ndarray,
    *,
    tol: float,
    node_attr: np.ndarray | None = None,
    node_vec: np.ndarray | None = None,
) -> PointGroup:
    """Sym(input): the point group of everything a model is given.

    :func:`sbbench.symmetry.detect` at tolerance ``tol`` (Å) on the positions
    labelled by ``z`` and, if given, the rows of ``node_attr`` (rounded to 1e-6,
    so nodes with different extra scalars are never equivalent); then, if
    ``node_vec`` is given, its :meth:`~sbbench.symmetry.PointGroup.stabilizer`
    (operations that also map the vectors onto themselves, to ``tol``). The
    :class:`~sbbench.symmetry.PointGroup` carries ``operations``, ``permutations``,
    ``orbits`` and ``reynolds`` (shared arrays: copy before modifying them).
    """
    from sbbench.symmetry import detect

    labels = z
    if node_attr is not None:
        rows = np.c_[z.astype(np.float64), np.round(node_attr, 6)]
        labels = np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)
    pg = detect(pos, labels, tol=tol)
    if node_vec is not None:
        pg = pg.stabilizer(node_vec, tol=tol)
    return pg


def make_sample(
    z: Any,
    pos: Any,
    y: Any,
    *,
    idx: int,
    tol: float,
    node_attr: Any = None,
    node_vec: Any = None,
    mol_id: int | None = None,
    ops: Any = None,
    **extra: Any,
) -> Data:
    """Build one contract-conforming sample; ``sym_ops``/``sym_perms``/``orbit`` via
    :func:`input_symmetry`.

    Symmetry is detected on the float64 inputs before they are cast to float32.
    ``ops`` (G, 3, 3), a group with the identity first, overrides the detected
    group (:meth:`~sbbench.symmetry.PointGroup.from_operations` on ``pos`` and ``z``
    gives its permutations and orbits); only for tasks that document why (e.g.
    external fields make Sym(input) irrelevant to the target). ``extra`` keyword tensors
    are attached unchanged (e.g. a graph-level tensor).
    """
    from sbbench.symmetry import PointGroup

    z = np.asarray(z, dtype=np.int64)
    pos = np.asarray(pos, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    na = None if node_attr is None else np.asarray(node_attr, dtype=np.float64).reshape(len(z), -1)
    nv = None if node_vec is None else np.asarray(node_vec, dtype=np.float64)
    if ops is None:
        pg = input_symmetry(pos, z, tol=tol, node_attr=na, node_vec=nv)
    else:
        pg = PointGroup.from_operations(np.reshape(ops, (-1, 3, 3)), pos, z, tol=tol)
    data = SBData(
        z=torch.from_numpy(z),
        pos=torch.from_numpy(pos).float(),
        y=torch.from_numpy(y.reshape(len(z), -1)).float(),
        sym_ops=torch.tensor(pg.operations, dtype=torch.float32),
        sym_perms=torch.tensor(pg.permutations.reshape(-1), dtype=torch.long),
        num_ops=torch.tensor([pg.order], dtype=torch.long),
        orbit=torch.tensor(pg.orbits, dtype=torch.long),
        idx=torch.tensor([idx], dtype=torch.long),
    )
    if mol_id is not None:
        data.mol_id = torch.tensor([mol_id], dtype=torch.long)
    if na is not None:
        data.node_attr = torch.from_numpy(na).float()
    if nv is not None:
        data.node_vec = torch.from_numpy(nv).float()
    for key, value in extra.items():
        data[key] = value
    check_sample(data)
    return data


def check_sample(data: Data, where: str = "sample") -> None:
    """Raise ValueError naming the attribute if ``data`` breaks the Data contract."""

    def fail(msg: str) -> None:
        raise ValueError(f"{where}: {msg}")

    for key in ("z", "pos", "y", "sym_ops", "sym_perms", "num_ops", "orbit", "idx"):
        if getattr(data, key, None) is None:
            fail(f"missing attribute {key!r}")
    n = data.z.shape[0]
    spec = {
        "z": (torch.long, (n,)),
        "pos": (torch.float32, (n, 3)),
        "orbit": (torch.long, (n,)),
        "num_ops": (torch.long, (1,)),
        "idx": (torch.long, (1,)),
        "sym_ops": (torch.float32, (int(data.num_ops.reshape(-1)[0]), 3, 3)),
        "sym_perms": (torch.long, (int(data.num_ops.reshape(-1)[0]) * n,)),
    }
    if getattr(data, "mol_id", None) is not None:
        spec["mol_id"] = (torch.long, (1,))
    if getattr(data, "node_vec", None) is not None:
        spec["node_vec"] = (torch.float32, (n, 3))
    for key, (dtype, shape) in spec.items():
        t = data[key]
        if t.dtype != dtype or tuple(t.shape) != shape:
            fail(f"{key} must be {dtype} {shape}, got {t.dtype} {tuple(t.shape)}")
    if data.y.dtype != torch.float32 or data.y.dim() != 2 or data.y.shape[0] != n:
        fail(f"y must be float32 (N={n}, 3k), got {data.y.dtype} {tuple(data.y.shape)}")
    if data.y.shape[1] % 3 != 0 or data.y.shape[1] == 0:
        fail(f"y must have 3k columns (k 3-vectors per node), got {data.y.shape[1]}")
    na = getattr(data, "node_attr", None)
    if na is not None and (na.dtype != torch.float32 or na.dim() != 2 or na.shape[0] != n):
        fail(f"node_attr must be float32 (N={n}, F), got {na.dtype} {tuple(na.shape)}")
    for key in ("pos", "y", "node_attr", "node_vec"):
        t = getattr(data, key, None)
        if t is not None and not torch.isfinite(t).all():
            fail(f"{key} contains NaN or inf")
    ops = data.sym_ops.double()
    if ops.shape[0] == 0 or not torch.allclose(ops[0], torch.eye(3, dtype=ops.dtype), atol=1e-5):
        fail("sym_ops[0] must be the identity")
    eye = torch.eye(3, dtype=ops.dtype).expand_as(ops)
    if not torch.allclose(ops @ ops.transpose(1, 2), eye, atol=1e-4):
        fail("sym_ops must be orthogonal matrices")
    perms = data.sym_perms.reshape(-1, n) if n else data.sym_perms.reshape(0, 0)
    want = torch.arange(n)
    for g in range(perms.shape[0]):
        if not torch.equal(perms[g].sort().values, want):
            fail(f"sym_perms row {g} (operation {g}) is not a permutation of the {n} atoms")
    if perms.shape[0] and not torch.equal(perms[0], want):
        fail("sym_perms row 0 must be the identity permutation (sym_ops[0] is the identity)")
    orbit = data.orbit
    if n and (orbit.min() < 0 or set(orbit.tolist()) != set(range(int(orbit.max()) + 1))):
        fail("orbit labels must be 0..C-1")


# ----------------------------------------------------------------------------- options


def _coerce(cls_name: str, key: str, value: Any, default: Any) -> Any:
    """Check ``value`` has the type of ``default`` (ints accepted for floats)."""
    if default is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, (bool, np.bool_))
        value = bool(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        value = int(value) if ok else value
    elif isinstance(default, float):
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)
        )
        value = float(value) if ok else value
        if ok and not np.isfinite(value):
            raise InputError(f"{cls_name}: option {key}={value!r} must be finite")
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise InputError(
            f"{cls_name}: option {key!r} must be {type(default).__name__}, got {value!r}"
        )
    return value


class SBDataset(InMemoryDataset):
    """Base class of the sbbench datasets (a PyG ``InMemoryDataset``).

    Subclasses set the class attributes below, implement :meth:`build` and are
    registered with :func:`sbbench.datasets.register`. Everything else (option
    checking, the cache keyed on options, checksums, atomic writes, locking)
    lives here.

    Class attributes
    ----------------
    name : str
        Registry name (set by ``@register``).
    tasks : tuple of str
        Allowed values of the ``task`` option (first one is the default); empty
        if the dataset has no tasks.
    defaults : dict
        Option name -> default value; its type is the option's type.
    protocol : {"same", "random", "grouped"}
        Default split protocol of :func:`sbbench.datasets.kfold`: ``"same"`` means
        train = val = test = all samples (the toy tasks of the SANN paper, Sec. 6.1-6.2);
        ``"random"`` means random test/val/train splits of the samples; ``"grouped"``
        splits the molecules (``mol_id``), so no molecule is in train and test.
    tol : float
        Tolerance (Å) passed to :func:`sbbench.symmetry.detect` for ``sym_ops``.
    version : int
        Bump when :meth:`build` changes its output, so old caches are not reused.
    """

    name: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict[str, Any]] = {}
    protocol: ClassVar[str] = "same"
    tol: ClassVar[float] = 0.1
    version: ClassVar[int] = 1

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        transform: Callable | None = None,
        force_reload: bool = False,
        **options: Any,
    ) -> None:
        if self.protocol not in PROTOCOLS:
            raise TypeError(f"{type(self).__name__}.protocol must be one of {PROTOCOLS}")
        self.options: dict[str, Any] = self.check_options(**options)
        base = Path(root).expanduser() if root is not None else default_root()
        self.cache_key = self._key()
        folder = base / self.name / self.cache_key
        folder.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock

        with FileLock(str(folder / ".lock")):
            processed = folder / "processed"
            self._drop_bad_cache(processed, force_reload)
            building = not (processed / "data.pt").is_file()
            try:
                super().__init__(str(folder), transform=transform, log=False)
            except BaseException:
                # a failed (or interrupted) build leaves no cache behind: the next load
                # builds from scratch instead of finding an incomplete one
                if building:
                    shutil.rmtree(processed, ignore_errors=True)
                raise
        self.load(self.processed_paths[0])

    # -- options -------------------------------------------------------------------------
    @property
    def task(self) -> str | None:
        """The selected task, or None for datasets without tasks."""
        return self.options.get("task")

    @classmethod
    def check_options(cls, **options: Any) -> dict[str, Any]:
        """Normalise ``options`` against :attr:`defaults` and :attr:`tasks`.

        Raises
        ------
        ValueError
            For an unknown option, a value of the wrong type, an unknown task or
            (via :meth:`validate`) a value out of range.
        """
        allowed = dict(cls.defaults)
        if cls.tasks:
            allowed.setdefault("task", cls.tasks[0])
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            valid = ", ".join(sorted(allowed)) or "(none)"
            raise InputError(f"{cls.name}: unknown option(s) {unknown}; valid options: {valid}")
        opts = {k: _coerce(cls.name, k, options.get(k, d), d) for k, d in allowed.items()}
        if cls.tasks and opts["task"] not in cls.tasks:
            import difflib

            close = difflib.get_close_matches(str(opts["task"]), cls.tasks, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"{cls.name}: unknown task {opts['task']!r}.{hint} "
                f"Valid tasks: {', '.join(cls.tasks)}"
            )
        cls.validate(opts)
        return opts

    @classmethod
    def validate(cls, opts: dict[str, Any]) -> None:
        """Range checks on normalised options (override; raise ValueError)."""

    @classmethod
    def _require(cls, opts: dict[str, Any], key: str, ok: bool, what: str) -> None:
        if not ok:
            raise InputError(f"{cls.name}: option {key}={opts[key]!r} must be {what}")

    def _key(self) -> str:
        blob = json.dumps(
            {"name": self.name, "version": self.version, "format": CACHE_FORMAT, **self.options},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # -- PyG hooks ----------------------------------------------------------------------
    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        return ["data.pt", "meta.json"]

    def download(self) -> None:
        """Synthetic datasets have nothing to download (override to fetch raw files)."""

    def build(self) -> list[Data]:
        """Return the samples (each made with :func:`make_sample`); override."""
        raise NotImplementedError

    def process(self) -> None:
        data_list = self.build()
        if not data_list:
            raise ValueError(f"{self.name}: build() returned no samples")
        for i, d in enumerate(data_list):
            check_sample(d, where=f"{self.name} sample {i}")
        processed = Path(self.processed_dir)
        data_path = processed / "data.pt"
        with atomic_path(data_path) as tmp:
            self.save(data_list, str(tmp))
        meta = {
            "name": self.name,
            "version": self.version,
            "format": CACHE_FORMAT,
            "options": self.options,
            "num_samples": len(data_list),
            "sha256": sha256_file(data_path),
        }
        atomic_write_bytes(processed / "meta.json", json.dumps(meta, indent=1).encode())

    def _drop_bad_cache(self, processed: Path, force: bool) -> None:
        """Delete ``processed`` if ``force`` or if :meth:`_cache_problem` finds one (warning)."""
        if not processed.exists():
            return
        reason = None if force else self._cache_problem(processed)
        if reason is not None:
            warnings.warn(
                f"{self.name}: processed cache {processed} is {reason}; rebuilding it",
                stacklevel=3,
            )
        if force or reason is not None:
            shutil.rmtree(processed)

    def _cache_problem(self, processed: Path) -> str | None:
        """Why the processed cache cannot be used, or None if it is complete and intact."""
        meta_path, data_path = processed / "meta.json", processed / "data.pt"
        if not meta_path.is_file() or not data_path.is_file():
            return "incomplete"
        try:
            meta = json.loads(meta_path.read_text())
            same = (meta.get("options"), meta.get("version"), meta.get("format")) == (
                self.options,
                self.version,
                CACHE_FORMAT,
            )
            if not same:
                return "written for other options"
            if meta.get("sha256") != sha256_file(data_path):
                return "checksum mismatch"
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            return f"unreadable meta.json ({exc})"
        return None

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({len(self)}, {opts})"
