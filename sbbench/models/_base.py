"""Shared model interface: validated inputs, the base class and small helpers.

Every model of the zoo maps a PyG batch (Data contract of the datasets: ``z``,
``pos`` in Å, ``batch``; optional ``node_attr``, ``node_vec``, ``sym_ops``,
``num_ops``, ``orbit``, ``frame``) to per-atom vectors ``(N, 3k)``. Models
implement :meth:`VectorModel.features`, which returns invariant per-atom
features (used by the ``+mlp`` head) together with the vector output.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from sbbench.errors import InputError

__all__ = ["Inputs", "VectorModel", "SYMMETRY_CLASSES", "gradient_vectors", "mlp"]

SYMMETRY_CLASSES = ("invariant", "equivariant", "relaxed-equivariant", "symmetry-breaking")


@dataclasses.dataclass(frozen=True)
class Inputs:
    """Validated model inputs extracted from a PyG ``Data``/``Batch``.

    Attributes
    ----------
    z : Tensor
        ``(N,)`` atomic numbers (long).
    pos : Tensor
        ``(N, 3)`` positions in Å.
    batch : Tensor
        ``(N,)`` molecule index per atom (zeros for a single ``Data``).
    num_graphs : int
        Number of molecules.
    node_attr, node_vec : Tensor or None
        Optional extra per-atom scalars ``(N, F)`` and vectors ``(N, 3)``.
    sym_ops, num_ops, orbit, frame : Tensor or None
        Optional symmetry annotations (see the dataset contract).
    """

    z: Tensor
    pos: Tensor
    batch: Tensor
    num_graphs: int
    node_attr: Tensor | None = None
    node_vec: Tensor | None = None
    sym_ops: Tensor | None = None
    num_ops: Tensor | None = None
    orbit: Tensor | None = None
    frame: Tensor | None = None

    @classmethod
    def from_batch(cls, data: Any) -> Inputs:
        """Extract and check the fields of ``data``; raise ValueError naming the bad key."""
        if isinstance(data, Inputs):
            return data
        get = (lambda k: getattr(data, k, None)) if not isinstance(data, dict) else data.get
        z, pos = get("z"), get("pos")
        if z is None or pos is None:
            raise ValueError("model input must have 'z' (N,) and 'pos' (N, 3) fields")
        if not isinstance(pos, Tensor) or pos.dim() != 2 or pos.shape[1] != 3:
            raise ValueError(f"'pos' must be a (N, 3) tensor, got shape {tuple(pos.shape)}")
        if not pos.is_floating_point():
            raise ValueError(f"'pos' must be a floating-point tensor, got {pos.dtype}")
        n = pos.shape[0]
        if not isinstance(z, Tensor) or z.shape != (n,):
            raise ValueError(f"'z' must be a ({n},) tensor matching 'pos', got {tuple(z.shape)}")
        z = z.long()
        if n and int(z.min()) < 0:
            raise ValueError(f"'z' has a negative atomic number at atom {int(z.argmin())}")
        if not bool(torch.isfinite(pos).all()):
            bad = int((~torch.isfinite(pos)).any(-1).nonzero()[0])
            raise ValueError(f"'pos' has a non-finite coordinate at atom {bad}")
        batch = get("batch")
        if batch is None:
            batch = torch.zeros(n, dtype=torch.long, device=pos.device)
        elif batch.shape != (n,):
            raise ValueError(f"'batch' must have shape ({n},), got {tuple(batch.shape)}")
        num_graphs = int(batch.max()) + 1 if n else 0
        node_attr, node_vec = get("node_attr"), get("node_vec")
        if node_attr is not None:
            if node_attr.dim() == 1:
                node_attr = node_attr[:, None]
            if node_attr.shape[0] != n or node_attr.dim() != 2:
                raise ValueError(f"'node_attr' must be ({n}, F), got {tuple(node_attr.shape)}")
            node_attr = node_attr.to(pos.dtype)
        if node_vec is not None:
            if node_vec.shape != (n, 3):
                raise ValueError(f"'node_vec' must be ({n}, 3), got {tuple(node_vec.shape)}")
            node_vec = node_vec.to(pos.dtype)
        return cls(
            z=z,
            pos=pos,
            batch=batch.long(),
            num_graphs=num_graphs,
            node_attr=node_attr,
            node_vec=node_vec,
            sym_ops=get("sym_ops"),
            num_ops=get("num_ops"),
            orbit=get("orbit"),
            frame=get("frame"),
        )

    def replace(self, **changes: Any) -> Inputs:
        """Return a copy with some fields replaced."""
        return dataclasses.replace(self, **changes)


class VectorModel(nn.Module):
    """Base class: ``model(batch) -> (N, 3k)`` per-atom vectors.

    Subclasses set :attr:`symmetry_class` and implement :meth:`features`.

    Parameters
    ----------
    out_vectors
        Number ``k`` of 3-vectors predicted per atom.
    num_atom_types
        Atomic numbers must be smaller than this (embedding size).
    node_attr_dim
        Width ``F`` of the optional ``node_attr`` input (0: the model uses none
        and rejects batches that carry it, so that inputs are never silently ignored).
    """

    symmetry_class: ClassVar[str] = "equivariant"
    uses_node_vec: ClassVar[bool] = False

    def __init__(self, *, out_vectors: int = 1, num_atom_types: int = 100, node_attr_dim: int = 0):
        super().__init__()
        if int(out_vectors) < 1:
            raise InputError(f"out_vectors must be >= 1, got {out_vectors}")
        if int(num_atom_types) < 1:
            raise InputError(f"num_atom_types must be >= 1, got {num_atom_types}")
        if int(node_attr_dim) < 0:
            raise InputError(f"node_attr_dim must be >= 0, got {node_attr_dim}")
        self.out_vectors = int(out_vectors)
        self.num_atom_types = int(num_atom_types)
        self.node_attr_dim = int(node_attr_dim)

    @property
    def feature_dim(self) -> int:
        """Width of the invariant per-atom features returned by :meth:`features`."""
        raise NotImplementedError

    def check(self, inp: Inputs) -> None:
        """Raise :class:`~sbbench.errors.InputError` if ``inp`` does not fit this model's
        configuration (hyperparameters a config can set: ``num_atom_types``,
        ``node_attr_dim``)."""
        if inp.z.numel() and int(inp.z.max()) >= self.num_atom_types:
            atom = int(inp.z.argmax())
            raise InputError(
                f"atomic number {int(inp.z.max())} at atom {atom} is >= num_atom_types="
                f"{self.num_atom_types}; build the model with a larger num_atom_types"
            )
        width = 0 if inp.node_attr is None else inp.node_attr.shape[1]
        if width != self.node_attr_dim:
            raise InputError(
                f"batch has node_attr of width {width} but the model was built with "
                f"node_attr_dim={self.node_attr_dim}"
            )
        if inp.node_vec is not None and not self.uses_node_vec:
            raise InputError(f"{type(self).__name__} does not accept 'node_vec' inputs")

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        """Return invariant features ``(N, feature_dim)`` and vectors ``(N, 3k)``."""
        raise NotImplementedError

    def regularization(self) -> Tensor:
        """Penalty to add to the training loss (zero unless a model defines one).

        ``relaxed_e3nn`` returns its L2 penalty on the non-scalar relaxed weights;
        the ``+noise``/``+mlp`` wrappers pass their base model's through.
        """
        param = next(self.parameters(), None)
        return torch.zeros((), dtype=param.dtype if param is not None else torch.float32)

    def report(self, out_dir: str | os.PathLike) -> str | None:
        """What the trained model says about itself, for the log of a run (None: nothing).

        The harness (:func:`sbbench.training.run_experiment`) calls it once, on the
        model of the first (seed, fold) after training, with the run's folder; a model
        may write figures there. The default says nothing; ``relaxed_e3nn`` describes
        its learned relaxed weights and plots them (``theta.png``). The harness treats
        every model alike: model-specific reports belong here, not in the harness.
        """
        return None

    def forward(self, data: Any) -> Tensor:
        """Predict ``(N, 3k)`` per-atom vectors for a PyG batch (or ``Data``)."""
        inp = Inputs.from_batch(data)
        self.check(inp)
        return self.features(inp)[1]


def mlp(sizes: list[int], act: type[nn.Module] = nn.SiLU, last_act: bool = False) -> nn.Sequential:
    """Fully connected network ``sizes[0] -> ... -> sizes[-1]`` with ``act`` between layers."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), act()]
    if not last_act:
        layers.pop()
    return nn.Sequential(*layers)


