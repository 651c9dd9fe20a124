"""Fused relaxed-E(3) convolution: the tensor product without per-edge weights.

One convolution of :mod:`sbbench.models.relaxed_e3nn` computes, for every
path ``k = (i, j, o)`` of its ``"uvu"`` tensor product (input irrep ``i``,
filter irrep ``j``, output irrep ``o``),

.. math::

    m_k[n, u, c] = \\sum_{e \\to n} \\sum_{v,a,b}
        w_k[e, u, v]\\, x_i[src_e, u, a]\\, f_j[e, v, b]\\, C_k[a, b, c]

with per-edge weights ``w = h W`` (``h = (E, R)`` the hidden layer of the
radial MLP, ``W = (R, weight_numel)`` its last, linear layer) and the filter
``f = Y(r_hat) M(theta)`` (``M = (S, filter_dim)`` linear in theta). The
per-edge formulation materialises ``w`` (``E x weight_numel`` numbers, which
grows ~6x from ``l_relaxed=0`` to ``2``) and runs ~4 small einsums per path.

Here the sum is regrouped into two dense contractions whose sizes do not
depend on ``l_relaxed``:

1. per target atom, ``Z[n, (u,a), (s,r)] = sum_{e -> n} x[src_e, (u,a)] Y[e,s] h[e,r]``
   (one batched matmul over the incoming edges of every atom, padded to the
   largest in-degree);
2. per input irrep ``i`` and channel ``u``, ``m[n, u, (k,c)] = Z[n, (u,a,s,r)] @ G_i[u]``
   with the parameter-only kernel
   ``G_k[u, a, s, r, c] = sum_v W_k[r, u, v] sum_b M_j[s, v, b] C_k[a, b, c]``,
   built once per forward pass (``sum_b M_j C_k`` is linear in theta:
   ``sum_tau theta_tau QB[tau, ...]`` with a constant ``QB``) and stored
   transposed, rows ``(k, c)`` and columns ``(a, s, r)``, the layout both
   products read without copies (:class:`_KernelAssembly`).

``Z`` (``dim_x * R * S`` numbers per atom, the largest tensor) is kept for the
backward pass in a buffer reused across steps (:class:`_Workspace`); batches
beyond ``_CHUNK_FLOATS`` build and consume it one chunk of atoms at a time and
recompute it in the backward pass (:class:`_FusedContraction`). The messages
come out transposed, one row per ``(i, u, k, c)``, so the convolution's
``lin2`` is one row gather and one matmul per output irrep with its own
weights. The cost of relaxed weights is then only the size of the kernels
``G`` (parameters, not edges) and the number of paths.

The constants (``QB``) are products of the convolution's own stored
Clebsch-Gordan buffers and theta tensor product, computed once in float64 and
cast (cached) to the dtype of each call, so a float64 model computes exactly
the per-edge function up to float64 round-off (tested against a frozen copy
of the per-edge model, ``tests/models/test_relaxed_e3nn_reference.py``).
"""

from __future__ import annotations

import dataclasses
import threading
import weakref

import torch
from e3nn import o3
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

__all__ = ["PaddedEdges", "pad_edges", "FusedRelaxedTP"]


@dataclasses.dataclass
class PaddedEdges:
    """Edges grouped by target atom, padded to the largest in-degree ``D``.

    Attributes
    ----------
    src : Tensor
        ``(N, D)`` source atom of every slot (0 in padding slots).
    sh : Tensor
        ``(N, D, S)`` edge spherical harmonics (zero in padding slots).
    scalars : Tensor
        ``(N, D, B)`` radial edge features (zero in padding slots).
    """

    src: Tensor
    sh: Tensor
    scalars: Tensor


