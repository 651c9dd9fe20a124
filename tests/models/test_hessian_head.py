"""Hessian-eigenvector output (issue 17): ``build("painn"|"egnn", variant="hessian")``.

The predicted matrix is strictly equivariant; the eigenvector is equivariant on inputs
without symmetry, keeps the symmetry of an A1 mode (sign fixed against an equivariant
reference field), and breaks C2v only through the sign of a B2 mode, which lets it fit
the antisymmetric stretch of H2O below the equivariant floor.
"""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from sbbench.models import build
from sbbench.models._hessian import (
    HessianHead,
    eigh_broadened,
    internal_basis,
    rigid_body_basis,
)
from sbbench.testing import random_orthogonal

MODELS = ("painn", "egnn")
SMALL = {"hidden": 16, "layers": 2}


def _model(name, seed=0, **hp):
    torch.manual_seed(seed)
    return build(name, variant="hessian", **SMALL, **hp).double()


def _molecules(seed=0, sizes=(5, 4)) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    data = []
    for n in sizes:
        pos = torch.randn(n, 3, generator=gen, dtype=torch.float64) * 1.2
        z = torch.tensor([6, 8, 1, 1, 7, 1][:n])
        data.append(Data(z=z, pos=pos))
    return Batch.from_data_list(data)


def _water(rot=None, perm=None) -> Data:
    import sbbench.datasets as sd

    d = sd.load("h2o_modes", task="asym")[0]
    pos = d.pos.double()
    if rot is not None:
        pos = pos @ rot.T
    z = d.z
    if perm is not None:
        pos, z = pos[perm], z[perm]
    return Data(z=z, pos=pos)


def _block_rotation(rot: torch.Tensor, n: int) -> torch.Tensor:
    return torch.block_diag(*[rot] * n)


def _perm_matrix(perm: torch.Tensor) -> torch.Tensor:
    """P with (P v)[i] = v[perm[i]] on 3n-vectors, atom-major."""
    n = perm.numel()
    p = torch.zeros(3 * n, 3 * n, dtype=torch.float64)
    for i, j in enumerate(perm.tolist()):
        p[3 * i : 3 * i + 3, 3 * j : 3 * j + 3] = torch.eye(3, dtype=torch.float64)
    return p


@pytest.mark.parametrize("name", MODELS)
def test_matrix_equivariant_under_o3_and_permutations(name):
    model = _model(name, mode_rank=0)
    data = _molecules()
    blocks = model.hessians(data)
    assert [b.shape for b in blocks] == [(15, 15), (12, 12)]
    for b in blocks:
        assert torch.allclose(b, b.T, atol=1e-10)
    for seed in range(4):
        rot = random_orthogonal(seed, improper=bool(seed % 2))
        gen = torch.Generator().manual_seed(seed)
        perms = [torch.randperm(5, generator=gen), torch.randperm(4, generator=gen)]
        moved = Batch.from_data_list(
            [
                Data(z=d.z[p], pos=(d.pos @ rot.T)[p])
                for d, p in zip(data.to_data_list(), perms, strict=True)
            ]
        )
        for h, h2, p in zip(blocks, model.hessians(moved), perms, strict=True):
            r = _block_rotation(rot, p.numel())
            pm = _perm_matrix(p)
            expected = pm @ r @ h @ r.T @ pm.T
            assert torch.allclose(h2, expected, atol=1e-8 * max(1.0, float(h.abs().max())))


def test_rigid_basis_is_orthonormal_and_internal_complement():
    pos = _water().pos
    masses = torch.tensor([15.99491462, 1.00782503, 1.00782503], dtype=torch.float64)
    q, b = rigid_body_basis(pos, masses), internal_basis(pos, masses)
    assert q.shape == (9, 6) and b.shape == (9, 3)
    full = torch.cat([q, b], 1)
    assert torch.allclose(full.T @ full, torch.eye(9, dtype=torch.float64), atol=1e-10)
    linear = torch.tensor([[0.0, 0, 0], [0, 0, 1.1], [0, 0, -1.1]], dtype=torch.float64)
    assert rigid_body_basis(linear, masses).shape == (9, 5)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("rank", [0, 1, -1])
