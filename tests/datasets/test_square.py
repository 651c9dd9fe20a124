"""square and square_order_param: geometry, symmetry facts and the equivariant optimum."""

import numpy as np
import pytest
import torch

import sbbench.datasets as sd
from sbbench.datasets.square import equivariant_optimum, square_geometry
from sbbench.metrics import chamfer, sbcd
from sbbench.symmetry import detect

PAPER = {"symmetric": False, "reduction": "sum"}  # SANN m(X, Y), below eq. 3
DEFAULT = {"symmetric": True, "reduction": "mean"}


@pytest.fixture(scope="module")
def square(sb_root):
    return sd.load("square", root=sb_root)


@pytest.fixture(scope="module")
def square_op(sb_root):
    return sd.load("square_order_param", root=sb_root)


def test_samples_shapes_units(square):
    assert len(square) == 2
    a, b = square[0], square[1]
    assert torch.equal(a.pos, b.pos)  # two identical inputs ...
    assert not torch.allclose(a.y, b.y)  # ... with different targets
    side = torch.linalg.norm(a.pos[0] - a.pos[1])
    assert torch.isclose(side, torch.tensor(1.0))  # default side 1 Å
    for d in (a, b):
        assert d.pos.dtype == d.y.dtype == torch.float32 and d.y.shape == (4, 3)
        assert d.z.tolist() == [1, 1, 1, 1]


def test_targets_are_rectangles_of_opposite_orientation(square):
    a, b = (square[i].y.double().numpy() for i in range(2))
    ext_a, ext_b = np.ptp(a, axis=0), np.ptp(b, axis=0)
    assert ext_a[0] > ext_a[1] and ext_b[1] > ext_b[0]  # long along x, along y
    assert np.allclose(ext_a[[1, 0, 2]], ext_b)
    assert detect(a, tol=1e-3).schoenflies == "D2h" == detect(b, tol=1e-3).schoenflies
    c4 = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])  # B = C4 . A as point sets
    assert float(chamfer(a @ c4.T, b)) < 1e-12


def test_input_symmetry_is_d4h(square):
    d = square[0]
    assert d.num_ops.item() == 16
    assert detect(d.pos.double().numpy(), tol=0.01).schoenflies == "D4h"
    assert d.orbit.tolist() == [0, 0, 0, 0]


def test_sbcd_resolves_the_ambiguity_cd_cannot(square):
    a, b = square[0], square[1]
    assert float(sbcd(b.y, a.y, a.sym_ops)) < 1e-10  # B is a valid outcome for sample A
    assert float(chamfer(b.y, a.y)) > 0.1


@pytest.mark.parametrize("conv, value", [(PAPER, 0.25), (DEFAULT, 0.125)])
def test_non_deforming_optimum_analytic(square, conv, value):
    assert equivariant_optimum(**conv) == pytest.approx(value)
    assert equivariant_optimum(2.0, **conv) == pytest.approx(4 * value)  # scales as side^2
    for d in square:  # the undeformed square scores exactly the optimum on both samples
        assert float(sbcd(d.pos.double(), d.y.double(), d.sym_ops.double(), **conv)) == (
            pytest.approx(value, abs=1e-6)
        )


@pytest.mark.parametrize("conv", [PAPER, DEFAULT])
def test_no_equivariant_output_beats_the_optimum(square, conv):
    d = square[0]
    pos, y, ops = (t.double().numpy() for t in (d.pos, d.y, d.sym_ops))
    basis = sd.equivariant_basis(pos, ops)
    assert basis.shape[1] == 1  # only alpha * r_i
    assert np.allclose(np.abs(basis[:, 0]), np.abs(pos.ravel()) / np.linalg.norm(pos))
    best, pred = sd.best_equivariant_score(pos, y, ops, n_random=4, **conv)
    assert best == pytest.approx(equivariant_optimum(**conv), abs=1e-6)  # float32 data
    assert np.allclose(pred, pos, atol=1e-4)  # attained without deforming the square
    alphas = np.linspace(-3, 3, 601)
    scores = [float(sbcd(a * pos, y, ops, **conv)) for a in alphas]
    assert min(scores) >= equivariant_optimum(**conv) - 1e-6


