"""Symmetry-breaking datasets as PyTorch Geometric ``InMemoryDataset`` objects.

Quick start::

    import sbbench.datasets as sd
    sd.names()                       # ['charged_particle', 'h2o_modes', 'qm7x', 'shapes', ...]
    ds = sd.load("h2o_modes:asym")   # same as sd.load("h2o_modes", task="asym")
    folds = sd.kfold(ds, k=10, seed=0)   # follows ds.protocol

Every sample is a :class:`torch_geometric.data.Data` following the Data contract
(see :mod:`sbbench.datasets._base`): ``z``, ``pos`` (Å), ``y`` (N, 3k),
``sym_ops`` (G, 3, 3) = Sym(input) from :func:`sbbench.symmetry.detect` at the
dataset's ``tol``, ``sym_perms`` (G*N,) the atom permutation of each operation,
``num_ops``, ``orbit``, ``idx`` and optional ``mol_id``, ``node_attr``,
``node_vec``. A PyG batch has ``num_ops`` (B,), ``sym_ops`` (sum G, 3, 3) and
``sym_perms`` offset to batch atom indices, with
``ops_batch = repeat_interleave(arange(B), num_ops)`` as
:func:`sbbench.metrics.sbcd_batch` and :func:`sbbench.metrics.sbmse_batch` expect.

Caching: ``load`` processes each (name, options) once into
``<root>/<name>/<hash>/processed``; root defaults to ``$SBBENCH_CACHE`` or
``~/.cache/sbbench``. A corrupted or mismatched cache is rebuilt.

Registering a new dataset (e.g. the ``qm7x`` subpackage)
--------------------------------------------------------
1. Subclass :class:`SBDataset`: set ``defaults`` (option -> default value),
   ``tasks`` (if any), ``protocol`` (``"same"``, ``"random"`` or ``"grouped"``), ``tol`` and
   ``version``; override ``validate(opts)`` for range checks and ``build()``
   returning samples made with :func:`make_sample` (and ``raw_file_names`` /
   ``download`` for raw files, verified with :func:`verify_sha256`).
2. Decorate it with ``@register("name")`` (from ``sbbench.datasets._registry``).
3. Add ``"name": "sbbench.datasets.<module>"`` to ``MODULES`` in
   ``sbbench/datasets/_registry.py`` so :func:`names` lists it without
   importing it (heavy dependencies such as h5py are imported only on use).

Bring your own data: :func:`from_ase` builds a contract-conforming dataset from
extxyz frames with the target in ``atoms.arrays``; :func:`to_ase` exports.
"""

from ._ase import AseDataset, from_ase, to_ase
from ._base import (
    SBData,
    SBDataset,
    check_sample,
    default_root,
    input_symmetry,
    make_sample,
    verify_sha256,
)
from ._optimum import best_equivariant_score, equivariant_basis
from ._registry import get_class, load, names, register
from ._splits import SPLIT_PROTOCOLS, kfold

__all__ = [
    "load",
    "names",
    "register",
    "get_class",
    "kfold",
    "to_ase",
    "from_ase",
    "SBDataset",
    "SBData",
    "SPLIT_PROTOCOLS",
    "AseDataset",
    "make_sample",
    "input_symmetry",
    "check_sample",
    "default_root",
    "verify_sha256",
    "equivariant_basis",
    "best_equivariant_score",
]
