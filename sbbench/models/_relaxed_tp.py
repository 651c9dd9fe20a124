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

1. per target atom, ``Z[n, (u,a), (r,s)] = sum_{e -> n} x[src_e, (u,a)] h[e,r] Y[e,s]``
   (one batched matmul over the incoming edges of every atom, padded to the
   largest in-degree);
2. per input irrep ``i`` and channel ``u``, ``m[n, u, (k,c)] = Z[n, (u,a,r,s)] @ G_i[u]``
   with the parameter-only kernel
   ``G_k[u, a, r, s, c] = sum_v W_k[r, u, v] sum_b M_j[s, v, b] C_k[a, b, c]``,
   built once per forward pass (``sum_b M_j C_k`` is linear in theta:
   ``sum_tau theta_tau QB[tau, ...]`` with a constant ``QB``).

``Z`` (``dim_x * R * S`` numbers per atom, the largest tensor) is built and
consumed one cache-sized chunk of atoms at a time and recomputed in the
backward pass instead of stored (:class:`_FusedContraction`). The
convolution's ``lin2`` follows as one matmul per output irrep with its own
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


class _ColumnGather(torch.autograd.Function):
    """``x[:, index]`` for an injective ``index``; the backward is a gather as well
    (autograd's default, an accumulating index_put, is several times slower here)."""

    @staticmethod
    def forward(ctx, x: Tensor, index: Tensor, inverse: Tensor) -> Tensor:
        ctx.save_for_backward(inverse)
        return x.index_select(1, index)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (inverse,) = ctx.saved_tensors
        grad = torch.cat([grad, grad.new_zeros(grad.shape[0], 1)], dim=1)
        return grad.index_select(1, inverse), None, None


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


