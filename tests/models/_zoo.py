"""The model configurations exercised by the tests (small, fast)."""

from __future__ import annotations

import torch

from sbbench.models import build

#: strictly equivariant configurations: (name, hparams)
#: relaxed-equivariant configurations (exactly equivariant on molecules without symmetry)
RELAXED = [("sann", {})]

EQUIVARIANT = [
    ("egnn", {}),
    ("painn", {"variant": "tensor"}),
    ("painn", {"variant": "vector"}),
    ("schnet", {}),
    ("dimenet++", {}),
    ("relaxed_e3nn", {"hidden": 8, "layers": 1}),  # at initialisation (theta scalar-only)
]

SMALL = {"hidden": 16, "layers": 2}


def make(name: str, seed: int = 0, **hparams) -> torch.nn.Module:
    """Seeded small model in float64."""
    torch.manual_seed(seed)
    return build(name, **{**SMALL, **hparams}).double()


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def label(cfg) -> str:
    name, hp = cfg
    return name + "".join(f"-{k}={v}" for k, v in hp.items())