def gradient_vectors(energy: Tensor, pos: Tensor, create_graph: bool) -> Tensor:
    """Vectors ``-dE_c/dpos`` for every channel ``c`` of ``energy`` ``(B, k)``.

    Used by the invariant models (SANN Sec. 6.2: "predict a global invariant
    property and regress it with respect to the initial positions"): the
    gradient of an O(3)-invariant, translation-invariant scalar is an
    equivariant vector field. Returns ``(N, 3k)``.
    """
    outs = []
    for c in range(energy.shape[1]):
        (g,) = torch.autograd.grad(
            energy[:, c].sum(), pos, create_graph=create_graph, retain_graph=True
        )
        outs.append(-g)
    return torch.cat(outs, dim=1)


class GradientMixin:
    """Helper for models whose vectors are position gradients of an invariant."""

    @staticmethod
    def differentiable_pos(pos: Tensor) -> Tensor:
        """Return ``pos`` itself if it requires grad, else a detached copy that does.

        Call inside ``torch.enable_grad()``. Decide ``create_graph`` *before*
        entering that context with ``torch.is_grad_enabled()``: the graph of the
        gradient is kept whenever the caller has autograd enabled (training, so
        a loss on the vectors reaches the parameters); under ``torch.no_grad()``
        plain detached gradients are returned.
        """
        return pos if pos.requires_grad else pos.detach().requires_grad_(True)


def cosine_cutoff(dist: Tensor, cutoff: float) -> Tensor:
    """Behler cosine envelope ``0.5 (cos(pi r / r_c) + 1)`` for ``r < r_c``, else 0."""
    return torch.where(
        dist < cutoff, 0.5 * (torch.cos(dist * math.pi / cutoff) + 1.0), torch.zeros_like(dist)
    )
