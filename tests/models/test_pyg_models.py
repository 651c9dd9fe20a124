"""SchNet and DimeNet++ reuse PyG; check the reuse and the gradient outputs."""

import torch

from sbbench.models import build
from sbbench.models._base import Inputs
from sbbench.testing import to_dtype

from ._data import random_molecules, sample

torch.set_num_threads(1)


def test_schnet_invariants_equal_pyg_forward():
    torch.manual_seed(0)
    model = build("schnet", hidden=16, layers=2).double()
    data = to_dtype(random_molecules((5, 4)), torch.float64)
    _, energy = model.energy(Inputs.from_batch(data), data.pos)
    assert torch.allclose(energy, model.net(data.z, data.pos, data.batch), atol=1e-12)


def test_gradient_output_is_minus_energy_gradient():
    torch.manual_seed(0)
    model = build("schnet", hidden=16, layers=2).double()
    data = to_dtype(random_molecules((4,)), torch.float64)
    pos = data.pos.clone().requires_grad_(True)
    _, energy = model.energy(Inputs.from_batch(data), pos)
    (grad,) = torch.autograd.grad(energy.sum(), pos)
    assert torch.allclose(model(data), -grad, atol=1e-12)


def test_outputs_train_through_the_gradient_and_work_under_no_grad():
    torch.manual_seed(0)
    for name in ("schnet", "dimenet++", "painn"):
        hp = {"variant": "vector"} if name == "painn" else {}
        model = build(name, hidden=8, layers=1, **hp)
        data = random_molecules((4, 3))
        model(data).pow(2).sum().backward()  # create_graph=True: parameters get gradients
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        assert grads and any(float(g.abs().sum()) > 0 for g in grads)
        with torch.no_grad():
            out = model(data)
        assert not out.requires_grad and out.shape == (7, 3)


def test_dimenet_linear_molecule_has_finite_second_derivatives():
    """Collinear triplets (CO2) must not produce NaN in training (double backward)."""
    torch.manual_seed(0)
    model = build("dimenet++", hidden=8, layers=1).double()
    co2 = sample([8, 6, 8], [[-1.16, 0.0, 0.0], [0.0, 0.0, 0.0], [1.16, 0.0, 0.0]])
    model(to_dtype(co2, torch.float64)).pow(2).sum().backward()
    for p in model.parameters():
        if p.grad is not None:
            assert torch.isfinite(p.grad).all()


def _complete_graph(pos, cutoff):
    """Every ordered pair (j -> i), j != i, closer than ``cutoff``, by a double loop."""
    n = len(pos)
    pairs = [
        (j, i)
        for j in range(n)
        for i in range(n)
        if i != j and float((pos[i] - pos[j]).norm()) < cutoff
    ]
    return torch.tensor(pairs, dtype=torch.long).T


def test_dimenet_molecular_forward_sums_atom_outputs():
    from torch_geometric.utils import scatter

    torch.manual_seed(0)
    model = build("dimenet++", hidden=8, layers=1).double()
    data = to_dtype(random_molecules((4, 3, 5)), torch.float64)
    net = model.net
    total = net(data.z, data.pos, data.batch)
    assert total.shape == (3, 8)
    assert torch.isfinite(total).all() and total.abs().max().item() > 0
    # each molecule alone, on a graph built here: the sum over its atoms' outputs
    atoms = []
    for k in range(3):
        m = data.batch == k
        p = net.atom_outputs(data.z[m], data.pos[m], _complete_graph(data.pos[m], net.cutoff))
        assert p.shape == (int(m.sum()), 8)
        atoms.append(p)
    torch.testing.assert_close(
        total, torch.stack([p.sum(0) for p in atoms]), rtol=1e-10, atol=1e-12
    )
    # the batched per-atom outputs, scatter-summed per molecule
    per_atom = torch.cat(atoms)
    torch.testing.assert_close(
        total, scatter(per_atom, data.batch, dim=0, reduce="sum"), rtol=1e-10, atol=1e-12
    )
    # a molecular sum: invariant under permuting the atoms within each molecule
    perm = torch.cat([torch.nonzero(data.batch == k).flatten().flip(0) for k in range(3)])
    torch.testing.assert_close(
        net(data.z[perm], data.pos[perm], data.batch[perm]), total, rtol=1e-10, atol=1e-12
    )


def test_numerical_spherical_basis_matches_scipy():
    import numpy as np
    from scipy import special

    from sbbench.models.dimenet import legendre, spherical_bessel

    x = torch.linspace(0.3, 25.0, 200, dtype=torch.float64)
    jl = spherical_bessel(7, x).numpy()
    for l in range(7):
        np.testing.assert_allclose(jl[:, l], special.spherical_jn(l, x.numpy()), atol=1e-9)
    c = torch.linspace(-1, 1, 50, dtype=torch.float64)
    pl = legendre(7, c).numpy()
    for l in range(7):
        np.testing.assert_allclose(pl[:, l], special.eval_legendre(l, c.numpy()), atol=1e-12)


def test_dimenet_uses_numerical_basis_and_restores_pyg():
    from torch_geometric.nn.models import dimenet as pyg_dimenet

    from sbbench.models.dimenet import TorchSphericalBasis

    model = build("dimenet++", hidden=8, layers=1)
    assert isinstance(model.net.sbf, TorchSphericalBasis)
    assert pyg_dimenet.SphericalBasisLayer is not TorchSphericalBasis
