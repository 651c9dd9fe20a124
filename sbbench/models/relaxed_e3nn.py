"""Relaxed E(3) graph network (Hofgard, Wang, Walters & Smidt 2024) on e3nn.

Every convolution carries relaxed weights ``theta``, a direct sum of O(3)
irreps of both parities up to ``l_relaxed`` (eq. 5 of the relaxed-E(3)
paper), e.g. ``0e + 0o + 1o + 1e + 2e + 2o``. They enter the filter through a
tensor product with the edge spherical harmonics (eq. 6):

.. math::

    f'_a = \\frac{1}{\\sqrt{z}} \\sum_{b \\in \\delta(a)}
        f_b \\otimes_{W(\\lVert r_{ab} \\rVert)} (\\tilde\\theta \\otimes Y(\\hat r_{ab}))

``theta`` is shared across channels (one vector per layer) and initialised
scalar-only (``theta = 1 x 0e``), so the initial model is exactly
O(3)-equivariant (Prop. 4.1 there); non-scalar components, pseudoscalar ``0o``
included, break the symmetry. :meth:`RelaxedE3NN.regularization` is the L2
penalty ``lambda * sum ||theta_{non-scalar}||^2`` (paper App. B biases towards
equivariance in the same way). :meth:`RelaxedE3NN.relaxed_weights` returns
theta per irrep; :func:`describe` reads it as spherical signals (Sec. 4.2,
eq. 8) and finds, e.g., the ``2z^2 - x^2 - y^2`` (E_g) factor that turns a cube
into a D4h prism (App. A, Table 4).

**Inputs.** ``z`` (embedding, scalars ``0e``), optional ``node_attr`` (extra
``0e`` scalars, set ``node_attr_dim``) and ``node_vec`` (a ``1o`` vector, e.g.
velocities; zero when absent). Every atom has a self-loop edge with
``Y(0) := (1, 0, ..., 0)`` and its own radial feature, so relaxed weights act
on isolated particles too (paper App. B.2).

**Symmetry class: relaxed-equivariant** (exactly equivariant while theta is
scalar-only; learns the symmetry breaking the data requires).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os

import torch
from e3nn import o3
from e3nn.math import soft_one_hot_linspace
from e3nn.nn import FullyConnectedNet, Gate
from torch import Tensor, nn

from ._base import Inputs, VectorModel
from ._graph import edge_vectors, molecule_graph
from ._relaxed_tp import FusedRelaxedTP, PaddedEdges, pad_edges

#: how a convolution evaluates its tensor product (same function, same parameters)
IMPLEMENTATIONS = ("fused", "per_edge", "e3nn")

__all__ = ["RelaxedE3NN", "RelaxedConvolution", "ThetaReport", "describe", "theta_irreps"]


def theta_irreps(l_relaxed: int) -> o3.Irreps:
    """``0e + 0o + 1o + 1e + ... `` up to ``l_relaxed`` (both parities, eq. 5)."""
    if int(l_relaxed) < 0:
        raise ValueError(f"l_relaxed must be >= 0, got {l_relaxed}")
    parts = []
    for l in range(int(l_relaxed) + 1):
        natural = "e" if l % 2 == 0 else "o"
        other = "o" if natural == "e" else "e"
        parts += [f"1x{l}{natural}", f"1x{l}{other}"]
    return o3.Irreps("+".join(parts))


class _EdgeTensorProduct(nn.Module):
    """Tensor product ``x (x) f`` in e3nn's ``"uvu"`` mode with per-edge weights.

    Every path ``(i, j) -> ir_out`` maps ``mul_i`` channels of ``x`` and all
    ``mul_j`` copies of the filter irrep to ``mul_i`` outputs:
    ``out[e, u] = sqrt(d_out / mul_j) sum_v w[e, u, v] C(x[e, u], f[e, v])`` with
    ``C`` the real Clebsch-Gordan coefficients of :func:`e3nn.o3.wigner_3j`.
    Same maths as ``e3nn.o3.TensorProduct(..., "uvu", shared_weights=False)``,
    written with ``torch.split`` so that the backward pass does not zero-fill
    the whole per-edge weight tensor once per path (which made e3nn's version
    ~10x slower here).
    """

    def __init__(self, irreps_x: o3.Irreps, irreps_f: o3.Irreps, paths: list):
        super().__init__()
        self.irreps_x, self.irreps_f = irreps_x, irreps_f
        self.paths = []
        for k, (i, j, ir_out) in enumerate(paths):
            (mul_x, ir_x), (mul_f, ir_f) = irreps_x[i], irreps_f[j]
            cg = o3.wigner_3j(ir_x.l, ir_f.l, ir_out.l) * math.sqrt(ir_out.dim / mul_f)
            self.register_buffer(f"cg{k}", cg, persistent=False)
            self.paths.append((i, j, mul_x, mul_f, ir_x.dim, ir_f.dim))
        self.weight_sizes = [p[2] * p[3] for p in self.paths]
        self.weight_numel = sum(self.weight_sizes)

    def forward(self, x: Tensor, f: Tensor, w: Tensor) -> Tensor:
        e = x.shape[0]
        xs = torch.split(x, [mul * ir.dim for mul, ir in self.irreps_x], dim=1)
        fs = torch.split(f, [mul * ir.dim for mul, ir in self.irreps_f], dim=1)
        ws = torch.split(w, self.weight_sizes, dim=1)
        out = []
        for k, (i, j, mu, mv, d1, d2) in enumerate(self.paths):
            fw = torch.einsum("euv,evj->euj", ws[k].reshape(e, mu, mv), fs[j].reshape(e, mv, d2))
            cg = getattr(self, f"cg{k}").to(x.dtype)
            out.append(torch.einsum("eui,euj,ijk->euk", xs[i].reshape(e, mu, d1), fw, cg))
        return torch.cat([o.reshape(e, -1) for o in out], dim=1)


class RelaxedConvolution(nn.Module):
    """One relaxed E(3) convolution (eq. 6) with a linear self-connection.

    Parameters
    ----------
    irreps_in, irreps_out
        Node feature irreps.
    irreps_sh
        Irreps of the edge spherical harmonics.
    irreps_theta
        Irreps of the relaxed weights.
    num_basis
        Radial basis size (one more feature flags self-loops).
    radial_hidden
        Width of the radial MLP ``W(|r|)``.
    num_neighbors
        Normalisation ``z`` of the neighbour sum.
    implementation
        ``"fused"`` (default): the neighbour sum of the tensor product as two
        dense contractions without per-edge weights (:mod:`._relaxed_tp`);
        ``"per_edge"``: per-edge weights and one einsum pair per path (the
        implementation before issue 15); ``"e3nn"``: the per-edge version on
        stock ``e3nn.o3.TensorProduct`` (a speed anchor). All three compute
        the same function of the same parameters.
    """

    def __init__(
        self,
        irreps_in: o3.Irreps,
        irreps_out: o3.Irreps,
        irreps_sh: o3.Irreps,
        irreps_theta: o3.Irreps,
        num_basis: int,
        radial_hidden: int,
        num_neighbors: float,
        implementation: str = "fused",
    ):
        super().__init__()
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}"
            )
        self.implementation = implementation
        self.irreps_in, self.irreps_out = o3.Irreps(irreps_in), o3.Irreps(irreps_out)
        self.irreps_theta = o3.Irreps(irreps_theta)
        self.num_neighbors = float(num_neighbors)
        theta = torch.zeros(self.irreps_theta.dim)
        theta[self._scalar_slice()] = 1.0  # scalar-only: exactly equivariant (Prop. 4.1)
        self.theta = nn.Parameter(theta)
        lmax_filter = max(ir.l for _, ir in self.irreps_in) + max(ir.l for _, ir in self.irreps_out)
        keep = [o3.Irrep(l, p) for l in range(lmax_filter + 1) for p in (1, -1)]
        self.tp_theta = o3.FullTensorProduct(self.irreps_theta, irreps_sh, filter_ir_out=keep)
        # sorted irreps: equal irreps are contiguous, so simplify() keeps the layout
        self.irreps_filter = self.tp_theta.irreps_out.simplify()
        self.sc = o3.Linear(self.irreps_in, self.irreps_out)
        self.lin1 = o3.Linear(self.irreps_in, self.irreps_in)
        paths, irreps_mid = [], []
        for i, (_, ir_in) in enumerate(self.irreps_in):
            for j, (_, ir_f) in enumerate(self.irreps_filter):
                for ir_out in ir_in * ir_f:
                    if ir_out in self.irreps_out:
                        paths.append((i, j, ir_out))
                        irreps_mid.append((self.irreps_in[i].mul, ir_out))
        self.tp = _EdgeTensorProduct(self.irreps_in, self.irreps_filter, paths)
        self.fc = FullyConnectedNet(
            [num_basis + 1, radial_hidden, self.tp.weight_numel], torch.nn.functional.silu
        )
        self.lin2 = o3.Linear(o3.Irreps(irreps_mid), self.irreps_out)
        if implementation == "e3nn":
            self.tp_e3nn = o3.TensorProduct(
                self.irreps_in,
                self.irreps_filter,
                o3.Irreps(irreps_mid),
                [(i, j, k, "uvu", True) for k, (i, j, _) in enumerate(paths)],
                internal_weights=False,
                shared_weights=False,
            )
        # the fused plan: the filter matrix M(theta) for unit thetas, from a float64 copy of
        # tp_theta (its constants as a float64 model holds them) and the per-path CG buffers
        n_sh = o3.Irreps(irreps_sh).dim
        tp64 = copy.deepcopy(self.tp_theta).double()
        eye = torch.eye(n_sh, dtype=torch.float64)
        basis = torch.stack(
            [tp64(t.expand(n_sh, -1), eye) for t in torch.eye(self.irreps_theta.dim).double()]
        )
        cgs = [getattr(self.tp, f"cg{k}") for k in range(len(paths))]
        self.fused = FusedRelaxedTP(
            self.irreps_in, self.irreps_filter, self.tp.paths, cgs, basis, radial_hidden, self.lin2
        )

    def _scalar_slice(self) -> slice:
        for (mul, ir), sl in zip(self.irreps_theta, self.irreps_theta.slices(), strict=True):
            if ir == o3.Irrep("0e") and mul == 1:
                return sl
        raise ValueError(f"irreps_theta={self.irreps_theta} must contain 1x0e")

    def theta_by_irrep(self) -> dict[str, Tensor]:
        """``{"0e": (1,), "1o": (3,), ...}`` views of theta."""
        return {
            str(ir): self.theta[sl]
            for (_, ir), sl in zip(self.irreps_theta, self.irreps_theta.slices(), strict=True)
        }

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_sh: Tensor,
        edge_scalars: Tensor,
        padded: PaddedEdges | None = None,
    ) -> Tensor:
        """New node features; ``padded`` (:func:`._relaxed_tp.pad_edges` of the same
        edges) saves regrouping the edges in every convolution."""
        if self.implementation == "fused":
            if padded is None:
                padded = pad_edges(edge_index, edge_sh, edge_scalars, x.shape[0])
            *hidden, last = self.fc.children()
            h = padded.scalars
            for layer in hidden:
                h = layer(h)
            if last.act is not None:
                raise NotImplementedError(
                    "fused relaxed convolution needs a linear last radial layer"
                )
            # e3nn's _Layer: x @ (weight / sqrt(h_in * var_in / var_out))
            weight = last.weight / (last.h_in * last.var_in / last.var_out) ** 0.5
            theta, weight = self.theta.to(x.dtype), weight.to(x.dtype)
            out = self.fused(self.lin1(x), padded, h, theta, weight, self.lin2.weight.to(x.dtype))
            return self.sc(x) + out / math.sqrt(self.num_neighbors)
        else:
            src, dst = edge_index
            # theta (x) Y(r_ab) (eq. 6) is linear in Y: build its matrix once, apply to all edges
            eye = torch.eye(edge_sh.shape[1], dtype=x.dtype, device=x.device)
            theta = self.theta.to(x.dtype).expand(eye.shape[0], -1)
            filt = edge_sh @ self.tp_theta(theta, eye)
            tp = self.tp if self.implementation == "per_edge" else self.tp_e3nn
            msg = tp(self.lin1(x)[src], filt, self.fc(edge_scalars))
            agg = msg.new_zeros(x.shape[0], msg.shape[1]).index_add_(0, dst, msg)
        return self.sc(x) + self.lin2(agg) / math.sqrt(self.num_neighbors)


class RelaxedE3NN(VectorModel):
    """Relaxed E(3)-equivariant graph network (relaxed-E(3) paper, Sec. 4).

    Parameters
    ----------
    hidden
        Multiplicity of the hidden scalars (``0e`` and ``0o``); ``l > 0``
        irreps get ``max(1, hidden // 4)`` copies of each parity.
    layers
        Number of gated relaxed convolutions before the output convolution.
    out_vectors
        Number ``k`` of ``1o`` output vectors per atom.
    cutoff
        Graph radius in Å; ``None`` = fully connected within each molecule
        (the radial basis still vanishes beyond ``basis_cutoff``).
    lmax
        Largest ``l`` of the spherical harmonics and hidden features.
    l_relaxed
        Largest ``l`` of the relaxed weights (``0`` gives ``0e + 0o``).
    theta_l2
        ``lambda`` of :meth:`regularization`.
    num_basis, basis_cutoff
        Radial basis size and extent in Å.
    num_neighbors
        Normalisation of the neighbour sums.
    num_atom_types, node_attr_dim
        See :class:`~sbbench.models._base.VectorModel`.
    implementation
        How the convolutions evaluate their tensor products, see
        :class:`RelaxedConvolution`: ``"fused"`` (default, fastest),
        ``"per_edge"`` or ``"e3nn"`` (stock ``e3nn.o3.TensorProduct``). Same
        function and the same parameters (``state_dict``) for all three.
    """

    symmetry_class = "relaxed-equivariant"
    uses_node_vec = True

    def __init__(
        self,
        hidden: int = 16,
        layers: int = 2,
        out_vectors: int = 1,
        cutoff: float | None = None,
        lmax: int = 2,
        l_relaxed: int = 2,
        theta_l2: float = 1e-4,
        num_basis: int = 10,
        basis_cutoff: float = 10.0,
        num_neighbors: float = 8.0,
        num_atom_types: int = 100,
        node_attr_dim: int = 0,
        implementation: str = "fused",
    ):
        super().__init__(
            out_vectors=out_vectors, num_atom_types=num_atom_types, node_attr_dim=node_attr_dim
        )
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}"
            )
        self.implementation = implementation
        if int(lmax) < 1:
            raise ValueError(f"lmax must be >= 1 to produce vectors, got {lmax}")
        if float(theta_l2) < 0:
            raise ValueError(f"theta_l2 must be >= 0, got {theta_l2}")
        self.hidden, self.cutoff, self.lmax = int(hidden), cutoff, int(lmax)
        self.l_relaxed, self.theta_l2 = int(l_relaxed), float(theta_l2)
        self.num_basis = int(num_basis)
        self.basis_cutoff = float(cutoff if cutoff is not None else basis_cutoff)
        self.irreps_sh = o3.Irreps.spherical_harmonics(self.lmax)
        self.irreps_theta = theta_irreps(self.l_relaxed)
        self.embedding = nn.Embedding(self.num_atom_types, self.hidden)
        irreps = o3.Irreps(f"{self.hidden + self.node_attr_dim}x0e + 1x1o")
        self.irreps_in = irreps
        m = max(1, self.hidden // 4)
        gated = o3.Irreps(
            "+".join(f"{m}x{l}{p}" for l in range(1, self.lmax + 1) for p in ("e", "o"))
        ).sort()[0]
        scalars = o3.Irreps(f"{self.hidden}x0e + {self.hidden}x0o")
        conv = dict(
            irreps_sh=self.irreps_sh,
            irreps_theta=self.irreps_theta,
            num_basis=self.num_basis,
            radial_hidden=max(self.hidden, 8),
            num_neighbors=num_neighbors,
            implementation=implementation,
        )
        self.convs = nn.ModuleList()
        self.gates = nn.ModuleList()
        for _ in range(int(layers)):
            gate = Gate(
                scalars,
                [torch.nn.functional.silu, torch.tanh],
                o3.Irreps(f"{gated.num_irreps}x0e"),
                [torch.sigmoid],
                gated,
            )
            self.convs.append(RelaxedConvolution(irreps, gate.irreps_in, **conv))
            self.gates.append(gate)
            irreps = gate.irreps_out
        self.convs.append(RelaxedConvolution(irreps, o3.Irreps(f"{self.out_vectors}x1o"), **conv))
        self._feature_dim = o3.Irreps(irreps).count("0e") + o3.Irreps(irreps).count("0o")

    @property
    def feature_dim(self) -> int:
        return self._feature_dim

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    ):
        # checkpoints of every implementation (and of the pre-fused model) share one layout;
        # a different l_relaxed or depth shows first in theta: say so before torch's list
        for k, conv in enumerate(self.convs):
            theta = state_dict.get(f"{prefix}convs.{k}.theta")
            if theta is not None and theta.shape != conv.theta.shape:
                errors.append(
                    f"relaxed_e3nn checkpoint mismatch: {prefix}convs.{k}.theta has "
                    f"{theta.numel()} components, this model's has {conv.theta.numel()} "
                    f"({self.irreps_theta}, l_relaxed={self.l_relaxed}); build the model with "
                    "the checkpoint's l_relaxed, hidden, layers and lmax"
                )
                break
        n_convs = len(
            {
                key[len(prefix) :].split(".")[1]
                for key in state_dict
                if key.startswith(f"{prefix}convs.")
            }
        )
        if n_convs and n_convs != len(self.convs):
            errors.append(
                f"relaxed_e3nn checkpoint mismatch: it has {n_convs} convolutions, this model "
                f"{len(self.convs)} (layers={len(self.convs) - 1}); "
                f"build it with layers={n_convs - 1}"
            )
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing, unexpected, errors
        )

    def _edges(self, inp: Inputs) -> tuple[Tensor, Tensor, Tensor]:
        edge_index = molecule_graph(inp.pos, inp.batch, self.cutoff, loop=True)
        vec, dist = edge_vectors(inp.pos, edge_index)
        self_loop = edge_index[0] == edge_index[1]
        safe = torch.where(self_loop[:, None], torch.ones_like(vec), vec)
        sh = o3.spherical_harmonics(self.irreps_sh, safe, normalize=True, normalization="component")
        y0 = torch.zeros_like(sh)
        y0[:, 0] = 1.0
        sh = torch.where(self_loop[:, None], y0, sh)
        basis = soft_one_hot_linspace(
            dist, 0.0, self.basis_cutoff, self.num_basis, basis="smooth_finite", cutoff=True
        ) * math.sqrt(self.num_basis)
        scalars = torch.cat([basis * (~self_loop)[:, None], self_loop[:, None].to(basis)], dim=1)
        return edge_index, sh, scalars

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        dtype = inp.pos.dtype
        parts = [self.embedding(inp.z).to(dtype)]
        if inp.node_attr is not None:
            parts.append(inp.node_attr)
        vel = inp.node_vec if inp.node_vec is not None else inp.pos.new_zeros(inp.pos.shape)
        x = torch.cat(parts + [vel], dim=1)
        edge_index, sh, scalars = self._edges(inp)
        padded = None
        if self.implementation == "fused":
            padded = pad_edges(edge_index, sh, scalars, x.shape[0])
        for conv, gate in zip(self.convs[:-1], self.gates, strict=True):
            x = gate(conv(x, edge_index, sh, scalars, padded))
        out = self.convs[-1](x, edge_index, sh, scalars, padded)
        return x[:, : self._feature_dim], out

    def relaxed_weights(self) -> dict[str, Tensor]:
        """Theta per irrep, ``{"2e": (layers + 1, 5), ...}`` (row = convolution), detached."""
        per_layer = [conv.theta_by_irrep() for conv in self.convs]
        return {k: torch.stack([d[k] for d in per_layer]).detach() for k in per_layer[0]}

    def regularization(self) -> Tensor:
        """``theta_l2 * sum_layers ||theta without its 0e component||^2``."""
        total = self.convs[0].theta.new_zeros(())
        for conv in self.convs:
            sl = conv._scalar_slice()
            total = total + conv.theta.pow(2).sum() - conv.theta[sl].pow(2).sum()
        return self.theta_l2 * total

    def report(self, out_dir: str | os.PathLike) -> str:
        """What the relaxed weights say (:func:`describe`), plotted to ``theta.png``.

        The relaxed-E(3) paper reads its weights as spherical signals (its Fig. 1) to see
        which symmetry-breaking irreps a model learned; the harness asks the first
        (seed, fold).
        """
        from sbbench._io import atomic_path

        path = os.path.join(out_dir, "theta.png")
        with atomic_path(path) as tmp:  # describe's own temporary file would leave it 0600
            text = describe(self.relaxed_weights(), plot=tmp)
        return f"relaxed weights (first seed/fold; figure theta.png):\n{text}"


# --------------------------------------------------------------------------- interpretation


def _quadratic_forms(l2: Tensor) -> Tensor:
    """Matrices ``A_m`` with ``Y^2_m(x) = x^T A_m x`` (e3nn, 'component', unnormalised x)."""
    eye = torch.eye(3, dtype=torch.float64)
    y = lambda v: o3.spherical_harmonics(2, v, normalize=False, normalization="component")
    a = torch.zeros(5, 3, 3, dtype=torch.float64)
    for i in range(3):
        a[:, i, i] = y(eye[i])
        for j in range(i + 1, 3):
            a[:, i, j] = a[:, j, i] = (y(eye[i] + eye[j]) - y(eye[i]) - y(eye[j])) / 2
    return a


@dataclasses.dataclass
class ThetaReport:
    """What the relaxed weights of each convolution say (see :func:`describe`).

    Attributes
    ----------
    norms : dict
        ``irrep -> (layers,)`` Euclidean norm of theta per convolution.
    dominant : list of str
        Per convolution, the non-scalar irrep with the largest norm.
    quadrupole : Tensor
        ``(layers, 3, 3)`` traceless matrix ``Q`` with
        ``theta^{2e} . Y^2(x) = x^T Q x`` (zero if there is no ``2e`` irrep).
    axis : Tensor
        ``(layers, 3)`` unit eigenvector of ``Q`` whose eigenvalue differs most
        from the other two: the unique axis of a uniaxial (D4h/C4v-type) factor.
    uniaxiality : Tensor
        ``(layers,)`` ``1 - |l_a - l_b| / |l_u|`` from the eigenvalues, ``l_u``
        the unique one: 1 for ``a(2z^2 - x^2 - y^2)``-type factors, smaller otherwise.
    components : dict
        ``irrep -> [(layer, index, value), ...]``: the components carrying
        weight (``|theta| > rel_tol * max |theta|`` of that layer). ``index``
        runs over ``0 .. 2l`` in e3nn's real basis (m = -l .. l, polar axis y:
        for ``l = 1`` the indices are x, y, z; for ``l = 2`` index 2 is
        ``y^2 - (x^2 + z^2) / 2`` and index 4 is ``z^2 - x^2``).
    """

    norms: dict[str, Tensor]
    dominant: list[str]
    quadrupole: Tensor
    axis: Tensor
    uniaxiality: Tensor
    components: dict[str, list[tuple[int, int, float]]]

    def __str__(self) -> str:
        lines = []
        for layer, dom in enumerate(self.dominant):
            weights = ", ".join(f"{k}={float(v[layer]):.3g}" for k, v in self.norms.items())
            line = f"layer {layer}: |theta| {weights}; dominant non-scalar {dom}"
            if float(self.quadrupole[layer].abs().max()) > 0:
                ax = ", ".join(f"{float(c):+.3f}" for c in self.axis[layer])
                line += f"; 2e axis ({ax}), uniaxiality {float(self.uniaxiality[layer]):.3f}"
            active = [
                f"{k}[{m}]={v:+.3g}"
                for k, comps in self.components.items()
                for lay, m, v in comps
                if lay == layer and k != "0e"
            ]
            line += "; non-scalar components: " + (", ".join(active) if active else "none")
            lines.append(line)
        return "\n".join(lines)


def describe(
    theta: dict[str, Tensor], plot: str | os.PathLike | None = None, *, rel_tol: float = 0.05
) -> ThetaReport:
    """Report which irreps and components of relaxed weights carry weight.

    Parameters
    ----------
    theta
        ``irrep -> (layers, 2l+1)`` (or ``(2l+1,)``), as from
        :meth:`RelaxedE3NN.relaxed_weights`.
    rel_tol
        A component "carries weight" when its magnitude exceeds ``rel_tol``
        times the largest theta component of its layer.
    plot
        If given, save a figure (matplotlib) of every layer's *scalar signal*
        ``f(x) = sum_{p = (-1)^l} theta^{l,p} . Y^l(x)`` (eq. 8 of the
        relaxed-E(3) paper, the ``0e`` term left out as in their Fig. 1) as a
        spherical surface of radius ``1 + f / (2 max|f|)``, coloured by ``f`` on one
        scale for all layers (colour bar), written with the usual file mode.

    Returns
    -------
    ThetaReport
    """
    if not theta:
        raise ValueError("theta is empty")
    theta = {k: (v[None] if v.dim() == 1 else v).detach().double() for k, v in theta.items()}
    layers = next(iter(theta.values())).shape[0]
    for k, v in theta.items():
        ir = o3.Irrep(k)
        if v.shape != (layers, ir.dim):
            raise ValueError(
                f"theta[{k!r}] has shape {tuple(v.shape)}, expected ({layers}, {ir.dim})"
            )
    norms = {k: v.norm(dim=1) for k, v in theta.items()}
    nonscalar = [k for k in theta if k != "0e"]
    dominant = [
        max(nonscalar, key=lambda k: float(norms[k][i])) if nonscalar else "0e"
        for i in range(layers)
    ]
    quad = torch.zeros(layers, 3, 3, dtype=torch.float64)
    if "2e" in theta:
        quad = torch.einsum("lm,mij->lij", theta["2e"], _quadratic_forms(theta["2e"]))
    evals, evecs = torch.linalg.eigh(quad)
    axis = torch.zeros(layers, 3, dtype=torch.float64)
    uni = torch.zeros(layers, dtype=torch.float64)
    for i in range(layers):
        e = evals[i]
        # the eigenvalue farthest from the mean of the other two is the unique one
        score = torch.stack([(e[j] - (e.sum() - e[j]) / 2).abs() for j in range(3)])
        u = int(score.argmax())
        others = [j for j in range(3) if j != u]
        axis[i] = evecs[i, :, u]
        if float(e[u].abs()) > 0:
            uni[i] = 1 - (e[others[0]] - e[others[1]]).abs() / e[u].abs()
    biggest = torch.stack([v.abs().max(dim=1).values for v in theta.values()]).max(0).values
    components = {
        k: [
            (lay, m, float(v[lay, m]))
            for lay in range(layers)
            for m in range(v.shape[1])
            if float(v[lay, m].abs()) > rel_tol * float(biggest[lay])
        ]
        for k, v in theta.items()
    }
    report = ThetaReport(norms, dominant, quad, axis, uni, components)
    if plot is not None:
        _plot_signals(theta, plot)
    return report


def _scalar_signal(theta: dict[str, Tensor], points: Tensor) -> Tensor:
    """``(layers, P)`` scalar signal of eq. 8 without the ``0e`` term."""
    out = 0
    for k, v in theta.items():
        ir = o3.Irrep(k)
        if k == "0e" or ir.p != (-1) ** ir.l:
            continue
        y = o3.spherical_harmonics(ir.l, points, normalize=True, normalization="component")
        out = out + v @ y.T
    if isinstance(out, int):
        return torch.zeros(next(iter(theta.values())).shape[0], points.shape[0])
    return out


def _plot_signals(theta: dict[str, Tensor], path: str | os.PathLike) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_t, n_p = 40, 80
    t = torch.linspace(0, math.pi, n_t, dtype=torch.float64)
    p = torch.linspace(0, 2 * math.pi, n_p, dtype=torch.float64)
    tt, pp = torch.meshgrid(t, p, indexing="ij")
    pts = torch.stack([tt.sin() * pp.cos(), tt.sin() * pp.sin(), tt.cos()], -1).reshape(-1, 3)
    signal = _scalar_signal(theta, pts)
    layers = signal.shape[0]
    shown = ", ".join(k for k in theta if k != "0e" and o3.Irrep(k).p == (-1) ** o3.Irrep(k).l)
    scale = float(signal.abs().max()) or 1.0  # one colour scale for all layers
    norm = matplotlib.colors.Normalize(-scale, scale)
    fig = plt.figure(figsize=(3.2 * layers + 1.0, 3.9))
    for i in range(layers):
        f = signal[i]
        r = (1 + 0.5 * f / scale).reshape(n_t, n_p)
        xyz = (pts.reshape(n_t, n_p, 3) * r[..., None]).numpy()
        ax = fig.add_subplot(1, layers, i + 1, projection="3d")
        colors = plt.cm.coolwarm(norm(f.reshape(n_t, n_p).numpy()))
        ax.plot_surface(xyz[..., 0], xyz[..., 1], xyz[..., 2], facecolors=colors, linewidth=0)
        ax.set_box_aspect((1, 1, 1))
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.set_major_locator(matplotlib.ticker.MaxNLocator(3))
        ax.tick_params(labelsize=7)
        ax.set(xlabel="x", ylabel="y", zlabel="z")
        ax.set_title(f"layer {i}: max|f| = {float(f.abs().max()):.2g}", fontsize=9)
    fig.suptitle(
        f"relaxed weights as a spherical signal f(r) = sum theta^l . Y^l(r) over {shown or '-'}"
        "\n(eq. 8; 0e left out, pseudo-irreps have no signal); radius 1 + f / 2max|f|",
        fontsize=8,
    )
    bar = fig.colorbar(
        matplotlib.cm.ScalarMappable(norm=norm, cmap=plt.cm.coolwarm),
        ax=fig.axes,
        shrink=0.6,
        pad=0.08,
    )
    bar.set_label("f (theta units)", fontsize=8)
    from sbbench._io import atomic_path

    try:
        with atomic_path(os.fspath(path)) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)
