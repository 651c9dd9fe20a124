"""Deterministic k-fold splits following each dataset's protocol.

Split protocols (:data:`sbbench._vocabulary.SplitProtocol`, the vocabulary of datasets,
results files and leaderboards, ``split.protocol``):

``same``     train = val = test = every sample (the SANN toy tasks, Sec. 6.1-6.2)
``random``   random parts of the samples: conformers of one molecule can fall into both
             train and test (the SANN paper's QM7-X protocol, Sec. 6.3)
``grouped``  random parts of the molecules (``mol_id``): no molecule is in two parts
             (:func:`~sbbench._vocabulary.split_group_by`)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sbbench.errors import InputError

from .._vocabulary import SPLIT_PROTOCOLS, SplitProtocol, check_split_protocol, split_group_by

__all__ = ["kfold", "resolve_protocol", "SPLIT_PROTOCOLS"]


def resolve_protocol(dataset: Any, protocol: str | None = None) -> SplitProtocol:
    """The split protocol that :func:`kfold` follows: ``protocol`` if given, else the
    dataset's ``protocol`` attribute, else ``"random"``; ValueError if it is unknown."""
    if protocol is None:
        protocol = getattr(dataset, "protocol", "random")
    return check_split_protocol(protocol, what="protocol")


def _group_ids(dataset: Any, group: str) -> np.ndarray:
    if group != "molecule":
        raise InputError(f"group must be None or 'molecule', got {group!r}")
    ids = []
    for i in range(len(dataset)):
        mol = getattr(dataset[i], "mol_id", None)
        if mol is None:
            raise InputError(f"group='molecule' needs mol_id on every sample; sample {i} has none")
        ids.append(int(mol.reshape(-1)[0]))
    return np.asarray(ids, dtype=np.int64)


def kfold(
    dataset: Sequence[Any],
    k: int,
    seed: int,
    *,
    group: str | None = None,
    protocol: str | None = None,
    fractions: Sequence[float] | None = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Deterministic k-fold (train, val, test) index arrays.

    Parameters
    ----------
    dataset
        A dataset (anything with ``len`` and, for ``group``, samples with ``mol_id``).
    k
        Number of folds (>= 1 for ``"same"``, >= 3 for ``"random"``).
    seed
        Seed of the permutation (``numpy.random.default_rng(seed)``).
    group
        What ``"grouped"`` splits: ``"molecule"`` (the default) splits the unique
        ``mol_id`` values, so all samples of one molecule fall in the same part of
        every fold. Giving ``group`` with ``protocol="random"`` is an error.
    protocol
        ``"same"``: every fold is (all, all, all), the train = val = test protocol
        of the SANN toy tasks (Sec. 6.1, 6.2), where folds differ only by the
        training seed. ``"random"``: the samples are permuted with ``seed`` and
        cut into k near-equal chunks; fold i tests on chunk i, validates on chunk
        (i + 1) mod k and trains on the other k - 2 chunks (k = 5 gives 60/20/20
        and k = 10 gives 80/10/10). ``"grouped"``: the same with molecules in
        place of samples. Default: the dataset's ``protocol`` attribute, else
        ``"random"`` (``"grouped"`` when ``group`` is given).
    fractions
        Only for ``"random"``: ``(train, val, test)`` fractions summing to 1.
        Then every fold is an independent random split with these fractions
        (fold i permutes with seed ``seed + i``): repeated hold-out, the
        protocol of SANN Table 3 ("60/20/20 ... 10-fold cross-validation of
        random splits"). Test parts of different folds may overlap.

    Returns
    -------
    list of (train, val, test)
        k tuples of sorted int64 index arrays into ``dataset``. For ``"random"``
        every index is in exactly one test part and the three parts of a fold
        are disjoint.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if protocol is None and group is not None:
        protocol = "grouped"
    protocol = resolve_protocol(dataset, protocol)
    if protocol == "random" and group is not None:
        raise InputError(f"protocol 'random' splits samples; group={group!r} needs 'grouped'")
    group = group or split_group_by(protocol)
    n = len(dataset)
    if n == 0:
        raise ValueError("cannot split an empty dataset")
    if protocol == "same":
        every = np.arange(n, dtype=np.int64)
        return [(every.copy(), every.copy(), every.copy()) for _ in range(k)]
    if k < 3 and fractions is None:
        raise InputError(f"protocol {protocol!r} needs k >= 3 (train, val and test parts), got {k}")
    if group is None:
        items = np.arange(n, dtype=np.int64)
        member = items
    else:
        member = _group_ids(dataset, group)
        items = np.unique(member)
    if len(items) < k and fractions is None:
        what = "samples" if group is None else f"distinct {group} ids"
        raise InputError(f"cannot make {k} folds from {len(items)} {what}")
    if fractions is not None:
        return _repeated_holdout(items, member, k, int(seed), fractions)
    perm = np.random.default_rng(int(seed)).permutation(items)
    chunks = np.array_split(perm, k)
    folds = []
    for i in range(k):
        test_items, val_items = chunks[i], chunks[(i + 1) % k]
        parts = []
        for sel in (None, val_items, test_items):
            if sel is None:
                sel = np.setdiff1d(items, np.concatenate([val_items, test_items]))
            parts.append(np.flatnonzero(np.isin(member, sel)).astype(np.int64))
        folds.append(tuple(parts))
    return folds


def _repeated_holdout(
    items: np.ndarray, member: np.ndarray, k: int, seed: int, fractions: Sequence[float]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """k independent (train, val, test) splits of ``items`` with the given fractions."""
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (3,) or (f < 0).any() or abs(f.sum() - 1) > 1e-6 or f[0] == 0 or f[2] == 0:
        raise InputError(f"fractions must be (train, val, test) >= 0 summing to 1, got {fractions}")
    n = len(items)
    n_test = max(1, round(f[2] * n))
    n_val = round(f[1] * n)
    if n - n_test - n_val < 1:
        raise InputError(f"fractions {tuple(f)} leave no training items out of {n}")
    folds = []
    for i in range(k):
        perm = np.random.default_rng(seed + i).permutation(items)
        cut = (perm[n_test + n_val :], perm[n_test : n_test + n_val], perm[:n_test])
        folds.append(tuple(np.flatnonzero(np.isin(member, sel)).astype(np.int64) for sel in cut))
    return folds
