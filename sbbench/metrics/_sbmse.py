r"""Symmetry-breaking mean squared error (SBMSE) for per-atom targets.

When the atoms of prediction and target correspond (one predicted vector per
atom, as for forces, dipoles or displacements), the symmetry-breaking metric
(SBM) of the SANN paper (eq. 3) can use the per-atom squared error instead of a
Chamfer distance. An operation :math:`g` of the stabilizer :math:`\mathrm{Sym}(x)`
of the input maps atom :math:`i` onto atom :math:`\pi_g(i)`
(:math:`R_g x_i \approx x_{\pi_g(i)}`, the convention of
``sbbench.symmetry.PointGroup.permutations``), so the moved target
:math:`g \cdot y` carries :math:`R_g y_i` at atom :math:`\pi_g(i)`, and

.. math::

    \mathrm{SBMSE}(f, y) = \min_{g \in \mathrm{Sym}(x)} \frac{1}{N}
        \sum_{i=1}^{N} \big\lVert f_{\pi_g(i)} - R_g\, y_i \big\rVert^2 .

The squared norm is that of the whole D = 3k row (each of its k 3-blocks is
moved by :math:`R_g`, row convention ``v @ R.T`` as in :func:`apply_ops`), and
the :math:`1/N` counts atoms, not entries: ``reduction="mean"`` is D times
``torch.nn.functional.mse_loss``; ``reduction="sum"`` drops the :math:`1/N`.
Ties between group elements resolve to the lowest operation index. With the
identity in the group, SBMSE <= MSE; for an equivariant prediction every term
is equal, so SBMSE = MSE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._chamfer import check_options
from ._sbcd import _check_vector_dim, _first_argmin, _pad, _segments, apply_ops
from ._validate import (
    check_cloud,
    check_finite,
    check_ops,
    is_numpy,
    segment_ids,
    to_tensor,
    warn_missing_identity,
)

__all__ = ["sbmse", "sbmse_batch"]


def _to_index(a: Any, name: str) -> torch.Tensor:
    """Convert ``a`` (tensor, ndarray or nested list of ints) to an int64 tensor."""
    if isinstance(a, torch.Tensor):
        t = a
    elif isinstance(a, np.ndarray | list | tuple):
        arr = np.asarray(a)
        if arr.dtype == object:
            raise ValueError(f"{name} must be an array of integer atom indices")
        t = torch.from_numpy(np.array(arr, copy=True, order="C"))
    else:
        raise ValueError(f"{name} must be a torch.Tensor or numpy array, got {type(a).__name__}")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer atom indices, got dtype {t.dtype}")
    return t.long()


def _bad_perm_row(
    local: torch.Tensor, row: torch.Tensor, size: torch.Tensor, n_rows: int
) -> tuple[int, str] | None:
    """First row that is not a permutation of ``range(size[row])``, and why.

    ``local`` (L,) holds each entry's atom index relative to its sample's first
    atom, ``row`` (L,) its row (operation) index and ``size`` (n_rows,) each row's
    length, where every row has exactly ``size`` entries.
    """
    n_e = size[row]
    out = (local < 0) | (local >= n_e)
    width = int(size.max()) if n_rows else 0
    key = row * width + local.clamp(0, max(width - 1, 0))
    counts = torch.bincount(torch.where(out, -1, key) + 1, minlength=n_rows * width + 1)[1:]
    dup = counts.reshape(n_rows, width) > 1
    bad = dup.any(dim=1)
    bad.index_put_((row,), out, accumulate=True)
    if not bool(bad.any()):
        return None
    r = int(bad.nonzero()[0, 0])
    in_row = row == r
    if bool((out & in_row).any()):
        e = int((out & in_row).nonzero()[0, 0])
        return r, f"atom index {int(local[e])} is outside range({int(size[r])})"
    j = int(dup[r].nonzero()[0, 0])
    return r, f"atom {j} appears {int(counts.reshape(n_rows, width)[r, j])} times"


def _finish(value: torch.Tensor, index: torch.Tensor, numpy_out: bool):
    if numpy_out:
        return value.detach().cpu().numpy(), index.cpu().numpy()
    return value, index


def sbmse(
    pred: Any,
    target: Any,
    ops: Any,
    perms: Any,
    *,
    reduction: str = "mean",
    return_index: bool = False,
) -> Any:
    r"""SBMSE of one sample: :math:`\min_g \frac{1}{N}\sum_i \lVert f_{\pi_g(i)} - R_g y_i\rVert^2`.

    Parameters
    ----------
    pred, target
        (N, 3k) per-atom vectors of the prediction and the target, atoms in the
        same order (tensor or numpy; the kind of ``pred`` is returned).
    ops
        (G, 3, 3) orthogonal matrices: the stabilizer Sym(x) of the input, identity
        first (a warning is issued when it is missing, since then SBMSE <= MSE fails),
        e.g. ``sbbench.symmetry.detect(pos, z).operations``.
    perms
        (G, N) integer array: ``perms[g, i]`` is the atom that operation ``g`` maps
        atom ``i`` onto, :math:`R_g x_i \approx x_{\mathrm{perms}[g, i]}`
        (``PointGroup.permutations``). Every row must be a permutation of range(N).
    reduction
        ``"mean"`` divides the sum of per-atom squared row norms by N, ``"sum"`` does not.
    return_index
        Also return the index of the minimising operation (lowest on ties).

    Returns
    -------
    Scalar SBMSE (and the operation index with ``return_index``), differentiable
    in ``pred`` and ``target``.

    Examples
    --------
    >>> import numpy as np
    >>> ops = np.stack([np.eye(3), -np.eye(3)])       # C_i: inversion swaps the atoms
    >>> perms = np.array([[0, 1], [1, 0]])
    >>> y = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    >>> pred = np.array([[0, -1.0, 0], [-1.0, 0, 0]])  # = inversion . y
    >>> float(sbmse(pred, y, ops, perms)), float(sbmse(y, y, ops, perms))
    (0.0, 0.0)
    """
    check_options(reduction, allow_none=False)
    numpy_out = is_numpy(pred)
    p, t = to_tensor(pred, "pred"), to_tensor(target, "target")
    check_cloud(p, "pred")
    check_cloud(t, "target")
    if p.shape != t.shape:
        raise ValueError(
            f"pred and target must have the same shape (N, D), got {tuple(p.shape)} and "
            f"{tuple(t.shape)}"
        )
    _check_vector_dim(p.shape[1])
    dtype = torch.promote_types(p.dtype, t.dtype)
    o = to_tensor(ops, "ops", dtype).to(p.device)
    check_ops(o)
    n, g = p.shape[0], o.shape[0]
    pi = _to_index(perms, "perms").to(p.device)
    if tuple(pi.shape) != (g, n):
        raise ValueError(f"perms must have shape (G, N) = ({g}, {n}), got {tuple(pi.shape)}")
    rows = torch.arange(g, device=p.device).repeat_interleave(n)
    bad = _bad_perm_row(pi.reshape(-1), rows, torch.full((g,), n, device=p.device), g)
    if bad is not None:
        raise ValueError(
            f"perms[{bad[0]}] (operation {bad[0]}) is not a permutation of range({n}): {bad[1]}"
        )
    warn_missing_identity(o, torch.zeros(g, dtype=torch.long, device=p.device), 1)
    p, t = p.to(dtype), t.to(dtype)
    err = (p[pi] - apply_ops(o, t)).square().sum(dim=(-2, -1))  # (G,)
    if reduction == "mean":
        err = err / n
    value, index = _finish(*_first_argmin(err), numpy_out)
    return (value, index) if return_index else value


def _from_lists(pred, y, ops, perms):
    if not (len(pred) == len(y) == len(ops) == len(perms)):
        raise ValueError(
            f"pred, y, ops and perms lists must have equal length, got "
            f"{len(pred)}, {len(y)}, {len(ops)}, {len(perms)}"
        )
    if not pred:
        raise ValueError("no samples given")
    p = [to_tensor(a, f"pred[{k}]") for k, a in enumerate(pred)]
    t = [to_tensor(a, f"y[{k}]") for k, a in enumerate(y)]
    o = [to_tensor(a, f"ops[{k}]") for k, a in enumerate(ops)]
    q = [_to_index(a, f"perms[{k}]") for k, a in enumerate(perms)]
    start = 0
    flat = []
    for k, (pk, tk, ok, qk) in enumerate(zip(p, t, o, q, strict=True)):
        check_cloud(pk, f"pred[{k}]")
        check_cloud(tk, f"y[{k}]")
        if pk.shape != tk.shape:
            raise ValueError(
                f"pred[{k}] and y[{k}] must have the same shape (N, D), got "
                f"{tuple(pk.shape)} and {tuple(tk.shape)}"
            )
        if pk.shape[1] != p[0].shape[1]:
            raise ValueError(
                f"all samples must have the same D, but pred[0] has D = {p[0].shape[1]} "
                f"and pred[{k}] has D = {pk.shape[1]}"
            )
        if ok.dim() != 3 or ok.shape[1:] != (3, 3):
            raise ValueError(f"ops[{k}] must have shape (G, 3, 3), got {tuple(ok.shape)}")
        if tuple(qk.shape) != (len(ok), len(pk)):
            raise ValueError(
                f"perms[{k}] must have shape (G_k, N_k) = ({len(ok)}, {len(pk)}), "
                f"got {tuple(qk.shape)}"
            )
        flat.append(qk.reshape(-1) + start)
        start += len(pk)

    return torch.cat(p), torch.cat(t), torch.cat(o), torch.cat(flat), segment_ids(p), segment_ids(o)


def sbmse_batch(
    pred: Any,
    y: Any,
    ops: Any,
    perms: Any,
    batch: Any = None,
    ops_batch: Any = None,
    *,
    reduction: str = "mean",
    return_per_sample: bool = False,
    return_index: bool = False,
) -> Any:
    r"""Mean SBMSE over samples (the SBM of SANN eq. 3 with SBMSE), in one vectorised pass.

    Two input forms:

    * PyG collations: ``pred`` and ``y`` (sum N_k, 3m) with the sorted sample
      index per atom ``batch``; ``ops`` (sum G_k, 3, 3) with the sorted sample
      index per operation ``ops_batch``; and ``perms`` a 1-D integer vector of
      length sum_k G_k N_k: sample k's (G_k, N_k) permutation array flattened
      row-major ((operation, atom) order) and **offset by the sample's first
      atom index**, so its values index the concatenated ``pred``. This is what
      ``Batch.from_data_list`` produces for a flattened ``sym_perms`` attribute
      whose ``Data.__inc__`` returns ``self.num_nodes``; ``ops_batch`` is then
      ``torch.repeat_interleave(torch.arange(B), num_ops)``.
    * lists of per-sample arrays: ``pred[k]``, ``y[k]`` (N_k, 3m), ``ops[k]``
      (G_k, 3, 3), ``perms[k]`` (G_k, N_k) with local atom indices;
      ``batch``/``ops_batch`` must be None.

    Every (operation, atom) term is evaluated in one flat pass (no padding of
    atoms, memory O(sum_k G_k N_k m)); only the (K, max G_k) table of per-operation
    errors is padded for the minimum.

    Parameters
    ----------
    reduction
        Per sample: ``"mean"`` divides by N_k, ``"sum"`` does not (see :func:`sbmse`).
        The samples are always averaged.
    return_per_sample, return_index
        Also return the (K,) per-sample SBMSE and/or the (K,) index (within each
        sample's ops) of the minimising operation, lowest on ties.

    Returns
    -------
    mean SBMSE over the K samples, then the optional extras; same array kind as
    ``pred``; differentiable in ``pred`` and ``y``.
    """
    check_options(reduction, allow_none=False)
    lists = isinstance(pred, Sequence) and not isinstance(pred, torch.Tensor)
    numpy_out = is_numpy(pred[0] if lists else pred)
    if lists:
        if batch is not None or ops_batch is not None:
            raise ValueError("give either lists of samples or batch vectors, not both")
        p, t, o, pi, pb, ob = _from_lists(pred, y, ops, perms)
    else:
        if batch is None or ops_batch is None:
            raise ValueError("concatenated inputs need `batch` and `ops_batch` vectors")
        p, t, o = to_tensor(pred, "pred"), to_tensor(y, "y"), to_tensor(ops, "ops")
        if p.dim() != 2 or p.shape[0] == 0 or p.shape[1] == 0:
            raise ValueError(f"pred must have shape (N, D) with N, D >= 1, got {tuple(p.shape)}")
        if o.dim() != 3:
            raise ValueError(f"ops must have shape (G, 3, 3), got {tuple(o.shape)}")
        pi = _to_index(perms, "perms")
        if pi.dim() != 1:
            raise ValueError(
                f"perms must be 1-D (each sample's (G_k, N_k) rows flattened, as PyG "
                f"collates them), got shape {tuple(pi.shape)}"
            )
        pb = torch.as_tensor(batch, dtype=torch.long)
        ob = torch.as_tensor(ops_batch, dtype=torch.long)
        if p.shape != t.shape:
            raise ValueError(
                f"pred and y must have the same shape (N, D), got {tuple(p.shape)} and "
                f"{tuple(t.shape)}"
            )
        for name, a, s, sname in (("pred", p, pb, "batch"), ("ops", o, ob, "ops_batch")):
            if s.dim() != 1:
                raise ValueError(f"{sname} must be a 1-D vector of sample indices")
            if len(a) != len(s):
                raise ValueError(f"{name} has {len(a)} rows but {sname} has {len(s)} entries")
    dev = p.device
    pi, pb, ob = pi.to(dev), pb.to(dev), ob.to(dev)
    _check_vector_dim(p.shape[1])
    check_finite(p, "pred")
    check_finite(t, "y")
    dtype = torch.promote_types(p.dtype, t.dtype)
    p, t, o = p.to(dtype), t.to(dtype), o.to(dtype=dtype, device=dev)
    check_ops(o)
    n = int(max(pb.max(), ob.max())) + 1
    n_atoms, _ = _segments(pb, n, "batch")
    n_ops, op_pos = _segments(ob, n, "ops_batch")
    for name, c in (("batch", n_atoms), ("ops_batch", n_ops)):
        if (c == 0).any():
            raise ValueError(f"sample {int((c == 0).nonzero()[0, 0])} has no entries in {name}")
    warn_missing_identity(o, ob, n)

    # one entry per (operation, atom) pair, in PyG's flattened (operation, atom) order
    n_entries = n_ops * n_atoms
    if len(pi) != int(n_entries.sum()):
        raise ValueError(
            f"perms has {len(pi)} entries but the batch implies sum_k G_k*N_k = "
            f"{int(n_entries.sum())} (each sample's (G_k, N_k) array, flattened)"
        )
    ent_sample = torch.repeat_interleave(torch.arange(n, device=dev), n_entries)
    ent_local = (
        torch.arange(len(pi), device=dev) - (torch.cumsum(n_entries, 0) - n_entries)[ent_sample]
    )
    atom_start = (torch.cumsum(n_atoms, 0) - n_atoms)[ent_sample]
    op_start = (torch.cumsum(n_ops, 0) - n_ops)[ent_sample]
    n_e = n_atoms[ent_sample]
    ent_op = op_start + torch.div(ent_local, n_e, rounding_mode="floor")
    ent_atom = atom_start + ent_local % n_e
    bad = _bad_perm_row(pi - atom_start, ent_op, n_atoms[ob], len(o))
    if bad is not None:
        r, why = bad
        k = int(ob[r])
        hint = "" if lists else " (values must be offset by the sample's first atom index)"
        raise ValueError(
            f"perms of sample {k}, operation {int(op_pos[r])} is not a permutation of "
            f"range({int(n_atoms[k])}): {why}{hint}"
        )

    m = p.shape[1] // 3
    moved = torch.einsum("eij,ekj->eki", o[ent_op], t[ent_atom].reshape(-1, m, 3))
    err = (p[pi] - moved.reshape(-1, 3 * m)).square().sum(-1)  # (L,)
    per_op = err.new_zeros(len(o)).index_add(0, ent_op, err)
    if reduction == "mean":
        per_op = per_op / n_atoms[ob].to(per_op.dtype)
    table, mask = _pad(per_op, ob, n, "ops_batch")
    per, idx = _first_argmin(table.masked_fill(~mask, float("inf")))
    mean = per.mean()
    if numpy_out:
        mean, per, idx = mean.detach().cpu().numpy(), per.detach().cpu().numpy(), idx.cpu().numpy()
    out: tuple = (mean,)
    if return_per_sample:
        out += (per,)
    if return_index:
        out += (idx,)
    return out[0] if len(out) == 1 else out