def test_output_equivariant_without_symmetry(name, rank):
    model = _model(name, mode_rank=rank)
    data = _molecules()
    with torch.no_grad():
        out = model(data)
    assert out.shape == (9, 3)
    for seed in range(4):
        rot = random_orthogonal(10 + seed, improper=bool(seed % 2))
        gen = torch.Generator().manual_seed(seed)
        perm = torch.cat([torch.randperm(5, generator=gen), 5 + torch.randperm(4, generator=gen)])
        moved = Batch.from_data_list(
            [
                Data(z=data.z[perm[data.batch == b]], pos=(data.pos @ rot.T)[perm[data.batch == b]])
                for b in range(2)
            ]
        )
        with torch.no_grad():
            out2 = model(moved)
        assert torch.allclose(out2, (out @ rot.T)[perm], atol=1e-7)


@pytest.mark.parametrize("name", MODELS)
def test_a1_modes_keep_c2v_and_follow_the_molecule_b2_breaks_by_sign(name):
    """On exactly C2v water the 3 internal modes are 2 A1 + 1 B2 (B2 internal space is
    1-dim). The A1 outputs are C2-invariant and rotate with the molecule (the sign fix);
    the B2 output is flipped by C2 (that sign is the broken symmetry)."""
    water = _water()
    pos = water.pos
    axis = pos[1:].mean(0) - pos[0]
    axis = axis / axis.norm()
    c2 = 2 * torch.outer(axis, axis) - torch.eye(3, dtype=torch.float64)
    swap = torch.tensor([0, 2, 1])
    kinds = []
    for rank in range(3):
        model = _model(name, seed=3, mode_rank=rank)
        with torch.no_grad():
            out = model(water)
        image = (out @ c2.T)[swap]
        if torch.allclose(image, out, atol=1e-6):
            kinds.append("A1")
            for seed in range(3):
                rot = random_orthogonal(20 + seed, improper=bool(seed % 2))
                with torch.no_grad():
                    out2 = model(_water(rot=rot))
                assert torch.allclose(out2, out @ rot.T, atol=1e-6)  # not -R out
        else:
            assert torch.allclose(image, -out, atol=1e-6)
            kinds.append("B2")
    assert sorted(kinds) == ["A1", "A1", "B2"]


def test_sign_fix_is_what_makes_a1_outputs_equivariant():
    """Without the reference field the eigenvector's sign is the solver's: some rotated
    copy comes out as -R out. With it, never."""
    water = _water()
    model = _model("painn", seed=3, mode_rank=0)
    head = model.hessian_head
    flips = 0
    for seed in range(12):
        rot = random_orthogonal(40 + seed)
        blocks = model.hessians(_water(rot=rot))
        h0 = model.hessians(water)[0]
        _, v0 = torch.linalg.eigh(h0)
        _, v1 = torch.linalg.eigh(blocks[0])
        r = _block_rotation(rot, 3)
        flips += int(float((r @ v0[:, 0]) @ v1[:, 0]) < 0)
    assert head.mode_rank == 0
    assert flips > 0  # the raw eigenvector sign does not follow the molecule


def test_eigh_broadened_matches_torch_and_is_finite_at_degeneracy():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    a = (a + a.T).requires_grad_(True)
    w = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    ref_vals, ref_vecs = torch.linalg.eigh(a)
    sign = torch.sign(ref_vecs[0]).detach()  # same eigenvector signs in both losses
    loss_ref = ((ref_vecs * sign) @ w).pow(2).sum() + ref_vals.pow(3).sum()
    (g_ref,) = torch.autograd.grad(loss_ref, a)
    vals, vecs = eigh_broadened(a, 0.0)
    loss = ((vecs * sign) @ w).pow(2).sum() + vals.pow(3).sum()
    (g,) = torch.autograd.grad(loss, a)
    assert torch.allclose(g, 0.5 * (g_ref + g_ref.T), atol=1e-8)
    vals, vecs = eigh_broadened(a, 1e-4)
    loss = ((vecs * sign) @ w).pow(2).sum() + vals.pow(3).sum()
    (g_b,) = torch.autograd.grad(loss, a)
    assert torch.allclose(g_b, g, rtol=1e-3, atol=1e-5)

    deg = torch.diag(torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64)).requires_grad_(True)
    _, v_torch = torch.linalg.eigh(deg)
    (g_torch,) = torch.autograd.grad(v_torch[:, 0].sum(), deg)
    assert not bool(torch.isfinite(g_torch).all())  # why the broadening is needed
    _, v = eigh_broadened(deg, 1e-3)
    (g_deg,) = torch.autograd.grad(v[:, 0].sum(), deg)
    assert bool(torch.isfinite(g_deg).all())


