"""EGNN: E(n)-equivariant graph neural network (Satorras, Hoogeboom & Welling, ICML 2021).

Own implementation of the EGNN layer (eqs. 3-6 of Satorras et al.) with the
velocity variant (eq. 7) when the batch carries ``node_vec``:

.. math::

    m_{ij} &= \\phi_e(h_i, h_j, \\lVert x_i - x_j \\rVert^2) \\\\
    v_i &\\leftarrow \\phi_v(h_i)\\, v_i^{\\text{init}}
        + C \\sum_{j \\ne i} (x_i - x_j)\\, \\phi_x(m_{ij}) \\quad
        (\\text{without } \\texttt{node\\_vec}: v_i = C \\sum_j \\ldots) \\\\
    x_i &\\leftarrow x_i + v_i, \\qquad
    h_i \\leftarrow h_i + \\phi_h\\big(h_i, \\textstyle\\sum_j m_{ij}\\big)

with ``C = 1 / (number of neighbours)``.

**Vector output.** ``k = out_vectors`` equivariant vectors per atom are the
coordinate update ``x_out - x_in`` of one more EGNN coordinate layer with
``k`` channels: ``out_i^c = C sum_j (x_i - x_j) phi_out^c(m_ij)
+ phi_vel^c(h_i) v_i^init`` (the last term only with ``node_vec``).

**Hessian output** (``variant="hessian"``, issue 17). An invariant molecular energy
``E = sum_i phi_E(h_i)`` (3 channels) on the features after the EGNN layers; the
output is the eigenvector of rank ``mode_rank`` of the mass-weighted,
rigid-body-projected Hessian ``d^2 E / dpos^2``, sign fixed against ``-dE_ref/dpos``
(:class:`~sbbench.models._hessian.HessianHead`). Symmetry class: symmetry-breaking
(equivariant on inputs without symmetry; breaks Sym(x) only through the sign of a
mode that Sym(x) flips, or the basis of a degenerate eigenspace).

**Inputs.** ``z`` (embedding), ``pos``, optional ``node_attr`` (extra
scalars, added to the embedding through a linear map; set ``node_attr_dim``)
and optional ``node_vec`` (velocities, eq. 7).

**Symmetry class: equivariant.** Outputs rotate/reflect with the input
(E(3)-equivariant, permutation-equivariant); by Curie's principle the output
keeps every symmetry of the input.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sbbench.errors import InputError

from ._base import Inputs, VectorModel, mlp
from ._graph import molecule_graph
from ._hessian import HessianHead, HessianOutputMixin, hessian_options

__all__ = ["EGNN"]


def _mean_aggregate(values: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    """Mean of ``values`` over edges grouped by ``index`` (zero for isolated nodes)."""
    out = values.new_zeros((num_nodes,) + values.shape[1:])
    out.index_add_(0, index, values)
    count = torch.bincount(index, minlength=num_nodes).clamp(min=1).to(values.dtype)
    return out / count.view(-1, *([1] * (values.dim() - 1)))


class _EGNNLayer(nn.Module):
    """One equivariant graph convolutional layer (Satorras et al. eqs. 3-7)."""

    def __init__(self, hidden: int, coord_channels: int = 1):
        super().__init__()
        self.phi_e = mlp([2 * hidden + 1, hidden, hidden], last_act=True)
        self.phi_h = mlp([2 * hidden, hidden, hidden])
        self.phi_x = mlp([hidden, hidden, coord_channels])
        self.phi_v = mlp([hidden, hidden, coord_channels])
        # Small initial coordinate updates, as in the reference implementation.
        nn.init.xavier_uniform_(self.phi_x[-1].weight, gain=0.001)

    def messages(self, h: Tensor, x: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        src, dst = edge_index
        rel = x[dst] - x[src]  # x_i - x_j
        d2 = rel.pow(2).sum(-1, keepdim=True)
        m = self.phi_e(torch.cat([h[dst], h[src], d2], dim=-1))
        return m, rel

    def coordinate_update(
        self, h: Tensor, m: Tensor, rel: Tensor, edge_index: Tensor, vel: Tensor | None
    ) -> Tensor:
        """``(N, C, 3)`` displacement of eq. 4 (or eq. 7 with velocities)."""
        w = self.phi_x(m)  # (E, C)
        disp = _mean_aggregate(rel[:, None, :] * w[:, :, None], edge_index[1], h.shape[0])
        if vel is not None:
            disp = disp + self.phi_v(h)[:, :, None] * vel[:, None, :]
        return disp

    def forward(
        self, h: Tensor, x: Tensor, edge_index: Tensor, vel: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        m, rel = self.messages(h, x, edge_index)
        x = x + self.coordinate_update(h, m, rel, edge_index, vel)[:, 0]
        agg = h.new_zeros(h.shape).index_add_(0, edge_index[1], m)
        h = h + self.phi_h(torch.cat([h, agg], dim=-1))
        return h, x


class EGNN(VectorModel, HessianOutputMixin):
    """E(3)-equivariant graph network of Satorras et al. (2021).

    Parameters
    ----------
    hidden
        Width of the invariant node features.
    layers
        Number of EGNN layers before the vector output layer.
    out_vectors
        Number ``k`` of output vectors per atom.
    cutoff
        Radius graph cutoff in Å; ``None`` = fully connected within each molecule.
    num_atom_types
        Size of the atomic-number embedding.
    node_attr_dim
        Width of the optional ``node_attr`` input.
    variant
        ``"coordinate"`` (default: the coordinate update above) or ``"hessian"``.
    mode_rank, mass_weighted, project_rigid, normalize, eig_eps, rank_grad, rank_tau
        Options of the ``"hessian"`` variant (:class:`~sbbench.models._hessian.HessianHead`);
        rejected with another variant.
    """

    symmetry_class = "equivariant"
    uses_node_vec = True

    def __init__(
        self,
        hidden: int = 64,
        layers: int = 4,
        out_vectors: int = 1,
        cutoff: float | None = None,
        num_atom_types: int = 100,
        node_attr_dim: int = 0,
        variant: str = "coordinate",
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
        if variant not in ("coordinate", "hessian"):
            raise InputError(f"EGNN variant must be 'coordinate' or 'hessian', got {variant!r}")
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
        self.variant = variant
        if int(layers) < 0 or int(hidden) < 1:
            raise InputError(f"need layers >= 0 and hidden >= 1, got {layers}, {hidden}")
        self.hidden = int(hidden)
        self.cutoff = cutoff
        self.embedding = nn.Embedding(self.num_atom_types, self.hidden)
        self.attr_proj = nn.Linear(self.node_attr_dim, self.hidden) if self.node_attr_dim else None
        self.layers = nn.ModuleList(_EGNNLayer(self.hidden) for _ in range(int(layers)))
        if variant == "hessian":
            self.hessian_head = HessianHead(**head_opts)
            self.energy = mlp([self.hidden, self.hidden, HessianHead.n_energies])
            self.symmetry_class = "symmetry-breaking"
        else:
            self.head = _EGNNLayer(self.hidden, coord_channels=self.out_vectors)
            nn.init.xavier_uniform_(self.head.phi_x[-1].weight)

    @property
    def feature_dim(self) -> int:
        return self.hidden

    def _encode(self, inp: Inputs, pos: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        h = self.embedding(inp.z).to(pos.dtype)
        if self.attr_proj is not None:
            h = h + self.attr_proj(inp.node_attr)
        x = pos
        edge_index = molecule_graph(x, inp.batch, self.cutoff)
        for layer in self.layers:
            h, x = layer(h, x, edge_index, inp.node_vec)
        return h, x, edge_index

    def energies(self, inp: Inputs, pos: Tensor) -> tuple[Tensor, Tensor]:
        """Invariant features ``(N, F)`` and molecular energies ``(B, 3)`` (``"hessian"``)."""
        h, _, _ = self._encode(inp, pos)
        atom_e = self.energy(h)
        energy = atom_e.new_zeros(inp.num_graphs, atom_e.shape[1])
        return h, energy.index_add(0, inp.batch, atom_e)

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        if self.variant == "hessian":
            return self.hessian_output(inp)
        h, x, edge_index = self._encode(inp, inp.pos)
        vel = inp.node_vec
        m, rel = self.head.messages(h, x, edge_index)
        out = self.head.coordinate_update(h, m, rel, edge_index, vel)  # (N, k, 3)
        return h, out.reshape(out.shape[0], -1)
