"""Test helpers for symmetry properties of models (in the spirit of ``e3nn.util.test``).

The harness also uses :func:`equivariance_error` to *measure* (never assume) a
model's equivariance error on a test set.

Conventions: an operation ``R`` is a ``(3, 3)`` orthogonal matrix acting on
column vectors, ``g.x = R @ x``; for row-stacked arrays that is ``x @ R.T``.
Per-atom model outputs ``(N, 3k)`` are ``k`` polar vectors per atom.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "random_orthogonal",
    "to_dtype",
    "transform_batch",
    "equivariance_error",
    "assert_equivariant",
    "relaxed_equivariance_error",
    "op_permutation",
]

#: per-atom fields of the Data contract that follow a permutation of the atoms
_NODE_KEYS = ("z", "pos", "y", "node_attr", "node_vec", "orbit", "batch")
#: per-atom polar-vector fields that rotate with the molecule
_VECTOR_KEYS = ("y", "node_vec")


def random_orthogonal(
    seed: int | None = None, dtype: torch.dtype = torch.float64, *, improper: bool | None = None
) -> Tensor:
    """Haar-random element of O(3) as a ``(3, 3)`` matrix.

    Parameters
    ----------
    seed
        Seed of a private generator (``None``: the global RNG).
    dtype
        Floating dtype of the result.
    improper
        ``True`` forces ``det = -1`` (rotoreflection), ``False`` forces a
        rotation, ``None`` draws either with probability 1/2.
    """
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    a = torch.randn(3, 3, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))[None, :]  # Haar measure
    if improper is None:
        improper = bool(torch.rand((), generator=gen) < 0.5)
    if (torch.det(q) < 0) != improper:
        q = -q
    return q.to(dtype)


def to_dtype(data: Any, dtype: torch.dtype) -> Any:
    """Copy of a PyG ``Data``/``Batch`` with every floating tensor cast to ``dtype``."""
    out = data.clone()
    for key in list(out.keys()):
        value = out[key]
        if isinstance(value, Tensor) and value.is_floating_point():
            out[key] = value.to(dtype)
    return out


def _batch_vector(data: Any) -> Tensor:
    b = getattr(data, "batch", None)
    if b is None:
        return torch.zeros(data.pos.shape[0], dtype=torch.long, device=data.pos.device)
    return b


def _permutation_within_molecules(batch: Tensor, gen: torch.Generator) -> Tensor:
    """Random permutation of the atoms that keeps every atom in its molecule."""
    noise = torch.rand(batch.numel(), generator=gen, dtype=torch.float64)  # in [0, 1)
    return torch.argsort(batch.to(torch.float64) + noise)


def transform_batch(
    data: Any, rot: Tensor, perm: Tensor | None = None, shift: Tensor | None = None
) -> Any:
    """Apply ``g = (rot, translation)`` and a permutation of atoms to a batch.

    New atom ``p`` is old atom ``perm[p]``; positions become
    ``pos @ rot.T + shift[batch]``, vector fields ``y``/``node_vec`` become
    ``v @ rot.T``, ``sym_ops`` become ``rot @ S @ rot.T``; a precomputed
    ``frame`` is dropped (models recompute it).
    """
    out = data.clone()
    n, device = out.pos.shape[0], out.pos.device
    rot = rot.to(device=device, dtype=out.pos.dtype)
    batch = _batch_vector(out)
    perm = torch.arange(n, device=device) if perm is None else perm.to(device)
    for key in _NODE_KEYS:
        value = getattr(out, key, None)
        if isinstance(value, Tensor) and value.shape[:1] == (n,):
            out[key] = value[perm]
    out.pos = out.pos @ rot.T
    if shift is not None:
        out.pos = out.pos + shift.to(device=device, dtype=out.pos.dtype)[batch]
    for key in _VECTOR_KEYS:
        value = getattr(out, key, None)
        if isinstance(value, Tensor) and value.is_floating_point() and value.shape[-1] % 3 == 0:
            shape = value.shape
            out[key] = (value.reshape(n, -1, 3) @ rot.T.to(value.dtype)).reshape(shape)
    ops = getattr(out, "sym_ops", None)
    if isinstance(ops, Tensor):
        out.sym_ops = rot.to(ops.dtype) @ ops @ rot.T.to(ops.dtype)
    if getattr(out, "frame", None) is not None:
        del out.frame
    return out


def _model_dtype(model: torch.nn.Module, default: torch.dtype) -> torch.dtype:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return default


def _rotate_vectors(y: Tensor, rot: Tensor) -> Tensor:
    rot = rot.to(device=y.device, dtype=y.dtype)
    return (y.reshape(y.shape[0], -1, 3) @ rot.T).reshape(y.shape)


def _samples(data: Any, n_samples: int, seed: int, permute: bool, translate: bool):
    """Yield ``(rot, perm, shift)``; rotations and rotoreflections alternate."""
    gen = torch.Generator().manual_seed(seed)
    batch = _batch_vector(data).cpu()
    num_graphs = int(batch.max()) + 1 if batch.numel() else 0
    for s in range(n_samples):
        rot = random_orthogonal(seed * 1000 + s, improper=bool(s % 2))
        perm = _permutation_within_molecules(batch, gen) if permute else None
        shift = (
            torch.randn(num_graphs, 3, generator=gen, dtype=torch.float64) if translate else None
        )
        yield rot, perm, shift


def _evaluate(model: Callable[[Any], Tensor], data: Any) -> Tensor:
    with torch.no_grad():
        return model(data).detach()


def _prepared(model: torch.nn.Module, data: Any) -> tuple[Any, bool]:
    was_training = model.training
    model.eval()
    return to_dtype(data, _model_dtype(model, data.pos.dtype)), was_training


def equivariance_error(
    model: torch.nn.Module,
    data: Any,
    *,
    n_samples: int = 4,
    seed: int = 0,
    permute: bool = True,
    translate: bool = True,
) -> float:
    """Measured relative equivariance error of a per-atom vector model.

    For ``n_samples`` random elements ``g`` of E(3) (rotation or
    rotoreflection, alternating, plus a random translation per molecule) and
    random permutations ``P`` of the atoms within each molecule, computes

    ``max |f(P g.x) - P g.f(x)| / max |f(x)|``

    (max-norm over atoms and components). The model runs in eval mode (so
    ``+noise`` is off) in its own parameter dtype; its mode is restored.

    Raises
    ------
    ValueError
        If ``f(x)`` is identically zero (the error would say nothing).
    """
    data, was_training = _prepared(model, data)
    try:
        y0 = _evaluate(model, data)
        scale = float(y0.abs().max()) if y0.numel() else 0.0
        if scale == 0.0:
            raise ValueError("model output is identically zero; equivariance cannot be measured")
        err = 0.0
        for rot, perm, shift in _samples(data, n_samples, seed, permute, translate):
            y1 = _evaluate(model, transform_batch(data, rot, perm, shift))
            expected = _rotate_vectors(y0, rot)
            if perm is not None:
                expected = expected[perm.to(expected.device)]
            err = max(err, float((y1 - expected).abs().max()))
        return err / scale
    finally:
        model.train(was_training)


def assert_equivariant(
    model: torch.nn.Module, data: Any, *, tol: float = 1e-6, **kwargs: Any
) -> float:
    """Assert :func:`equivariance_error` ``< tol``; return the measured error."""
    err = equivariance_error(model, data, **kwargs)
    assert err < tol, f"relative equivariance error {err:.3e} >= tolerance {tol:.1e}"
    return err


def op_permutation(pos: Tensor, numbers: Tensor, rot: Tensor, *, tol: float = 1e-3) -> Tensor:
    """Atom permutation ``pi`` induced by a symmetry operation about the centroid.

    Returns ``pi`` with ``rot (x_i - c) + c = x_{pi[i]}`` and equal atomic
    numbers, on the device of ``pos``: :func:`sbbench.symmetry.induced_permutations`
    for tensors. Raises ValueError if ``rot`` is not a symmetry within ``tol`` Å.
    """
    from sbbench.symmetry import induced_permutations

    pi = induced_permutations(rot.reshape(1, 3, 3), pos, numbers, tol=tol)[0]
    return torch.as_tensor(pi, device=pos.device)


def relaxed_equivariance_error(
    model: torch.nn.Module,
    data: Any,
    *,
    n_samples: int = 4,
    seed: int = 0,
    permute: bool = True,
    translate: bool = True,
    op_tol: float = 1e-3,
) -> float:
    """Measured error of relaxed equivariance, SANN Def. 3.3 (eq. 4).

    ``f(g.x) = g.sigma.f(x)`` for some ``sigma in Sym(x)``, where ``sigma``
    acts on a per-atom vector field by rotating the vectors and permuting the
    atoms it maps onto each other. For every molecule the smallest error over
    ``sigma`` in its ``sym_ops`` (from the batch, or detected with
    :func:`sbbench.symmetry.detect` when absent) is taken; returns the largest
    over molecules and samples, relative to ``max |f(x)|``.
    """
    from sbbench.symmetry import PointGroup, detect

    data, was_training = _prepared(model, data)
    try:
        batch = _batch_vector(data)
        num_graphs = int(batch.max()) + 1
        ops = getattr(data, "sym_ops", None)
        if ops is not None:
            counts = data.num_ops.reshape(-1).tolist()
            ops_per_mol = list(torch.split(ops.to(data.pos.dtype), counts))
        else:
            ops_per_mol = []
            for m in range(num_graphs):
                sel = batch == m
                group = detect(data.pos[sel], data.z[sel])
                ops_per_mol.append(torch.as_tensor(group.operations, dtype=data.pos.dtype))
        y0 = _evaluate(model, data)
        scale = float(y0.abs().max())
        if scale == 0.0:
            raise ValueError("model output is identically zero; equivariance cannot be measured")
        # sigma . f(x) for every molecule and every symmetry operation
        candidates = []
        for m in range(num_graphs):
            idx = (batch == m).nonzero().reshape(-1)
            group = PointGroup.from_operations(
                ops_per_mol[m], data.pos[idx], data.z[idx], tol=op_tol
            )
            cands = []
            perms = torch.as_tensor(group.permutations, device=y0.device)
            for op, pi in zip(ops_per_mol[m], perms, strict=True):
                moved = torch.empty_like(y0[idx])
                moved[pi] = _rotate_vectors(y0[idx], op)
                cands.append(moved)
            candidates.append((idx, cands))
        err = 0.0
        for rot, perm, shift in _samples(data, n_samples, seed, permute, translate):
            y1 = _evaluate(model, transform_batch(data, rot, perm, shift))
            if perm is not None:
                inv = torch.empty_like(perm)
                inv[perm] = torch.arange(perm.numel())
                y1 = y1[inv.to(y1.device)]  # back to the original atom order
            for idx, cands in candidates:
                best = min(float((y1[idx] - _rotate_vectors(c, rot)).abs().max()) for c in cands)
                err = max(err, best)
        return err / scale
    finally:
        model.train(was_training)