def test_training_stays_finite_with_degenerate_modes():
    """Methane is Td: any equivariant Hessian has triply degenerate (T2) modes."""
    s = 1.09 / 3**0.5
    pos = torch.tensor(
        [[0, 0, 0], [s, s, s], [s, -s, -s], [-s, s, -s], [-s, -s, s]], dtype=torch.float64
    )
    data = Batch.from_data_list([Data(z=torch.tensor([6, 1, 1, 1, 1]), pos=pos)])
    target = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for rank in (0, 3, 6):
        model = _model("painn", mode_rank=rank)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(5):
            opt.zero_grad()
            loss = (model(data) - target).pow(2).mean()
            loss.backward()
            assert bool(torch.isfinite(loss))
            assert all(
                bool(torch.isfinite(p.grad).all()) for p in model.parameters() if p.grad is not None
            )
            opt.step()


def test_normalize_options():
    data = _molecules()
    out = _model("egnn", mode_rank=1, normalize="atom")(data).detach()
    assert torch.allclose(out.norm(dim=-1), torch.ones(9, dtype=torch.float64), atol=1e-6)
    out = _model("egnn", mode_rank=1, normalize="total")(data).detach()
    for b in range(2):
        assert abs(float(out[data.batch == b].pow(2).sum()) - 1) < 1e-8
    out = _model("egnn", mode_rank=1, normalize="learned")(data).detach()
    assert bool(torch.isfinite(out).all())


def test_options_and_errors():
    with pytest.raises(ValueError, match="only apply to variant='hessian'"):
        build("painn", mode_rank=1)
    with pytest.raises(ValueError, match="only apply to variant='hessian'"):
        build("egnn", normalize="atom")
    with pytest.raises(ValueError, match="out_vectors=1"):
        build("painn", variant="hessian", out_vectors=2)
    with pytest.raises(ValueError, match="normalize"):
        build("egnn", variant="hessian", normalize="unit")
    model = build("painn", variant="hessian", mode_rank=3, **SMALL)
    with pytest.raises(ValueError, match="mode_rank=3 but molecule 0 .3 atoms. has 3 internal"):
        model(Data(z=_water().z, pos=_water().pos.float()))
    assert isinstance(model.hessian_head, HessianHead)
    assert model.symmetry_class == "symmetry-breaking"
    assert build("painn").symmetry_class == "equivariant"
    for name in ("painn+noise", "painn+mlp", "egnn+mlp"):
        m = build(name, variant="hessian", mode_rank=2, **SMALL)
        assert m(Data(z=_water().z, pos=_water().pos.float())).shape == (3, 3)


def _fit(name, task, targets, normalize, steps=60, seed=0):
    import sbbench.datasets as sd
    from sbbench.metrics import sbmse_batch

    rank = {"bend": 0, "sym": 1, "asym": 2}[task]
    ds = sd.load("h2o_modes", task=task, targets=targets)
    batch = next(iter(DataLoader(ds, batch_size=len(ds))))
    ops_batch = torch.repeat_interleave(torch.arange(len(ds)), batch.num_ops)
    torch.manual_seed(seed)
    model = build(name, variant="hessian", mode_rank=rank, normalize=normalize, **SMALL)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def score():
        return sbmse_batch(
            model(batch), batch.y, batch.sym_ops, batch.sym_perms, batch.batch, ops_batch
        )

    for _ in range(steps):
        opt.zero_grad()
        loss = score()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return ds, batch, model(batch), float(score())


@pytest.mark.slow  # 6-10 s each single-threaded (60 training steps with double backward)
@pytest.mark.parametrize(
    ("name", "targets", "normalize", "seed"),
    [
        ("painn", "displacement", "total", 0),
        ("egnn", "displacement", "total", 1),
        ("painn", "direction", "atom", 0),
    ],
)
def test_fits_asym_below_the_equivariant_floor(name, targets, normalize, seed):
    """Seeded: not every seed learns the eigenvalue ordering (docs/reproduction.md)."""
    from sbbench.curie import curie_check

    ds, batch, pred, score = _fit(name, "asym", targets, normalize, seed=seed)
    floor = curie_check(ds).floor_sbmse
    assert floor == pytest.approx(1 / 3 if targets == "displacement" else 1.0, rel=1e-3)
    assert score < 1e-3 * floor
    # not a collapse: each atom's vector is the target's, up to the sign that C2 flips
    for b in range(2):
        p, y = pred[batch.batch == b], batch.y[batch.batch == b]
        sign = torch.sign((p * y).sum())
        assert torch.allclose(p, sign * y, atol=2e-2)
        assert float(p.norm(dim=-1).min()) > 0.05
