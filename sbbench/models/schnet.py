"""SchNet (Schütt et al., J. Chem. Phys. 2018) with gradient vector outputs.

Reuses ``torch_geometric.nn.models.SchNet``; its radius graph (which needs
``torch-cluster``) is replaced by a pure-torch graph passed through
``interaction_graph``. The network predicts ``k`` molecular invariants
``E_c = sum_i e_c(h_i)`` and outputs the vectors ``-dE_c/dpos`` (SANN Sec.
6.2: "predict a global invariant property and regress it with respect to the
initial positions"). The gradient is taken with ``create_graph=True`` whenever
autograd is enabled, so a loss on the vectors trains the network.

**Inputs.** ``z``, ``pos``; optional ``node_attr`` (added to the atom
embedding through a linear map; set ``node_attr_dim``). ``node_vec`` is not
accepted.

**Graph.** ``cutoff`` (Å) is the radius of the graph and of SchNet's cosine
filter envelope; ``cutoff=None`` connects all atom pairs of a molecule closer
than ``basis_cutoff`` (default 10 Å, fully connected for small molecules)
because the filter envelope is only defined inside that radius.

**Symmetry class: invariant** (the architecture); the vector output, a
gradient of an invariant, is E(3)-equivariant.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn.models import SchNet

from sbbench.errors import InputError

from ._base import GradientMixin, Inputs, VectorModel, gradient_vectors
from ._graph import edge_vectors, molecule_graph

__all__ = ["SchNetVector", "TorchRadiusGraph"]


class TorchRadiusGraph(nn.Module):
    """``interaction_graph`` for PyG SchNet: pure-torch radius graph and distances."""

    def __init__(self, cutoff: float | None):
        super().__init__()
        self.cutoff = cutoff

    def forward(self, pos: Tensor, batch: Tensor) -> tuple[Tensor, Tensor]:
        edge_index = molecule_graph(pos, batch, self.cutoff)
        return edge_index, edge_vectors(pos, edge_index)[1]


class SchNetVector(VectorModel, GradientMixin):
    """PyG SchNet predicting ``k`` invariants whose negative position gradients are the output.

    Parameters
    ----------
    hidden
        Hidden channels and filters.
    layers
        Number of interaction blocks.
    out_vectors
        Number ``k`` of output vectors (= invariants) per atom.
    cutoff
        Graph/filter radius in Å; ``None`` = all pairs within ``basis_cutoff``.
    num_gaussians
        Size of the Gaussian distance expansion.
    basis_cutoff
        Radius in Å used when ``cutoff`` is None.
    num_atom_types, node_attr_dim
        See :class:`~sbbench.models._base.VectorModel`.
    """

    symmetry_class = "invariant"

    def __init__(
        self,
        hidden: int = 64,
        layers: int = 3,
        out_vectors: int = 1,
        cutoff: float | None = None,
        num_gaussians: int = 50,
        basis_cutoff: float = 10.0,
        num_atom_types: int = 100,
        node_attr_dim: int = 0,
    ):
        super().__init__(
            out_vectors=out_vectors, num_atom_types=num_atom_types, node_attr_dim=node_attr_dim
        )
        if self.num_atom_types > 100:
            raise InputError(f"PyG SchNet embeds atomic numbers < 100, got {num_atom_types}")
        radius = float(cutoff if cutoff is not None else basis_cutoff)
        self.hidden = int(hidden)
        self.net = SchNet(
            hidden_channels=self.hidden,
            num_filters=self.hidden,
            num_interactions=int(layers),
            num_gaussians=int(num_gaussians),
            cutoff=radius,
            interaction_graph=TorchRadiusGraph(radius),
        )
        # k invariants per atom instead of PyG's single output channel
        self.net.lin2 = nn.Linear(self.hidden // 2, self.out_vectors)
        self.attr_proj = nn.Linear(self.node_attr_dim, self.hidden) if self.node_attr_dim else None

    @property
    def feature_dim(self) -> int:
        return self.hidden

    def atom_features(self, inp: Inputs, pos: Tensor) -> tuple[Tensor, Tensor]:
        """Hidden features ``(N, hidden)`` and per-atom invariants ``(N, k)``.

        Same computation as ``SchNet.forward`` before its sum readout.
        """
        net = self.net
        h = net.embedding(inp.z)
        if self.attr_proj is not None:
            h = h + self.attr_proj(inp.node_attr)
        edge_index, edge_weight = net.interaction_graph(pos, inp.batch)
        edge_attr = net.distance_expansion(edge_weight)
        for interaction in net.interactions:
            h = h + interaction(h, edge_index, edge_weight, edge_attr)
        return h, net.lin2(net.act(net.lin1(h)))

    def energy(self, inp: Inputs, pos: Tensor) -> tuple[Tensor, Tensor]:
        """Hidden features and molecular invariants ``(B, k)``."""
        h, atom_e = self.atom_features(inp, pos)
        energy = atom_e.new_zeros(inp.num_graphs, self.out_vectors).index_add(0, inp.batch, atom_e)
        return h, energy

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            pos = self.differentiable_pos(inp.pos)
            h, energy = self.energy(inp, pos)
            out = gradient_vectors(energy, pos, create_graph)
        if not create_graph:
            h, out = h.detach(), out.detach()
        return h, out
