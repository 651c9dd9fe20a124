"""DimeNet++ (Gasteiger et al. 2020) with gradient vector outputs.

Subclasses ``torch_geometric.nn.models.DimeNetPlusPlus``: its radius graph
(needs ``torch-cluster``) and ``triplets()`` (needs ``torch-sparse``) are
replaced by the pure-torch :func:`~sbbench.models._graph.molecule_graph` and
:func:`~sbbench.models._graph.triplets`, and PyG's sympy-built spherical basis
(~40 s to construct) by the numerically identical :class:`TorchSphericalBasis`;
everything else (radial basis, embedding, interaction and output blocks) is
PyG's. The output blocks produce ``hidden``
channels per atom (the invariant features); a linear map gives ``k`` atomic
invariants, summed to molecular invariants ``E_c``; the output is
``-dE_c/dpos`` (SANN Sec. 6.2), with ``create_graph=True`` whenever autograd
is enabled.

**Inputs.** ``z`` (< 95, PyG's embedding) and ``pos``; ``node_attr`` and
``node_vec`` are not accepted (the PyG embedding block has no slot for them).

**Graph.** ``cutoff=None`` connects all atom pairs of a molecule closer than
``basis_cutoff`` (default 10 Å): the Bessel bases and envelope of DimeNet are
only defined inside the cutoff.

**Output initialisation.** ``output_initializer="glorot_orthogonal"`` (PyG's
default ``"zeros"`` would make the initial output identically zero).

**Symmetry class: invariant** (the architecture); the vector output is
E(3)-equivariant.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.nn.models import DimeNetPlusPlus
from torch_geometric.nn.models import dimenet as _pyg_dimenet

from sbbench.errors import InputError

from ._base import GradientMixin, Inputs, VectorModel, gradient_vectors
from ._graph import molecule_graph, triplets

__all__ = ["DimeNetPPVector", "TorchDimeNetPlusPlus", "TorchSphericalBasis"]


def spherical_bessel(order: int, x: Tensor) -> Tensor:
    """Spherical Bessel functions ``j_0 .. j_{order-1}`` at ``x``, shape ``(..., order)``.

    ``j_0 = sin x / x``, ``j_1 = sin x / x^2 - cos x / x``,
    ``j_{l+1} = (2l + 1) / x j_l - j_{l-1}``: algebraically the closed forms
    that PyG's ``dimenet_utils.spherical_bessel_formulas`` builds with sympy.
    """
    out = [torch.sin(x) / x]
    if order > 1:
        out.append(torch.sin(x) / x**2 - torch.cos(x) / x)
    for l in range(1, order - 1):
        out.append((2 * l + 1) / x * out[l] - out[l - 1])
    return torch.stack(out, dim=-1)


def legendre(order: int, c: Tensor) -> Tensor:
    """Legendre polynomials ``P_0 .. P_{order-1}`` at ``c``, shape ``(..., order)``."""
    out = [torch.ones_like(c)]
    if order > 1:
        out.append(c)
    for l in range(2, order):
        out.append(((2 * l - 1) * c * out[l - 1] - (l - 1) * out[l - 2]) / l)
    return torch.stack(out, dim=-1)


class TorchSphericalBasis(nn.Module):
    """Numerical drop-in for PyG's ``SphericalBasisLayer`` (DimeNet 2D basis).

    PyG builds the same functions symbolically with sympy, which takes ~40 s
    per model construction; here ``j_l(z_ln r / c) * Y_l^0(angle)`` with the
    normalisation of ``dimenet_utils.bessel_basis`` is evaluated directly
    (``z_ln``: n-th root of ``j_l``, from PyG's ``Jn_zeros``).
    """

    def __init__(
        self, num_spherical: int, num_radial: int, cutoff: float = 5.0, envelope_exponent: int = 5
    ):
        super().__init__()
        from torch_geometric.nn.models.dimenet_utils import Jn, Jn_zeros

        self.num_spherical, self.num_radial, self.cutoff = num_spherical, num_radial, cutoff
        self.envelope = _pyg_dimenet.Envelope(envelope_exponent)
        zeros = Jn_zeros(num_spherical, num_radial).astype(np.float64)
        norm = np.stack(
            [1.0 / np.sqrt(0.5 * Jn(zeros[l], l + 1) ** 2) for l in range(num_spherical)]
        )
        self.register_buffer("zeros", torch.as_tensor(zeros), persistent=False)
        self.register_buffer("norm", torch.as_tensor(norm), persistent=False)
        prefactor = [math.sqrt((2 * l + 1) / (4 * math.pi)) for l in range(num_spherical)]
        self.register_buffer("prefactor", torch.tensor(prefactor), persistent=False)

    def forward(self, dist: Tensor, angle: Tensor, idx_kj: Tensor) -> Tensor:
        dist = dist / self.cutoff
        n, k = self.num_spherical, self.num_radial
        arg = self.zeros.to(dist.dtype) * dist[:, None, None]  # (E, n, k)
        jl = spherical_bessel(n, arg)  # (E, n, k, n): order is the last axis
        rbf = torch.diagonal(jl, dim1=1, dim2=3).transpose(1, 2)  # j_l(z_{l,i} x): (E, n, k)
        rbf = self.envelope(dist)[:, None, None] * rbf * self.norm.to(dist.dtype)
        cbf = legendre(n, torch.cos(angle)) * self.prefactor.to(angle.dtype)  # (T, n)
        return (rbf[idx_kj] * cbf[:, :, None]).reshape(-1, n * k)


@contextlib.contextmanager
def _numerical_spherical_basis() -> Iterator[None]:
    """Let ``DimeNetPlusPlus.__init__`` build :class:`TorchSphericalBasis` instead of sympy's."""
    original = _pyg_dimenet.SphericalBasisLayer
    _pyg_dimenet.SphericalBasisLayer = TorchSphericalBasis
    try:
        yield
    finally:
        _pyg_dimenet.SphericalBasisLayer = original


class TorchDimeNetPlusPlus(DimeNetPlusPlus):
    """PyG DimeNet++ on a given graph, with pure-torch triplets and a numerical 2D basis."""

    def __init__(self, *args, **kwargs):
        with _numerical_spherical_basis():
            super().__init__(*args, **kwargs)

    def atom_outputs(self, z: Tensor, pos: Tensor, edge_index: Tensor) -> Tensor:
        """Per-atom outputs ``P`` ``(N, out_channels)`` (``DimeNet.forward`` before its sum)."""
        i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, num_nodes=z.size(0))
        dist = (pos[i] - pos[j]).pow(2).sum(dim=-1).sqrt()
        pos_jk, pos_ij = pos[idx_j] - pos[idx_k], pos[idx_i] - pos[idx_j]
        a = (pos_ij * pos_jk).sum(dim=-1)
        # |cross| with a floor inside the root: finite double-backward for collinear triplets
        b = (torch.cross(pos_ij, pos_jk, dim=1).pow(2).sum(-1) + 1e-20).sqrt()
        angle = torch.atan2(b, a)
        rbf = self.rbf(dist)
        sbf = self.sbf(dist, angle, idx_kj)
        x = self.emb(z, rbf, i, j)
        P = self.output_blocks[0](x, rbf, i, num_nodes=pos.size(0))
        for interaction_block, output_block in zip(
            self.interaction_blocks, self.output_blocks[1:], strict=True
        ):
            x = interaction_block(x, rbf, sbf, idx_kj, idx_ji)
            P = P + output_block(x, rbf, i, num_nodes=pos.size(0))
        return P

    def forward(self, z: Tensor, pos: Tensor, batch: Tensor | None = None) -> Tensor:
        """Molecular outputs on the fully connected graph within ``self.cutoff``."""
        batch = torch.zeros_like(z) if batch is None else batch
        P = self.atom_outputs(z, pos, molecule_graph(pos, batch, self.cutoff))
        num_graphs = int(batch.max()) + 1
        return P.new_zeros(num_graphs, P.shape[1]).index_add(0, batch, P)