def test_a_symmetry_breaking_output_beats_it(square):
    d = square[0]
    assert float(sbcd(d.y, d.y, d.sym_ops, **PAPER)) == 0.0 < equivariant_optimum(**PAPER)


def test_rotate_option_is_deterministic_and_rotates_consistently(sb_root):
    a = sd.load("square", root=sb_root, rotate=True, seed=3)
    b = sd.load("square", root=sb_root, rotate=True, seed=3)
    c = sd.load("square", root=sb_root, rotate=True, seed=4)
    assert torch.equal(a[0].pos, b[0].pos) and torch.equal(a[1].y, b[1].y)
    assert not torch.allclose(a[0].pos, c[0].pos)
    sq, rx, _ = square_geometry()
    pos, y = a[0].pos.double().numpy(), a[0].y.double().numpy()
    # recover the rotation from the input and check the target went with it
    u, _, vt = np.linalg.svd(pos.T @ sq)
    rot = u @ vt
    assert np.allclose(sq @ rot.T, pos, atol=1e-5)
    assert np.allclose(rx @ rot.T, y, atol=1e-5)
    assert a[0].num_ops.item() == 16  # still D4h, now in the rotated frame
    for op in a[0].sym_ops.double().numpy():
        assert float(chamfer(pos @ op.T, pos)) < 1e-8


# ----------------------------------------------------------------------------- order parameter


def test_order_parameter_lowers_input_symmetry_to_target_symmetry(square_op):
    for d in square_op:
        assert d.num_ops.item() == 8
        pos, y, vec = (t.double().numpy() for t in (d.pos, d.y, d.node_vec))
        input_pg = detect(pos, tol=0.01).stabilizer(vec, tol=0.01)
        target_pg = detect(y, tol=0.01)
        assert input_pg.schoenflies == target_pg.schoenflies == "D2h"
        ops_in = {tuple(np.round(o, 6).ravel()) for o in d.sym_ops.double().numpy()}
        ops_target = {tuple(np.round(o, 6).ravel()) for o in target_pg.operations}
        assert ops_in == ops_target  # the same D2h, not just an isomorphic one


def test_order_parameter_is_b1g(square_op):
    """x^2 - y^2 is invariant under D2h and changes sign under the lost D4h ops."""
    d = square_op[0]
    q = d.order_param[0].double().numpy()
    assert np.isclose(np.trace(q), 0) and np.allclose(q, q.T)
    full = detect(d.pos.double().numpy(), tol=0.01).operations
    kept = d.sym_ops.double().numpy()
    chars = [np.sum(op @ q @ op.T * q) / np.sum(q * q) for op in full]
    assert sorted(np.round(chars).astype(int).tolist()) == [-1] * 8 + [1] * 8
    assert all(np.allclose(op @ q @ op.T, q, atol=1e-6) for op in kept)
    assert np.allclose(d.node_vec.double().numpy(), d.pos.double().numpy() @ q.T, atol=1e-6)
    assert np.allclose(square_op[1].order_param, -square_op[0].order_param)


def test_order_parameter_makes_the_task_equivariantly_learnable(square_op):
    for d in square_op:
        pos, y, vec, ops = (t.double().numpy() for t in (d.pos, d.y, d.node_vec, d.sym_ops))
        # y = r + (2 s / L) Q r with s = L / (4 sqrt 2): an equivariant function of (r, Q r)
        pred = pos + (1 / np.sqrt(8)) * vec
        assert float(sbcd(pred, y, ops, **PAPER)) < 1e-10
        best, _ = sd.best_equivariant_score(pos, y, ops, n_random=2, **PAPER)
        assert best < 1e-10


def test_rotated_order_parameter_rotates_with_the_square(sb_root):
    ds = sd.load("square_order_param", root=sb_root, rotate=True, seed=1)
    for d in ds:
        pos, y, vec, ops = (t.double().numpy() for t in (d.pos, d.y, d.node_vec, d.sym_ops))
        q = d.order_param[0].double().numpy()
        assert d.num_ops.item() == 8 and not np.allclose(q, np.diag(np.diag(q)), atol=1e-3)
        assert np.allclose(vec, pos @ q.T, atol=1e-6)
        assert float(sbcd(pos + vec / np.sqrt(8), y, ops, **PAPER)) < 1e-10
