"""The ``+noise`` and ``+mlp`` baselines of SANN Sec. 6 (Tables 1-3, 7).

``+noise`` (approximate equivariance)
    Gaussian noise of standard deviation ``noise_std`` (Å, SANN Sec. 6:
    "between 0.001 and 0.1") is added to the positions in training mode only;
    in evaluation mode the wrapped model is used unchanged, so its symmetry
    class at inference is the base model's.
``+mlp`` (symmetry breaking)
    A two-layer MLP output head on the base model's invariant per-atom
    features, the atom's coordinates relative to its molecule's centroid (in
    the input frame) and the base model's vectors. Because it acts on raw
    coordinates it is neither rotation- nor reflection-equivariant.
    Symmetry class: symmetry-breaking.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sbbench.errors import InputError

from ._base import Inputs, VectorModel, mlp

__all__ = ["NoisyPositions", "MLPHead", "NOISE_STD_RANGE"]

NOISE_STD_RANGE = (0.001, 0.1)


class _Wrapper(VectorModel):
    def __init__(self, base: VectorModel):
        nn.Module.__init__(self)
        self.base = base
        self.out_vectors = base.out_vectors
        self.num_atom_types = base.num_atom_types
        self.node_attr_dim = base.node_attr_dim

    @property
    def feature_dim(self) -> int:
        return self.base.feature_dim

    def check(self, inp: Inputs) -> None:
        self.base.check(inp)

    def regularization(self) -> Tensor:
        return self.base.regularization()


class NoisyPositions(_Wrapper):
    """Add ``N(0, noise_std^2)`` noise (Å) to positions during training only.

    Parameters
    ----------
    base
        The wrapped model.
    noise_std
        Standard deviation in Å, within ``[0.001, 0.1]`` (SANN Sec. 6).
    """

    def __init__(self, base: VectorModel, noise_std: float = 0.01):
        super().__init__(base)
        lo, hi = NOISE_STD_RANGE
        if not lo <= float(noise_std) <= hi:
            raise InputError(f"noise_std must be within [{lo}, {hi}] Å, got {noise_std}")
        self.noise_std = float(noise_std)
        self.symmetry_class = base.symmetry_class

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        if self.training:
            inp = inp.replace(pos=inp.pos + self.noise_std * torch.randn_like(inp.pos))
        return self.base.features(inp)


class MLPHead(_Wrapper):
    """Two-layer MLP output head on features, centred coordinates and base vectors.

    Parameters
    ----------
    base
        The wrapped model.
    mlp_hidden
        Width of the hidden layer (default: the base model's feature width).
    """

    symmetry_class = "symmetry-breaking"

    def __init__(self, base: VectorModel, mlp_hidden: int | None = None):
        super().__init__(base)
        k3 = 3 * base.out_vectors
        width = int(mlp_hidden) if mlp_hidden is not None else max(base.feature_dim, 16)
        self.head = mlp([base.feature_dim + 3 + k3, width, k3])

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        h, vec = self.base.features(inp)
        count = torch.bincount(inp.batch, minlength=inp.num_graphs).clamp(min=1)
        centroid = inp.pos.new_zeros(inp.num_graphs, 3).index_add_(0, inp.batch, inp.pos)
        centroid = centroid / count[:, None].to(inp.pos.dtype)
        rel = inp.pos - centroid[inp.batch]
        return h, self.head(torch.cat([h, rel, vec], dim=-1))
