"""charged_particle: Lorentz-force targets from an RK4 trajectory (relaxed-E(3), Sec. 5.2)."""

import numpy as np
import pytest
import torch

import sbbench.datasets as sd
from sbbench.datasets.charged_particle import (
    B_FIELD,
    E_FIELD,
    equivariant_optimum,
    lorentz_force,
    trajectory,
)


@pytest.fixture(scope="module")
def ds(sb_root):
    return sd.load("charged_particle", root=sb_root)


def test_fields_and_sample_layout(ds):
    assert E_FIELD.tolist() == [1, 0, 0] and B_FIELD.tolist() == [0, 1, 0]
    assert len(ds) == 100
    d = ds[0]
    assert d.pos.shape == d.y.shape == d.node_vec.shape == (1, 3)
    assert d.node_attr.tolist() == [[1.0]] and d.z.tolist() == [1]
    assert d.num_ops.item() == 1 and torch.equal(d.sym_ops[0], torch.eye(3))


def test_target_is_the_lorentz_force(ds):
    for d in ds:
        v = d.node_vec[0].double()
        f = torch.tensor([1.0, 0, 0], dtype=torch.float64) + torch.linalg.cross(
            v, torch.tensor([0, 1.0, 0], dtype=torch.float64)
        )
        assert torch.allclose(d.y[0].double(), f, atol=1e-6)


def test_trajectory_obeys_work_energy_theorem_and_converges(ds):
    x = torch.cat([d.pos for d in ds]).double().numpy()
    v = torch.cat([d.node_vec for d in ds]).double().numpy()
    kinetic = 0.5 * (v**2).sum(1)
    work = (x - x[0]) @ E_FIELD  # q = m = 1; the magnetic force does no work
    assert np.allclose(kinetic - kinetic[0], work, atol=1e-8)
    assert np.abs(v - v[0]).max() > 0.5  # the particle really moves and turns
    # RK4 is 4th order: halving dt changes the end point by ~1/16 of the coarse error
    x0, v0 = x[0], v[0]
    coarse = trajectory(x0, v0, dt=0.2, n_steps=2, stride=5)[0][-1]
    fine = trajectory(x0, v0, dt=0.1, n_steps=2, stride=10)[0][-1]
    ref = trajectory(x0, v0, dt=0.0125, n_steps=2, stride=80)[0][-1]
    ratio = np.linalg.norm(coarse - ref) / np.linalg.norm(fine - ref)
    assert 12 < ratio < 20


def test_matches_the_exact_solution():
    """v0 = (0, 0.7, 0): v' = (1 - v_z, 0, v_x) gives v_x = sin t, v_z = 1 - cos t, so
    x = 1 - cos t, y = 0.7 t, z = t - sin t (cycloid drift along E x B = +z)."""
    x, v = trajectory(np.zeros(3), np.array([0.0, 0.7, 0.0]), dt=0.01, n_steps=4, stride=100)
    t = np.arange(4.0)
    assert np.allclose(x[:, 0], 1 - np.cos(t), atol=1e-9)
    assert np.allclose(x[:, 1], 0.7 * t, atol=1e-12)
    assert np.allclose(x[:, 2], t - np.sin(t), atol=1e-9)
    assert np.allclose(v[:, 0], np.sin(t), atol=1e-9)


def test_equivariant_optimum_is_perpendicular_force(ds):
    best = equivariant_optimum(ds)
    # per sample: least-squares fit of c * v to F leaves exactly |F_perp|^2
    errs = []
    for d in ds:
        v, f = d.node_vec[0].double().numpy(), d.y[0].double().numpy()
        c = np.linalg.lstsq(v[:, None], f, rcond=None)[0]
        errs.append(float(((c * v - f) ** 2).sum()))
    assert best == pytest.approx(np.mean(errs), rel=1e-6)
    assert best > 0.1  # strictly equivariant models cannot learn the fields
    assert equivariant_optimum(ds, per_component=True) == pytest.approx(best / 3)


def test_options_and_determinism(sb_root):
    a = sd.load("charged_particle", root=sb_root, n_trajectories=3, n_steps=5, seed=1)
    b = sd.load("charged_particle", root=sb_root, n_trajectories=3, n_steps=5, seed=1)
    c = sd.load("charged_particle", root=sb_root, n_trajectories=3, n_steps=5, seed=2)
    assert len(a) == 15 and [int(d.mol_id) for d in a] == [0] * 5 + [1] * 5 + [2] * 5
    assert torch.equal(a[7].y, b[7].y) and not torch.equal(a[7].y, c[7].y)
    neg = sd.load("charged_particle", root=sb_root, n_steps=3, charge=-2.0)
    v = neg[1].node_vec[0].double().numpy()
    assert np.allclose(neg[1].y[0].double().numpy(), lorentz_force(v, -2.0), atol=1e-6)
