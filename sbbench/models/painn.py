"""PaiNN: polarizable atom interaction neural network (Schütt, Unke & Gastegger, ICML 2021).

Own implementation of the PaiNN message (eqs. 7-8 of Schütt et al.) and
update (eqs. 9-11) blocks with scalar features ``s_i`` (F) and vector features
``v_i`` (F x 3). Output variants: the two rows of SANN Table 7 and the Hessian head:

``variant="tensor"`` (default, "tensor valued")
    Two gated equivariant blocks (Schütt et al. Fig. 3) map ``(s, v)`` to
    ``k`` vectors per atom directly. Symmetry class: equivariant.
``variant="vector"`` ("vector valued")
    A per-atom scalar head summed to a molecular invariant ``E`` (``k``
    channels); the output is ``-dE/dpos`` (SANN Sec. 6.2 / App. C.5).
    Symmetry class: equivariant (gradient of an invariant).
``variant="hessian"`` (issue 17, SANN Sec. 6.2's explanation of PaiNN on ``asym``)
    The same invariant energy (3 channels: ``E``, a sign reference ``E_ref``, a
    scale); the output is the eigenvector of rank ``mode_rank`` of the mass-weighted,
    rigid-body-projected Hessian ``d^2 E / dpos^2``, its sign fixed against
    ``-dE_ref/dpos`` (:class:`~sbbench.models._hessian.HessianHead`). The matrix is
    strictly equivariant; the eigenvector is equivariant on inputs without symmetry
    and breaks Sym(x) only by the choice of sign (B2 modes) or of a basis in a
    degenerate eigenspace. Symmetry class: symmetry-breaking.

**Inputs.** ``z``, ``pos``, optional ``node_attr`` (added to the scalar
embedding; set ``node_attr_dim``), optional ``node_vec`` (used as initial
vector features ``v_i = node_vec_i * w`` for a learned channel vector ``w``).

**Radial basis.** ``sin(n pi r / r_c) / r`` with ``r_c = cutoff`` and a cosine
envelope; for ``cutoff=None`` (fully connected) ``r_c = basis_cutoff`` (Å) and
no envelope.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from sbbench.errors import InputError

from ._base import GradientMixin, Inputs, VectorModel, cosine_cutoff, gradient_vectors, mlp
from ._graph import edge_vectors, molecule_graph
from ._hessian import HessianHead, HessianOutputMixin, hessian_options

__all__ = ["PaiNN"]


def _norm(v: Tensor, dim: int = -1) -> Tensor:
    """Vector norm with a floor so that its gradient is finite at ``v = 0``."""
    return (v.pow(2).sum(dim) + 1e-8).sqrt()


class _Message(nn.Module):
    def __init__(self, hidden: int, num_rbf: int):
        super().__init__()
        self.phi = mlp([hidden, hidden, 3 * hidden])
        self.filter = nn.Linear(num_rbf, 3 * hidden)
        self.hidden = hidden

    def forward(self, s, v, edge_index, rbf, envelope, unit):
        src, dst = edge_index
        x = self.phi(s)[src] * self.filter(rbf) * envelope[:, None]
        ds, dvv, dvs = torch.split(x, self.hidden, dim=-1)
        dv = v[src] * dvv[:, :, None] + dvs[:, :, None] * unit[:, None, :]
        s = s + s.new_zeros(s.shape).index_add_(0, dst, ds)
        v = v + v.new_zeros(v.shape).index_add_(0, dst, dv)
        return s, v


class _Update(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.U = nn.Linear(hidden, hidden, bias=False)
        self.V = nn.Linear(hidden, hidden, bias=False)
        self.a = mlp([2 * hidden, hidden, 3 * hidden])
        self.hidden = hidden

    def forward(self, s, v):
        uv = self.U(v.transpose(1, 2)).transpose(1, 2)  # (N, F, 3)
        vv = self.V(v.transpose(1, 2)).transpose(1, 2)
        a = self.a(torch.cat([s, _norm(vv)], dim=-1))
        a_vv, a_sv, a_ss = torch.split(a, self.hidden, dim=-1)
        v = v + a_vv[:, :, None] * uv
        s = s + a_ss + a_sv * (uv * vv).sum(-1)
        return s, v


class _GatedEquivariantBlock(nn.Module):
    """Gated equivariant block (Schütt et al. 2021, Fig. 3)."""

    def __init__(self, n_in: int, n_out: int, scalar_act: bool):
        super().__init__()
        self.W1 = nn.Linear(n_in, n_in, bias=False)
        self.W2 = nn.Linear(n_in, n_out, bias=False)
        self.net = mlp([2 * n_in, n_in, 2 * n_out])
        self.n_out = n_out
        self.scalar_act = nn.SiLU() if scalar_act else nn.Identity()

    def forward(self, s, v):
        w1 = self.W1(v.transpose(1, 2)).transpose(1, 2)
        w2 = self.W2(v.transpose(1, 2)).transpose(1, 2)
        s_out, gate = torch.split(self.net(torch.cat([s, _norm(w1)], -1)), self.n_out, dim=-1)
        return self.scalar_act(s_out), gate[:, :, None] * w2


class PaiNN(VectorModel, GradientMixin, HessianOutputMixin):
    """Polarizable atom interaction neural network (Schütt et al. 2021).

    Parameters
    ----------
    hidden
        Number of scalar and vector feature channels ``F``.
    layers
        Number of message + update blocks.
    out_vectors
        Number ``k`` of output vectors per atom.
    cutoff
        Radius graph cutoff in Å; ``None`` = fully connected within each molecule.
    variant
        ``"tensor"`` (gated equivariant output), ``"vector"`` (gradient of
        an invariant), SANN Table 7, or ``"hessian"`` (Hessian eigenvector).
    mode_rank, mass_weighted, project_rigid, normalize, eig_eps, rank_grad, rank_tau
        Options of the ``"hessian"`` variant (:class:`~sbbench.models._hessian.HessianHead`);
        rejected with another variant.
    num_rbf
        Number of radial basis functions.
    basis_cutoff
        Radial basis length scale in Å used when ``cutoff`` is None.
    num_atom_types, node_attr_dim
        See :class:`~sbbench.models._base.VectorModel`.
    """

    symmetry_class = "equivariant"
    uses_node_vec = True

    def __init__(
        self,
        hidden: int = 64,
        layers: int = 3,
        out_vectors: int = 1,
        cutoff: float | None = None,
        variant: str = "tensor",
        num_rbf: int = 20,
        basis_cutoff: float = 10.0,
        num_atom_types: int = 100,
        node_attr_dim: int = 0,
        mode_rank: int | None = None,
        mass_weighted: bool | None = None,
        project_rigid: bool | None = None,
        normalize: str | None = None,
        eig_eps: float | None = None,
        rank_grad: bool | None = None,
        rank_tau: float | None = None,
    ):
        super().__init__(
            out_vectors=out_vectors, num_atom_types=num_atom_types, node_attr_dim=node_attr_dim
        )
        if variant not in ("tensor", "vector", "hessian"):
            raise InputError(
                f"PaiNN variant must be 'tensor', 'vector' or 'hessian', got {variant!r}"
            )
        head_opts = hessian_options(
            variant,
            self.out_vectors,
            mode_rank=mode_rank,
            mass_weighted=mass_weighted,
            project_rigid=project_rigid,
            normalize=normalize,
            eig_eps=eig_eps,
            rank_grad=rank_grad,
            rank_tau=rank_tau,
        )
        if int(hidden) < 2 or int(layers) < 1:
            raise InputError(f"need hidden >= 2 and layers >= 1, got {hidden}, {layers}")
        self.variant = variant
        self.hidden = hidden = int(hidden)
        self.cutoff = cutoff
        self.rbf_cutoff = float(cutoff if cutoff is not None else basis_cutoff)
        self.register_buffer("freq", torch.arange(1, num_rbf + 1) * math.pi / self.rbf_cutoff)
        self.embedding = nn.Embedding(self.num_atom_types, hidden)
        self.attr_proj = nn.Linear(self.node_attr_dim, hidden) if self.node_attr_dim else None
        self.vec_in = nn.Parameter(torch.randn(hidden) / math.sqrt(hidden))
        self.messages = nn.ModuleList(_Message(hidden, num_rbf) for _ in range(int(layers)))
        self.updates = nn.ModuleList(_Update(hidden) for _ in range(int(layers)))
        k = self.out_vectors
        if variant == "tensor":
            self.out_blocks = nn.ModuleList(
                [
                    _GatedEquivariantBlock(hidden, hidden // 2, scalar_act=True),
                    _GatedEquivariantBlock(hidden // 2, k, scalar_act=False),
                ]
            )
        elif variant == "vector":
            self.energy = mlp([hidden, hidden // 2, k])
        else:
            self.hessian_head = HessianHead(**head_opts)
            self.energy = mlp([hidden, hidden // 2, HessianHead.n_energies])
            self.symmetry_class = "symmetry-breaking"

    @property
    def feature_dim(self) -> int:
        return self.hidden

    def _encode(self, inp: Inputs, pos: Tensor) -> tuple[Tensor, Tensor]:
        s = self.embedding(inp.z).to(pos.dtype)
        if self.attr_proj is not None:
            s = s + self.attr_proj(inp.node_attr)
        v = s.new_zeros(s.shape[0], self.hidden, 3)
        if inp.node_vec is not None:
            v = v + self.vec_in[None, :, None] * inp.node_vec[:, None, :]
        edge_index = molecule_graph(pos, inp.batch, self.cutoff)
        vec, dist = edge_vectors(pos, edge_index)
        unit = vec / dist[:, None]
        rbf = torch.sin(dist[:, None] * self.freq) / dist[:, None]
        if self.cutoff is None:
            envelope = torch.ones_like(dist)
        else:
            envelope = cosine_cutoff(dist, self.cutoff)
        for message, update in zip(self.messages, self.updates, strict=True):
            s, v = message(s, v, edge_index, rbf, envelope, unit)
            s, v = update(s, v)
        return s, v

    def energies(self, inp: Inputs, pos: Tensor) -> tuple[Tensor, Tensor]:
        """Invariant features ``(N, F)`` and molecular energies ``(B, 3)`` (``"hessian"``)."""
        s, _ = self._encode(inp, pos)
        atom_e = self.energy(s)
        energy = atom_e.new_zeros(inp.num_graphs, atom_e.shape[1])
        return s, energy.index_add(0, inp.batch, atom_e)

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        if self.variant == "tensor":
            s, v = self._encode(inp, inp.pos)
            so, vo = s, v
            for block in self.out_blocks:
                so, vo = block(so, vo)
            return s, vo.reshape(vo.shape[0], -1)
        if self.variant == "hessian":
            return self.hessian_output(inp)
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            pos = self.differentiable_pos(inp.pos)
            s, _ = self._encode(inp, pos)
            atom_e = self.energy(s)
            energy = atom_e.new_zeros(inp.num_graphs, self.out_vectors)
            energy = energy.index_add(0, inp.batch, atom_e)
            out = gradient_vectors(energy, pos, create_graph)
        if not create_graph:
            s, out = s.detach(), out.detach()
        return s, out