class DimeNetPPVector(VectorModel, GradientMixin):
    """DimeNet++ predicting ``k`` invariants whose negative position gradients are the output.

    Parameters
    ----------
    hidden
        Hidden channels (also the width of the per-atom output features).
    layers
        Number of interaction blocks.
    out_vectors
        Number ``k`` of output vectors per atom.
    cutoff
        Graph radius in Å; ``None`` = all pairs within ``basis_cutoff``.
    num_spherical, num_radial
        Sizes of DimeNet's spherical and radial Bessel bases.
    basis_cutoff
        Radius in Å used when ``cutoff`` is None.
    num_atom_types
        Atomic numbers must be smaller (at most 95).
    """

    symmetry_class = "invariant"

    def __init__(
        self,
        hidden: int = 64,
        layers: int = 3,
        out_vectors: int = 1,
        cutoff: float | None = None,
        num_spherical: int = 7,
        num_radial: int = 6,
        basis_cutoff: float = 10.0,
        num_atom_types: int = 95,
        node_attr_dim: int = 0,
    ):
        super().__init__(
            out_vectors=out_vectors, num_atom_types=num_atom_types, node_attr_dim=node_attr_dim
        )
        if self.num_atom_types > 95:
            raise InputError(f"PyG DimeNet++ embeds atomic numbers < 95, got {num_atom_types}")
        if self.node_attr_dim:
            raise InputError("dimenet++ does not accept node_attr (node_attr_dim must be 0)")
        self.hidden = int(hidden)
        self.net = TorchDimeNetPlusPlus(
            hidden_channels=self.hidden,
            out_channels=self.hidden,
            num_blocks=int(layers),
            int_emb_size=max(self.hidden // 2, 1),
            basis_emb_size=8,
            out_emb_channels=self.hidden,
            num_spherical=int(num_spherical),
            num_radial=int(num_radial),
            cutoff=float(cutoff if cutoff is not None else basis_cutoff),
            output_initializer="glorot_orthogonal",
        )
        # PyG's glorot-orthogonal output blocks give atom features of order 1e5 on
        # 1 Å geometries (and position gradients of order 1e6), so the features are
        # layer-normalised (an invariant operation) before the energy head.
        self.norm = nn.LayerNorm(self.hidden)
        self.energy_head = nn.Linear(self.hidden, self.out_vectors)

    @property
    def feature_dim(self) -> int:
        return self.hidden

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            pos = self.differentiable_pos(inp.pos)
            edge_index = molecule_graph(pos, inp.batch, self.net.cutoff)
            h = self.norm(self.net.atom_outputs(inp.z, pos, edge_index))
            atom_e = self.energy_head(h)
            energy = atom_e.new_zeros(inp.num_graphs, self.out_vectors)
            energy = energy.index_add(0, inp.batch, atom_e)
            out = gradient_vectors(energy, pos, create_graph)
        if not create_graph:
            h, out = h.detach(), out.detach()
        return h, out