def pad_edges(edge_index: Tensor, sh: Tensor, scalars: Tensor, num_nodes: int) -> PaddedEdges:
    """Group edges ``src -> dst`` by ``dst`` (any order; padding slots are zero)."""
    src, dst = edge_index
    num_edges = src.numel()
    deg = torch.bincount(dst, minlength=num_nodes)
    width = int(deg.max()) if num_nodes and num_edges else 0
    if num_edges and not bool((dst[1:] >= dst[:-1]).all()):
        order = torch.argsort(dst, stable=True)
    else:
        order = torch.arange(num_edges, device=dst.device)
    first = torch.cumsum(deg, 0) - deg
    dst_sorted = dst[order]
    slot = torch.arange(num_edges, device=dst.device) - first[dst_sorted]
    index = torch.full((num_nodes, width), num_edges, dtype=torch.long, device=dst.device)
    index[dst_sorted, slot] = order

    def gather(t: Tensor) -> Tensor:
        return torch.cat([t, t.new_zeros((1,) + t.shape[1:])])[index]

    return PaddedEdges(src=gather(src), sh=gather(sh), scalars=gather(scalars))


class _InjectiveRowGather(torch.autograd.Function):
    """``x[index]`` for an injective ``index``; the backward is a gather as well
    (autograd's default, an accumulating index_put, is several times slower here)."""

    @staticmethod
    def forward(ctx, x: Tensor, index: Tensor, inverse: Tensor) -> Tensor:
        ctx.save_for_backward(inverse)
        return x.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (inverse,) = ctx.saved_tensors
        grad = torch.cat([grad, grad.new_zeros(1, grad.shape[1])], dim=0)
        return grad.index_select(0, inverse), None, None


class _RowGather(torch.autograd.Function):
    """``x[index]`` for an ``(N, D)`` index with repeats; the backward is one
    ``index_add_`` (autograd's default, an accumulating index_put, is ~10x slower here)."""

    @staticmethod
    def forward(ctx, x: Tensor, index: Tensor) -> Tensor:
        ctx.save_for_backward(index)
        ctx.num_rows = x.shape[0]
        return x.index_select(0, index.reshape(-1)).view(*index.shape, x.shape[1])

    @staticmethod
    def backward(ctx, grad: Tensor):
        (index,) = ctx.saved_tensors
        flat = grad.reshape(-1, grad.shape[-1])
        out = grad.new_zeros(ctx.num_rows, grad.shape[-1]).index_add_(0, index.reshape(-1), flat)
        return out, None


#: floats of Z per chunk of atoms, ``(chunk, dim_x, R * S)``: bounds the memory of the
#: fused contraction for large batches (32 MiB in float32). A batch that fits in one
#: chunk keeps its Z for the backward pass; larger ones recompute it chunk by chunk.
#: Measured on 2 cores (bench_models.py, 302 atoms, Z = 4.2M floats): one chunk per
#: batch is 1.2x faster per training step than 1M-float chunks, whose small strided
#: matmuls ran at a third of the single-core matmul rate.
_CHUNK_FLOATS = 1 << 23

#: floats of dZ per sub-chunk of atoms in the backward pass: dZ (as large as Z) is
#: written by the kernel products and read by the two per-atom products; in ~3 MiB
#: pieces (56 atoms of the bench_models.py workload) it is read back from cache instead
#: of memory. Measured on 2 cores under load: the contraction's backward alone ~1.4x
#: faster than with the whole dZ at once; per training step 3.5-10 % faster in three of
#: four runs, 3 % slower in one; 1/4, 2/3 and 4/3 of this size the same within noise.
_DZ_CHUNK_FLOATS = 3 << 18


