"""Each model overfits a tiny batch: the loss falls 10x in a few hundred seeded steps."""

import pytest
import torch

from sbbench.testing import to_dtype

from ._data import random_molecules
from ._zoo import EQUIVARIANT, RELAXED, label, make

torch.set_num_threads(1)


def pair_forces(data) -> torch.Tensor:
    """Forces -dU/dpos of U = sum_{i<j in a molecule} (r_ij - 1.5 Å)^2: a learnable target."""
    pos = data.pos.detach().clone().requires_grad_(True)
    same = data.batch[:, None] == data.batch[None, :]
    iu = torch.triu_indices(len(pos), len(pos), 1)
    keep = same[iu[0], iu[1]]
    r = (pos[iu[0, keep]] - pos[iu[1, keep]]).norm(dim=-1)
    (grad,) = torch.autograd.grad(((r - 1.5) ** 2).sum(), pos)
    return -grad.detach()


CONFIGS = EQUIVARIANT + RELAXED + [("egnn+mlp", {}), ("painn+noise", {"noise_std": 0.001})]


@pytest.mark.slow  # 2-10 s per model, ~45 s in all (single-threaded)
@pytest.mark.parametrize("cfg", CONFIGS, ids=label)
def test_overfits_tiny_batch(cfg):
    name, hp = cfg
    model = make(name, **hp).train()
    data = to_dtype(random_molecules((4, 3), seed=3), torch.float64)
    target = pair_forces(data)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(300):
        opt.zero_grad()
        loss = (model(data) - target).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert min(losses[-10:]) < losses[0] / 10, (losses[0], losses[-1])
