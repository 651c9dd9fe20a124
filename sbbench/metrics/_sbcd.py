r"""Symmetry-breaking Chamfer distance (SBCD), the SBM of the SANN paper (eq. 3) with CD.

For a prediction :math:`f(x_k)`, a target :math:`y_k` and the stabilizer
:math:`\mathrm{Sym}(x_k)` of the *input*,

.. math::

    \mathrm{SBCD}_k = \min_{g \in \mathrm{Sym}(x_k)} \mathrm{CD}\big(f(x_k),\, g \cdot y_k\big),
    \qquad
    \mathrm{SBM} = \frac{1}{K} \sum_{k=1}^{K} \mathrm{SBCD}_k .

Every :math:`g \cdot y_k` is an equally valid outcome of the spontaneous
symmetry breaking, so a model is not penalised for picking a different one.
An operation acts on each 3-vector of a target: for a target with D = 3k
columns, each of the k 3-blocks of every row is mapped by :math:`R`
(row convention ``v @ R.T``). Ties between group elements resolve to the
lowest operation index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .._vocabulary import SBBENCH_DEFAULT, ChamferConvention
from ._chamfer import chamfer_padded, check_options
from ._validate import (
    check_cloud,
    check_finite,
    check_ops,
    is_numpy,
    segment_ids,
    to_tensor,
    warn_missing_identity,
)

__all__ = ["sbcd", "sbcd_batch", "chamfer_batch", "apply_ops"]

DEFAULT_MEMORY_MB = 32.0
"""Default budget for the intermediates of one chunk of a batched evaluation (forward
pass). Small chunks stay in the CPU cache, which is faster than one huge chunk."""


def apply_ops(ops: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Apply each operation to every 3-block of ``y``.

    ``ops`` (..., G, 3, 3) and ``y`` (..., M, 3k) -> (..., G, M, 3k), with
    ``(g·y)[m, 3j:3j+3] = R_g @ y[m, 3j:3j+3]``.
    """
    *lead, m, d = y.shape
    blocks = y.reshape(*lead, m, d // 3, 3)
    out = torch.einsum("...gij,...mkj->...gmki", ops, blocks)
    return out.reshape(*out.shape[:-2], d)


def _first_argmin(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Min over the last dim and the lowest index attaining it (deterministic ties)."""
    vmin = values.amin(dim=-1)
    hit = values == vmin.unsqueeze(-1)
    idx = torch.arange(values.shape[-1], device=values.device).expand_as(hit)
    first = torch.where(hit, idx, values.shape[-1]).amin(dim=-1)
    return vmin, first


def _check_vector_dim(d: int) -> None:
    if d % 3:
        raise ValueError(
            f"targets must hold 3-vectors (D = 3k columns) for ops to act on them, got D = {d}"
        )


def sbcd(
    pred: Any,
    target: Any,
    ops: Any,
    *,
    return_index: bool = False,
    **chamfer_kwargs: Any,
) -> Any:
    r"""SBCD of one sample: :math:`\min_{g} \mathrm{CD}(\mathrm{pred}, g \cdot \mathrm{target})`.

    Parameters
    ----------
    pred, target
        (N, 3k) and (M, 3k) per-node vectors (tensor or numpy; same kind returned).
    ops
        (G, 3, 3) orthogonal matrices: the stabilizer Sym(x) of the input,
        e.g. ``sbbench.symmetry.detect(pos, z).operations``. Should contain the
        identity (a warning is issued otherwise, since then SBCD <= CD fails).
    return_index
        Also return the index of the minimising operation (lowest on ties).
    **chamfer_kwargs
        ``symmetric``, ``reduction`` ("mean" or "sum") and ``squared`` of
        :func:`sbbench.metrics.chamfer`.
    """
    numpy_out = is_numpy(pred)
    p, t = to_tensor(pred, "pred"), to_tensor(target, "target")
    check_cloud(p, "pred")
    check_cloud(t, "target")
    if p.shape[1] != t.shape[1]:
        raise ValueError(f"pred has D = {p.shape[1]} but target has D = {t.shape[1]}")
    _check_vector_dim(p.shape[1])
    dtype = torch.promote_types(p.dtype, t.dtype)
    o = to_tensor(ops, "ops", dtype)
    check_ops(o)
    warn_missing_identity(o, torch.zeros(len(o), dtype=torch.long), 1)
    kw = _chamfer_kwargs(chamfer_kwargs)
    p, t = p.to(dtype), t.to(dtype)
    values = chamfer_padded(p.unsqueeze(0), apply_ops(o, t), **kw)  # (G,)
    value, index = _first_argmin(values)
    if numpy_out:
        value = value.detach().numpy()
        index = index.numpy()
    return (value, index) if return_index else value


def _chamfer_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    unknown = set(kw) - set(ChamferConvention.KEYS)
    if unknown:
        raise ValueError(
            f"unknown Chamfer options {sorted(unknown)}; valid: {', '.join(ChamferConvention.KEYS)}"
        )
    out = {**SBBENCH_DEFAULT.to_dict(), **kw}
    check_options(out["reduction"], allow_none=False)
    return out


def _segments(seg: torch.Tensor, n: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Counts per segment and each element's position inside its segment."""
    if seg.dim() != 1:
        raise ValueError(f"{name} must be a 1-D vector of sample indices")
    if len(seg) and (seg[1:] < seg[:-1]).any():
        raise ValueError(f"{name} must be sorted (PyG batch vectors are)")
    if len(seg) and (seg.min() < 0 or seg.max() >= n):
        raise ValueError(f"{name} has sample indices outside [0, {n})")
    counts = torch.bincount(seg, minlength=n)
    starts = torch.cumsum(counts, 0) - counts
    return counts, torch.arange(len(seg), device=seg.device) - starts[seg]


def _pad(values: torch.Tensor, seg: torch.Tensor, n: int, name: str):
    counts, pos = _segments(seg, n, name)
    if (counts == 0).any():
        k = int((counts == 0).nonzero()[0, 0])
        raise ValueError(f"sample {k} has no entries in {name}")
    width = int(counts.max())
    out = values.new_zeros((n, width, *values.shape[1:]))
    out[seg, pos] = values
    mask = torch.zeros(n, width, dtype=torch.bool, device=values.device)
    mask[seg, pos] = True
    return out, mask


def _from_lists(pred, target, ops):
    if not (len(pred) == len(target) == len(ops)):
        raise ValueError(
            f"pred, target and ops lists must have equal length, got "
            f"{len(pred)}, {len(target)}, {len(ops)}"
        )
    if not pred:
        raise ValueError("no samples given")
    p = [to_tensor(a, f"pred[{i}]") for i, a in enumerate(pred)]
    t = [to_tensor(a, f"target[{i}]") for i, a in enumerate(target)]
    o = [to_tensor(a, f"ops[{i}]") for i, a in enumerate(ops)]
    for i, (pi, ti, oi) in enumerate(zip(p, t, o, strict=True)):
        check_cloud(pi, f"pred[{i}]")
        check_cloud(ti, f"target[{i}]")
        if oi.dim() != 3:
            raise ValueError(f"ops[{i}] must have shape (G, 3, 3), got {tuple(oi.shape)}")

    return torch.cat(p), torch.cat(t), torch.cat(o), segment_ids(p), segment_ids(t), segment_ids(o)


def sbcd_batch(
    pred: Any,
    target: Any,
    ops: Any,
    batch: Any = None,
    ops_batch: Any = None,
    *,
    target_batch: Any = None,
    return_per_sample: bool = False,
    return_index: bool = False,
    memory_mb: float = DEFAULT_MEMORY_MB,
    **chamfer_kwargs: Any,
) -> Any:
    r"""SBM (SANN eq. 3): the mean SBCD over many samples, in one vectorised pass.

    Two input forms:

    * lists of per-sample arrays: ``pred[k]`` (N_k, 3m), ``target[k]`` (M_k, 3m),
      ``ops[k]`` (G_k, 3, 3); ``batch``/``ops_batch`` must be None;
    * PyG-style concatenations: ``pred`` (sum N_k, 3m) with sorted ``batch``
      (sample index per row), ``target`` with ``target_batch`` (defaults to
      ``batch``), ``ops`` (sum G_k, 3, 3) with ``ops_batch``.

    Samples are padded to the largest cloud and group, and all samples x all
    group elements are evaluated at once, in chunks of samples sized so the
    largest intermediate stays under ``memory_mb`` (forward pass).

    Returns
    -------
    mean SBCD; with ``return_per_sample`` also the (K,) per-sample values; with
    ``return_index`` also the (K,) index (within each sample's ops) of the
    minimising operation. Same array kind as ``pred``.
    """
    numpy_out = is_numpy(pred[0] if isinstance(pred, Sequence) else pred)
    if isinstance(pred, Sequence) and not isinstance(pred, torch.Tensor):
        if batch is not None or ops_batch is not None or target_batch is not None:
            raise ValueError("give either lists of samples or batch vectors, not both")
        p, t, o, pb, tb, ob = _from_lists(pred, target, ops)
    else:
        if batch is None or ops_batch is None:
            raise ValueError("concatenated inputs need `batch` and `ops_batch` vectors")
        p, t, o = to_tensor(pred, "pred"), to_tensor(target, "target"), to_tensor(ops, "ops")
        pb = torch.as_tensor(batch, dtype=torch.long)
        tb = pb if target_batch is None else torch.as_tensor(target_batch, dtype=torch.long)
        ob = torch.as_tensor(ops_batch, dtype=torch.long)
        for name, a, s in (("pred", p, pb), ("target", t, tb), ("ops", o, ob)):
            if len(a) != len(s):
                raise ValueError(f"{name} has {len(a)} rows but its batch vector has {len(s)}")
    if p.dim() != 2 or t.dim() != 2 or p.shape[1] != t.shape[1]:
        raise ValueError(
            f"pred and target must be (N, D) with equal D, got {tuple(p.shape)}, {tuple(t.shape)}"
        )
    _check_vector_dim(p.shape[1])
    check_finite(p, "pred")
    check_finite(t, "target")
    dtype = torch.promote_types(p.dtype, t.dtype)
    p, t, o = p.to(dtype), t.to(dtype), o.to(dtype)
    check_ops(o)
    n = int(max(pb.max(), tb.max(), ob.max())) + 1 if len(pb) else 0
    warn_missing_identity(o, ob, n)
    kw = _chamfer_kwargs(chamfer_kwargs)

    P, pmask = _pad(p, pb, n, "batch")
    T, tmask = _pad(t, tb, n, "target_batch")
    padded = not (bool(pmask.all()) and bool(tmask.all()))  # equal sizes need no masks
    O, omask = _pad(o, ob, n, "ops_batch")
    # largest intermediates: the (G, N, M, D) differences, (G, N, M) tables, moved targets
    per_sample = O.shape[1] * (
        P.shape[1] * T.shape[1] * (p.shape[1] + 2) + 2 * T.shape[1] * p.shape[1]
    )
    per_sample *= p.element_size()
    chunk = max(1, int(memory_mb * 2**20 // max(per_sample, 1)))
    values, indices = [], []
    for s in range(0, n, chunk):
        sl = slice(s, s + chunk)
        gy = apply_ops(O[sl], T[sl])  # (b, G, M, D)
        cd = chamfer_padded(
            P[sl].unsqueeze(1),
            gy,
            pmask[sl].unsqueeze(1) if padded else None,
            tmask[sl].unsqueeze(1) if padded else None,
            **kw,
        )  # (b, G)
        cd = cd.masked_fill(~omask[sl], float("inf"))
        v, i = _first_argmin(cd)
        values.append(v)
        indices.append(i)
    per = torch.cat(values)
    idx = torch.cat(indices)
    mean = per.mean()
    if numpy_out:
        mean, per, idx = mean.detach().numpy(), per.detach().numpy(), idx.numpy()
    out: tuple = (mean,)
    if return_per_sample:
        out += (per,)
    if return_index:
        out += (idx,)
    return out[0] if len(out) == 1 else out


def chamfer_batch(
    pred: Any,
    target: Any,
    batch: Any = None,
    *,
    target_batch: Any = None,
    return_per_sample: bool = False,
    memory_mb: float = DEFAULT_MEMORY_MB,
    **chamfer_kwargs: Any,
) -> Any:
    """Mean Chamfer distance over samples: :func:`sbcd_batch` with the trivial group {identity}.

    Accepts lists of per-sample clouds, or concatenations with a ``batch`` vector.
    The clouds must hold 3-vectors (D = 3k); use :func:`chamfer` per sample otherwise.
    """
    if isinstance(pred, Sequence) and not isinstance(pred, torch.Tensor):
        ops = [torch.eye(3).unsqueeze(0)] * len(pred)
        return sbcd_batch(
            pred,
            target,
            ops,
            return_per_sample=return_per_sample,
            memory_mb=memory_mb,
            **chamfer_kwargs,
        )
    if batch is None:
        raise ValueError("concatenated inputs need a `batch` vector")
    b = torch.as_tensor(batch, dtype=torch.long)
    n = int(b.max()) + 1 if len(b) else 0
    ops = torch.eye(3).expand(n, 3, 3)
    return sbcd_batch(
        pred,
        target,
        ops,
        b,
        torch.arange(n),
        target_batch=target_batch,
        return_per_sample=return_per_sample,
        memory_mb=memory_mb,
        **chamfer_kwargs,
    )