class _Workspace:
    """The memory of one convolution's ``Z``, reused from one training step to the next.

    ``Z`` (16 MiB per convolution on the benchmark's batch) is the largest
    tensor of a step; allocated afresh in every forward pass, glibc hands it
    back to the kernel when it is freed and the next step pays ~4000 page faults
    for it (~10 % of a step in system time, measured on 2 cores). The buffer is
    lent to one autograd node at a time and only while that node still holds
    its saved tensors (before its backward pass, or after one with
    ``retain_graph=True``) does a forward pass get new memory instead, so
    graphs that are differentiated later, or twice, see their own ``Z``.
    """

    def __init__(self):
        self._buf: Tensor | None = None
        self._owner = None  # weakref to the autograd context the buffer was lent to
        self._lock = threading.Lock()

    def acquire(self, ctx, numel: int, like: Tensor) -> Tensor:
        with self._lock:
            owner = self._owner() if self._owner is not None else None
            if owner is not None:
                try:
                    _ = owner.saved_tensors  # still held: its backward pass may read Z
                except RuntimeError:  # freed by its backward pass
                    pass
                else:
                    return like.new_empty(numel)
            buf = self._buf
            if (
                buf is None
                or buf.numel() < numel
                or buf.dtype != like.dtype
                or buf.device != like.device
            ):
                buf = self._buf = like.new_empty(numel)
            self._owner = weakref.ref(ctx)
            return buf[:numel]

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()