class _FusedContraction(torch.autograd.Function):
    """``m_g[n, u] = Z[n, rows_g][u] @ G_g[u]`` with ``Z[n] = xs[n]^T @ hy[n]``, per chunk of atoms.

    ``xs = (N, D, dim_x)`` the source features of the padded edges into every
    atom, ``hy = (N, D, R * S)`` their radial (x) angular features, so ``Z``
    is ``(N, dim_x, R * S)``; input block ``g`` owns its rows
    ``(start, mul, length)`` of ``Z[n]`` flattened, and its kernel is
    ``G_g = (mul, length, C_g)``. The result is ``(N, sum_g mul_g C_g)``.

    ``Z`` is the largest tensor of the convolution (``dim_x * R * S`` numbers
    per atom); a batch larger than one chunk (``_CHUNK_FLOATS``) builds and
    consumes it one chunk of atoms at a time and the backward pass recomputes
    it chunk by chunk; a batch within one chunk keeps it for the backward pass.
    Every product is a batched matmul writing its result in place
    (``out=`` views), so no ``Z``-sized tensor is zero-filled or copied.
    """

    @staticmethod
    def forward(ctx, xs: Tensor, hy: Tensor, rows: list, *kernels: Tensor) -> Tensor:
        n, _, dim_x = xs.shape
        rs = hy.shape[2]
        chunk = max(1, _CHUNK_FLOATS // max(1, dim_x * rs))
        widths = [k.shape[0] * k.shape[2] for k in kernels]
        out = xs.new_empty(n, sum(widths))
        z = None
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            z = torch.bmm(xs[a:b].transpose(1, 2), hy[a:b]).view(b - a, dim_x * rs)
            c0 = 0
            for (start, mu, length), kern, width in zip(rows, kernels, widths, strict=True):
                zi = z[:, start : start + mu * length].view(b - a, mu, length).transpose(0, 1)
                res = out[a:b, c0 : c0 + width].view(b - a, mu, width // mu).transpose(0, 1)
                torch.bmm(zi, kern, out=res)
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
        grad = grad.contiguous()
        grad_xs, grad_hy = torch.empty_like(xs), torch.empty_like(hy)
        grad_kernels = [torch.zeros_like(k) for k in kernels]
        covered = sum(mu * length for _, mu, length in ctx.rows) == dim_x * rs
        dz = xs.new_empty(chunk, dim_x * rs) if covered else xs.new_zeros(chunk, dim_x * rs)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            if kept.numel():
                z = kept
            else:
                z = torch.bmm(xs[a:b].transpose(1, 2), hy[a:b]).view(b - a, dim_x * rs)
            dzc = dz[: b - a]
            c0 = 0
            for (start, mu, length), kern, gk in zip(ctx.rows, kernels, grad_kernels, strict=True):
                cols = kern.shape[2]
                gi = grad[a:b, c0 : c0 + mu * cols].view(b - a, mu, cols).transpose(0, 1)
                c0 += mu * cols
                zi = z[:, start : start + mu * length].view(b - a, mu, length).transpose(0, 1)
                gk.baddbmm_(zi.transpose(1, 2), gi)
                res = dzc[:, start : start + mu * length].view(b - a, mu, length).transpose(0, 1)
                torch.bmm(gi, kern.transpose(1, 2), out=res)
            dzc = dzc.view(b - a, dim_x, rs)
            torch.bmm(hy[a:b], dzc.transpose(1, 2), out=grad_xs[a:b])
            torch.bmm(xs[a:b], dzc, out=grad_hy[a:b])
        return (grad_xs, grad_hy, None, *grad_kernels)


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
        # per path k the column of message (u, c) in the concatenated node-step outputs
        col = [None] * len(paths)
        self.groups: list[tuple[int, int, int, int, int, int]] = []  # i, mu, d1, K, V, d3max
        self._qb64: list[Tensor] = []
        self._cache: dict[tuple, Tensor] = {}  # (name, index, dtype, device) -> constant
        out_pos = 0
        for g, i in enumerate(sorted({p[0] for p in paths})):
            ks = [k for k, p in enumerate(paths) if p[0] == i]
            mu, d1 = paths[ks[0]][2], paths[ks[0]][4]
            vmax = max(paths[k][3] for k in ks)
            d3max = max(d3s[k] for k in ks)
            ncols = sum(d3s[k] for k in ks)
            # qb[tau, k, v, s, a, c] = sum_b basis[tau, s, (j, v, b)] C_k[a, b, c]
            qb = torch.zeros(n_theta, len(ks), vmax, n_sh, d1, d3max, dtype=torch.float64)
            widx = torch.full((len(ks), mu, vmax), total, dtype=torch.long)
            valid, coff = [], 0
            for kl, k in enumerate(ks):
                _, j, _, mv, _, d2 = paths[k]
                d3 = d3s[k]
                mj = basis[:, :, f_off[j] : f_off[j] + mv * d2].reshape(n_theta, n_sh, mv, d2)
                qb[:, kl, :mv, :, :, :d3] = torch.einsum("tsvb,abc->tvsac", mj, cgs[k].double())
                widx[kl, :, :mv] = w_off[k] + torch.arange(mu * mv).reshape(mu, mv)
                valid.append(kl * d3max + torch.arange(d3))
                u = torch.arange(mu)[:, None]
                col[k] = out_pos + u * ncols + coff + torch.arange(d3)[None, :]  # (mu, d3)
                coff += d3
            out_pos += mu * ncols
            self._qb64.append(qb.reshape(n_theta, -1))
            self.register_buffer(f"widx{g}", widx, persistent=False)
            self.register_buffer(f"valid{g}", torch.cat(valid), persistent=False)
            self.groups.append((i, mu, d1, len(ks), vmax, d3max))
            self._rows.append(
                (x_off[i] * self.radial_hidden * n_sh, mu, d1 * self.radial_hidden * n_sh)
            )
        # lin2 per output block o: messages gathered as rows (c, [instruction, u]) times
        # the stacked (mul_in, mul_out) weight blocks, each scaled by its path weight
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
            gather += [col[i.i_in][:, c] for c in range(d) for _, i in ins]
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
        """Per group ``G_i = (mul_x, dim_x_i * R * S, sum_k dim_out_k)`` from theta and ``W``."""
        r, s = self.radial_hidden, self.n_sh
        w_ext = torch.cat([weight, weight.new_zeros(r, 1)], dim=1)
        out = []
        for g, (_, mu, d1, nk, vmax, d3max) in enumerate(self.groups):
            q = (theta[None] @ self._constant("_qb64", g, theta)).reshape(nk, vmax, s, d1, d3max)
            w = w_ext[:, getattr(self, f"widx{g}")]  # (R, K, mu, V)
            kern = torch.einsum("rkuv,kvsac->uarskc", w, q).reshape(mu, d1 * r * s, nk * d3max)
            out.append(kern.index_select(2, getattr(self, f"valid{g}")))
        return out

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
        hy = (h[..., :, None] * edges.sh[..., None, :]).reshape(n, width, rs)
        # Z[n, (u, a), (r, s)] = sum over the edges into n of x_src (x) h (x) Y, then @ G
        xs = _RowGather.apply(x, edges.src)  # (N, D, dim_x)
        msgs = _FusedContraction.apply(
            xs, hy.contiguous(), self._rows, *self.kernels(theta, weight)
        )
        msgs = _ColumnGather.apply(msgs, self.gather, self.inverse)
        msgs = msgs.split(self._lsizes, dim=1)
        out, b = [], 0
        for size, d, rows in self.out_blocks:
            if not rows:
                out.append(x.new_zeros(n, size))
                continue
            lw = lin_weight[getattr(self, f"lidx{b}")] * self._constant("_lscale64", b, x)
            y = torch.matmul(msgs[b].reshape(n, d, rows), lw)  # (N, d, mul_out)
            out.append(y.transpose(1, 2).reshape(n, size))
            b += 1
        return torch.cat(out, dim=1)
