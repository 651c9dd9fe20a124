"""shapes: cube -> cube / prism / asymmetric shape (relaxed-E(3) paper, Sec. 5.1)."""

import numpy as np
import pytest
import torch

import sbbench.datasets as sd
from sbbench.datasets.shapes import cube_vertices, equivariant_optimum
from sbbench.metrics import chamfer, sbcd
from sbbench.symmetry import detect

PAPER = {"symmetric": False, "reduction": "sum"}
DEFAULT = {"symmetric": True, "reduction": "mean"}
TARGET_GROUP = {"cube": "Oh", "prism": "D4h", "asym": "C1"}


@pytest.fixture(scope="module", params=["cube", "prism", "asym"])
def shapes(request, sb_root):
    return sd.load(f"shapes:{request.param}", root=sb_root)


def test_input_is_the_oh_cube(shapes):
    assert len(shapes) == 1
    d = shapes[0]
    assert d.pos.shape == d.y.shape == (8, 3) and d.pos.dtype == torch.float32
    assert torch.allclose(d.pos.double(), torch.from_numpy(cube_vertices(1.0)), atol=1e-7)
    assert d.num_ops.item() == 48 and d.orbit.tolist() == [0] * 8
    assert detect(d.pos.numpy(), tol=0.01).schoenflies == "Oh"


def test_target_symmetry_matches_data_card(shapes):
    y = shapes[0].y.double().numpy()
    assert detect(y, tol=0.01).schoenflies == TARGET_GROUP[shapes.task]


@pytest.mark.parametrize("conv", [PAPER, DEFAULT])
def test_equivariant_optimum(shapes, conv):
    d = shapes[0]
    pos, y, ops = (t.double().numpy() for t in (d.pos, d.y, d.sym_ops))
    assert sd.equivariant_basis(pos, ops).shape[1] == 1  # alpha * r_i only
    expected = equivariant_optimum(shapes.task, **conv)
    best, _ = sd.best_equivariant_score(pos, y, ops, n_random=2, **conv)
    assert best == pytest.approx(expected, abs=1e-6)
    alphas = np.linspace(-3, 3, 241)
    assert min(float(sbcd(a * pos, y, ops, **conv)) for a in alphas) >= expected - 1e-6


def test_prism_optimum_values():
    # per point 2/3 h^2 with h = 1/2: 8 points one-sided sum = 4/3; symmetric mean = 1/3
    assert equivariant_optimum("prism", **PAPER) == pytest.approx(4 / 3)
    assert equivariant_optimum("prism", **DEFAULT) == pytest.approx(1 / 3)
    assert equivariant_optimum("cube") == 0.0
    pos = cube_vertices(1.0)
    prism = pos * [1, 1, 2]
    assert float(chamfer(4 / 3 * pos, prism, **PAPER)) == pytest.approx(4 / 3)  # attained


def test_asym_is_seeded(sb_root):
    a = sd.load("shapes:asym", root=sb_root, seed=5)
    b = sd.load("shapes:asym", root=sb_root, seed=5)
    c = sd.load("shapes:asym", root=sb_root, seed=6)
    assert torch.equal(a[0].y, b[0].y) and not torch.allclose(a[0].y, c[0].y)
    offset = (a[0].y - a[0].pos).abs().max()
    assert 0 < offset <= 0.25  # uniform in [-h/2, h/2], h = 0.5 Å


def test_rotated_prism_keeps_facts(sb_root):
    d = sd.load("shapes:prism", root=sb_root, rotate=True, seed=2)[0]
    pos, y, ops = (t.double().numpy() for t in (d.pos, d.y, d.sym_ops))
    assert not np.allclose(pos, cube_vertices(1.0), atol=1e-3)
    assert d.num_ops.item() == 48 and detect(y, tol=0.01).schoenflies == "D4h"
    assert float(sbcd(4 / 3 * pos, y, ops, **PAPER)) == pytest.approx(4 / 3, abs=1e-5)