class _FusedContraction(torch.autograd.Function):
    """``m_g[u]^T = G_g[u]^T @ Z[:, rows_g][u]^T`` with ``Z[n] = xs[n]^T @ hy[n]``.

    ``xs = (N, D, dim_x)`` the source features of the padded edges into every
    atom, ``hy = (N, D, S * R)`` their angular (x) radial features, so ``Z``
    is ``(N, dim_x, S * R)``; input block ``g`` owns its rows
    ``(start, mul, length)`` of ``Z[n]`` flattened, and its kernel is
    ``G_g^T = (mul, C_g, length)``. The result is transposed,
    ``(sum_g mul_g C_g, N)``, rows ``(g, u, k, c)``.

    ``Z`` is the largest tensor of the convolution (``dim_x * R * S`` numbers
    per atom). A batch within one chunk (``_CHUNK_FLOATS``) keeps it for the
    backward pass, in the convolution's reusable buffer; a larger batch builds
    and consumes it one chunk of atoms at a time and the backward pass
    recomputes it chunk by chunk. The backward pass builds ``dZ`` in
    sub-chunks of ``_DZ_CHUNK_FLOATS`` that the two per-atom products read
    from cache. Every product is a batched matmul writing its result in place
    (``out=`` views), so no ``Z``-sized tensor is zero-filled or copied.
    """

    @staticmethod
    def forward(
        ctx, xs: Tensor, hy: Tensor, rows: list, workspace: _Workspace, *kernels: Tensor
    ) -> Tensor:
        n, _, dim_x = xs.shape
        rs = hy.shape[2]
        chunk = max(1, _CHUNK_FLOATS // max(1, dim_x * rs))
        widths = [k.shape[0] * k.shape[1] for k in kernels]
        out = xs.new_empty(sum(widths), n)  # transposed: one row per message column
        z = None
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            if n <= chunk:  # kept for the backward pass: in the reusable buffer
                z = workspace.acquire(ctx, n * dim_x * rs, xs).view(n, dim_x * rs)
            else:
                z = xs.new_empty(b - a, dim_x * rs)
            torch.bmm(xs[a:b].transpose(1, 2), hy[a:b], out=z.view(b - a, dim_x, rs))
            c0 = 0
            for (start, mu, length), kern, width in zip(rows, kernels, widths, strict=True):
                zi = z[:, start : start + mu * length].view(b - a, mu, length).transpose(0, 1)
                res = out[c0 : c0 + width, a:b].view(mu, width // mu, b - a)
                torch.bmm(kern, zi.transpose(1, 2), out=res)
                c0 += width
        ctx.rows, ctx.chunk = rows, chunk
        kept = z if n <= chunk and z is not None else xs.new_empty(0)
        ctx.save_for_backward(xs, hy, kept, *kernels)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        xs, hy, kept, *kernels = ctx.saved_tensors
        n, _, dim_x = xs.shape
        rs, chunk = hy.shape[2], ctx.chunk
        sub = max(1, min(chunk, _DZ_CHUNK_FLOATS // max(1, dim_x * rs)))
        grad = grad.contiguous()
        grad_xs, grad_hy = torch.empty_like(xs), torch.empty_like(hy)
        grad_kernels = [torch.zeros_like(k) for k in kernels]
        covered = sum(mu * length for _, mu, length in ctx.rows) == dim_x * rs
        dz = xs.new_empty(sub, dim_x * rs) if covered else xs.new_zeros(sub, dim_x * rs)
        cols = [k.shape[1] for k in kernels]
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            if kept.numel():
                z = kept
            else:
                z = torch.bmm(xs[a:b].transpose(1, 2), hy[a:b]).view(b - a, dim_x * rs)
            # kernel gradients over the whole chunk (long contraction over atoms)
            c0 = 0
            for (start, mu, length), gk, nc in zip(ctx.rows, grad_kernels, cols, strict=True):
                gi = grad[c0 : c0 + mu * nc, a:b].view(mu, nc, b - a)
                c0 += mu * nc
                zi = z[:, start : start + mu * length].view(b - a, mu, length).transpose(0, 1)
                gk.baddbmm_(gi, zi)
            # dZ, consumed by the two per-atom products while it is still in cache
            for a2 in range(a, b, sub):
                b2 = min(b, a2 + sub)
                dzc = dz[: b2 - a2]
                c0 = 0
                for (start, mu, length), kern, nc in zip(ctx.rows, kernels, cols, strict=True):
                    gi = grad[c0 : c0 + mu * nc, a2:b2].view(mu, nc, b2 - a2)
                    c0 += mu * nc
                    res = dzc[:, start : start + mu * length].view(b2 - a2, mu, length)
                    torch.bmm(gi.transpose(1, 2), kern, out=res.transpose(0, 1))
                dzc = dzc.view(b2 - a2, dim_x, rs)
                torch.bmm(hy[a2:b2], dzc.transpose(1, 2), out=grad_xs[a2:b2])
                torch.bmm(xs[a2:b2], dzc, out=grad_hy[a2:b2])
        return (grad_xs, grad_hy, None, None, *grad_kernels)


class _KernelAssembly(torch.autograd.Function):
    """The contraction's kernels from theta and the radial MLP's last weight ``W``.

    Per bucket (paths of one input irrep with one ``dim_out``; padded to its
    largest filter multiplicity ``V``) one batched matmul over ``(u, k)``,
    ``G^T[u, k, (c, a, s), r] = sum_v q[k, (c, a, s), v] W[u, k, v, r]`` with
    ``q = theta @ QB`` linear in theta; the buckets of an input irrep are
    concatenated along the kernel's rows. Written as one autograd node with its
    own backward (two batched matmuls per bucket, one matrix-vector product for
    theta, one ``index_add_`` for ``W``): with autograd's backward of the same
    broadcasting matmuls the kernels' forward + backward took 15-25 % longer
    (1-5 % of a training step, bench_models.py on 2 cores).
    """

    @staticmethod
    def forward(ctx, theta: Tensor, weight: Tensor, qb: Tensor, widx: Tensor, plan: tuple):
        buckets, groups, qsizes, wsizes, n_sh = plan
        r = weight.shape[0]
        # W^T with a zero row for padded v, gathered as [u][k][v][r] for every bucket
        w_ext = torch.cat([weight.t(), weight.new_zeros(1, r)], dim=0)
        ws = w_ext.index_select(0, widx).split(wsizes)
        qs = (theta @ qb).split(qsizes)
        parts: list[list[Tensor]] = [[] for _ in groups]
        for (g, mu, nk, rows, vmax), w, q in zip(buckets, ws, qs, strict=True):
            qe = q.view(1, nk, rows, vmax).expand(mu, -1, -1, -1).reshape(mu * nk, rows, vmax)
            gt = torch.bmm(qe, w.view(mu * nk, vmax, r))
            parts[g].append(gt.view(mu, -1, groups[g][2] * n_sh * r))
        ctx.save_for_backward(qb, widx, *qs, *ws)
        ctx.plan, ctx.shape = plan, weight.shape
        return tuple(p[0] if len(p) == 1 else torch.cat(p, dim=1) for p in parts)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads: Tensor):
        buckets, groups, qsizes, wsizes, n_sh = ctx.plan
        qb, widx, *saved = ctx.saved_tensors
        qs, ws = saved[: len(buckets)], saved[len(buckets) :]
        r = ctx.shape[0]
        # the gradient of each group's kernel, split back into its buckets
        offsets = [0] * len(groups)
        grad_q, grad_w = [], []
        for (g, mu, nk, rows, vmax), w, q in zip(buckets, ws, qs, strict=True):
            grad = grads[g]
            if grad is None:
                grad_q.append(q.new_zeros(q.shape))
                grad_w.append(w.new_zeros(w.shape))
                continue
            n_rows = nk * rows // (groups[g][2] * n_sh)  # K * d3 kernel rows of this bucket
            gg = grad[:, offsets[g] : offsets[g] + n_rows].reshape(mu * nk, rows, r)
            offsets[g] += n_rows
            qe = q.view(1, nk, rows, vmax).expand(mu, -1, -1, -1).reshape(mu * nk, rows, vmax)
            grad_w.append(torch.bmm(qe.transpose(1, 2), gg).view(-1, r))
            gq = torch.bmm(gg, w.view(mu * nk, vmax, r).transpose(1, 2))
            grad_q.append(gq.view(mu, -1).sum(0))
        grad_theta = qb @ torch.cat(grad_q) if ctx.needs_input_grad[0] else None
        grad_weight = None
        if ctx.needs_input_grad[1]:
            gw = torch.cat(grad_w)
            full = gw.new_zeros(ctx.shape[1] + 1, r).index_add_(0, widx, gw)
            grad_weight = full[:-1].t()
        return grad_theta, grad_weight, None, None, None


class FusedRelaxedTP(nn.Module):
    """The convolution's tensor product, neighbour sum and ``lin2`` as dense contractions.

    Parameters
    ----------
    irreps_x
        Irreps of the (``lin1``-mixed) node features.
    irreps_filter
        Irreps of the filter ``theta (x) Y``.
    paths
        ``[(i, j, mul_x, mul_f, dim_x, dim_f), ...]`` as in ``_EdgeTensorProduct.paths``.
    cgs
        Per path, its normalised Clebsch-Gordan tensor ``(dim_x, dim_f, dim_out)``.
    filter_basis
        ``(T, S, filter_dim)``: the filter matrix ``M`` for every unit theta
        (``M(theta) = sum_tau theta_tau filter_basis[tau]``).
    radial_hidden
        ``R``, the width of the radial MLP's hidden layer.
    linear
        The convolution's ``lin2`` (``o3.Linear`` from the per-path blocks to
        the output irreps): applied here with its own weights, one matmul per
        output irrep instead of e3nn's one per path.
    """

    def __init__(
        self,
        irreps_x: o3.Irreps,
        irreps_filter: o3.Irreps,
        paths: list[tuple[int, int, int, int, int, int]],
        cgs: list[Tensor],
        filter_basis: Tensor,
        radial_hidden: int,
        linear: o3.Linear,
    ):
        super().__init__()
        n_theta, n_sh, _ = filter_basis.shape
        self.n_theta, self.n_sh, self.radial_hidden = n_theta, n_sh, int(radial_hidden)
        basis = filter_basis.double()
        x_off = [sl.start for sl in irreps_x.slices()]
        self._rows: list[tuple[int, int, int]] = []  # per group: start, mul, length in Z
        f_off = [sl.start for sl in irreps_filter.slices()]
        w_off, total = [], 0
        for _, _, mu, mv, _, _ in paths:
            w_off.append(total)
            total += mu * mv
        self.weight_numel = total
        d3s = [cg.shape[2] for cg in cgs]
        # per path k the row of message (u, c) in the contraction's (transposed) output
        col = [None] * len(paths)
        self.groups: list[tuple[int, int, int, int]] = []  # i, mu, d1, sum_k d3_k
        # per bucket (paths of one group with one d3): group, mu, K, rows d3 * d1 * S, V
        self._buckets: list[tuple[int, int, int, int, int]] = []
        qbs, widxs = [], []
        self._cache: dict[tuple, Tensor] = {}  # (name, index, dtype, device) -> constant
        self._workspace = _Workspace()
        out_pos = 0
        for g, i in enumerate(sorted({p[0] for p in paths})):
            ks = [k for k, p in enumerate(paths) if p[0] == i]
            mu, d1 = paths[ks[0]][2], paths[ks[0]][4]
            ncols = sum(d3s[k] for k in ks)
            coff = 0
            for d3 in sorted({d3s[k] for k in ks}):
                kb = [k for k in ks if d3s[k] == d3]
                vmax = max(paths[k][3] for k in kb)
                # qb[tau, k, c, a, s, v] = sum_b basis[tau, s, (j, v, b)] C_k[a, b, c]
                qb = torch.zeros(n_theta, len(kb), d3, d1, n_sh, vmax, dtype=torch.float64)
                widx = torch.full((mu, len(kb), vmax), total, dtype=torch.long)
                for kl, k in enumerate(kb):
                    _, j, _, mv, _, d2 = paths[k]
                    mj = basis[:, :, f_off[j] : f_off[j] + mv * d2].reshape(n_theta, n_sh, mv, d2)
                    qb[:, kl, :, :, :, :mv] = torch.einsum("tsvb,abc->tcasv", mj, cgs[k].double())
                    widx[:, kl, :mv] = w_off[k] + torch.arange(mu * mv).reshape(mu, mv)
                    u = torch.arange(mu)[:, None]
                    col[k] = out_pos + u * ncols + coff + torch.arange(d3)[None, :]  # (mu, d3)
                    coff += d3
                qbs.append(qb.reshape(n_theta, -1))
                widxs.append(widx.reshape(-1))
                self._buckets.append((g, mu, len(kb), d3 * d1 * n_sh, vmax))
            out_pos += mu * ncols
            self.groups.append((i, mu, d1, ncols))
            self._rows.append(
                (x_off[i] * self.radial_hidden * n_sh, mu, d1 * self.radial_hidden * n_sh)
            )
        # the theta-linear constants of all buckets side by side: one (T, sum) matmul
        self._qb64 = [torch.cat(qbs, dim=1)]
        self._qsizes = [q.shape[1] for q in qbs]
        self.register_buffer("widx", torch.cat(widxs), persistent=False)
        self._wsizes = [w.numel() for w in widxs]
        # lin2 per output block o: the stacked (mul_in, mul_out) weight blocks, each scaled
        # by its path weight, times the messages gathered as rows ([instruction, u], c)
        if linear.irreps_in.num_irreps != sum(mu * 1 for _, _, mu, _, _, _ in paths) or len(
            linear.irreps_in
        ) != len(paths):
            raise ValueError("linear must map the per-path blocks (mul_x, ir_out) in path order")
        flat = torch.arange(linear.weight_numel)
        gather, self.out_blocks, lscale = [], [], []
        b = 0
        for o, (mul_out, ir_out) in enumerate(linear.irreps_out):
            ins = [(n, i) for n, i in enumerate(linear.instructions) if i.i_out == o]
            if not ins:
                self.out_blocks.append((mul_out * ir_out.dim, 0, 0))
                continue
            d = ir_out.dim
            gather += [col[i.i_in].reshape(-1) for _, i in ins]  # rows (instruction, u, c)
            idx = torch.cat([linear.weight_view_for_instruction(n, flat) for n, _ in ins])
            self.register_buffer(f"lidx{b}", idx, persistent=False)
            lscale.append(
                torch.cat(
                    [
                        torch.full((i.path_shape[0], 1), i.path_weight, dtype=torch.float64)
                        for _, i in ins
                    ]
                )
            )
            self.out_blocks.append((mul_out * d, d, idx.shape[0]))
            b += 1
        gather = torch.cat(gather)
        inverse = torch.full((out_pos,), gather.numel(), dtype=torch.long)
        inverse[gather] = torch.arange(gather.numel())
        if gather.unique().numel() != gather.numel():
            raise ValueError("each per-path block must feed one output block of linear")
        self.register_buffer("gather", gather, persistent=False)
        self.register_buffer("inverse", inverse, persistent=False)
        self._lscale64 = lscale
        self._lsizes = [d * rows for _, d, rows in self.out_blocks if rows]

    def _constant(self, name: str, index: int, like: Tensor) -> Tensor:
        key = (name, index, like.dtype, like.device)
        if key not in self._cache:
            self._cache[key] = getattr(self, name)[index].to(dtype=like.dtype, device=like.device)
        return self._cache[key]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def kernels(self, theta: Tensor, weight: Tensor) -> list[Tensor]:
        """Per group ``G_i^T = (mul_x, sum_k dim_out_k, dim_x_i * S * R)`` from theta and ``W``.

        Built directly in the layout the contraction reads (rows ``(k, c)``,
        columns ``(a, s, r)`` as the rows of ``Z``), see :class:`_KernelAssembly`.
        """
        plan = (self._buckets, self.groups, self._qsizes, self._wsizes, self.n_sh)
        qb = self._constant("_qb64", 0, theta)
        return list(_KernelAssembly.apply(theta, weight, qb, self.widx, plan))

    def forward(
        self,
        x: Tensor,
        edges: PaddedEdges,
        h: Tensor,
        theta: Tensor,
        weight: Tensor,
        lin_weight: Tensor,
    ) -> Tensor:
        """``lin2`` of the neighbour sums of the tensor-product messages, ``(N, irreps_out.dim)``.

        ``x`` ``(N, dim_x)`` node features, ``h`` ``(N, D, R)`` radial hidden
        features of the padded edges, ``weight`` ``(R, weight_numel)`` the
        normalised last radial layer, ``lin_weight`` the flat weight of ``lin2``.
        """
        n, width = edges.src.shape
        rs = self.radial_hidden * self.n_sh
        hy = (edges.sh[..., :, None] * h[..., None, :]).reshape(n, width, rs)
        # Z[n, (u, a), (s, r)] = sum over the edges into n of x_src (x) Y (x) h, then @ G
        xs = _RowGather.apply(x, edges.src)  # (N, D, dim_x)
        msgs = _FusedContraction.apply(
            xs, hy.contiguous(), self._rows, self._workspace, *self.kernels(theta, weight)
        )
        # messages transposed, (columns, N); lin2's rows per output block: (instruction, u, c)
        msgs = _InjectiveRowGather.apply(msgs, self.gather, self.inverse)
        msgs = msgs.split(self._lsizes, dim=0)
        out, b = [], 0
        for size, d, rows in self.out_blocks:
            if not rows:
                out.append(x.new_zeros(size, n))
                continue
            lw = lin_weight[getattr(self, f"lidx{b}")] * self._constant("_lscale64", b, x)
            # (mul_out, d * N): rows (w, c) of the transposed output, e3nn's order
            out.append((lw.t() @ msgs[b].view(rows, d * n)).view(size, n))
            b += 1
        return torch.cat(out, dim=0).t()
