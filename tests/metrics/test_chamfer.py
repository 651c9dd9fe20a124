"""Chamfer distance: exact hand-computed cases, conventions of other libraries, properties."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sbbench.metrics import chamfer

# x = {(0,0), (2,0)}, y = {(0,0), (0,1), (3.5,0)}.
# squared nearest distances: x->y = [0, 2.25]; y->x = [0, 1, 2.25]
# plain nearest distances:   x->y = [0, 1.5];  y->x = [0, 1, 1.5]
X = np.array([[0.0, 0.0], [2.0, 0.0]])
Y = np.array([[0.0, 0.0], [0.0, 1.0], [3.5, 0.0]])


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        # SANN paper m(X, Y) and chamferdist's default: one-sided, summed, squared.
        ({"symmetric": False, "reduction": "sum"}, 2.25),
        # pytorch3d chamfer_distance default: per-cloud means of both directions, summed.
        ({"symmetric": True, "reduction": "mean"}, 2.25 / 2 + 3.25 / 3),
        ({"symmetric": True, "reduction": "sum"}, 5.5),
        ({"symmetric": False, "reduction": "mean"}, 1.125),
        ({"symmetric": True, "reduction": "mean", "squared": False}, 1.5 / 2 + 2.5 / 3),
        ({"symmetric": False, "reduction": "sum", "squared": False}, 1.5),
    ],
)
def test_hand_computed(kwargs, expected):
    assert float(chamfer(X, Y, **kwargs)) == pytest.approx(expected, abs=1e-12)


def test_default_is_symmetric_mean_squared():
    assert float(chamfer(X, Y)) == pytest.approx(2.25 / 2 + 3.25 / 3, abs=1e-12)


def test_reduction_none_per_point():
    dx, dy = chamfer(X, Y, reduction="none")
    np.testing.assert_allclose(dx, [0.0, 2.25])
    np.testing.assert_allclose(dy, [0.0, 1.0, 2.25])
    one = chamfer(X, Y, reduction="none", symmetric=False, squared=False)
    np.testing.assert_allclose(one, [0.0, 1.5])


def test_one_sided_is_blind_to_collapse():
    """All predictions collapsed onto one target point: one-sided CD says 0, symmetric does not."""
    target = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    collapsed = np.zeros((3, 3))
    assert float(chamfer(collapsed, target, symmetric=False)) == 0.0
    assert float(chamfer(collapsed, target)) == pytest.approx(2 / 3)


def test_returns_same_kind_and_dtype():
    assert isinstance(chamfer(X, Y), np.ndarray)
    for dtype in (torch.float32, torch.float64):
        out = chamfer(torch.tensor(X, dtype=dtype), torch.tensor(Y, dtype=dtype))
        assert isinstance(out, torch.Tensor) and out.dtype == dtype
        assert float(out) == pytest.approx(2.25 / 2 + 3.25 / 3, rel=1e-6)


@pytest.mark.parametrize("squared", [True, False])
def test_gradients_finite_at_zero_distance(squared):
    x = torch.tensor(X, requires_grad=True)
    chamfer(x, torch.tensor(X), squared=squared).backward()
    assert torch.isfinite(x.grad).all()
    assert torch.equal(x.grad, torch.zeros_like(x.grad))


def test_gradcheck():
    x = torch.tensor([[0.1, 0.2, 0.0], [1.0, -0.3, 0.5]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[0.0, 0.0, 0.0], [1.2, 0.1, 0.3], [2, 2, 2]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: chamfer(a, y), (x,))
    assert torch.autograd.gradcheck(lambda a: chamfer(a, y, squared=False), (x,))


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.zeros((0, 3)), np.zeros((2, 3)), "empty"),
        (np.zeros((2, 3)), np.zeros((2, 2)), "same point dimension"),
        (np.zeros(3), np.zeros((2, 3)), r"shape \(N, D\)"),
        (np.array([[0.0, np.nan, 0]]), np.zeros((2, 3)), "NaN or inf"),
        (
            np.zeros((2, 3)),
            np.array([[0.0, 0, 0], [np.inf, 0, 0]]),
            r"y contains NaN or inf \(first at row 1\)",
        ),
    ],
)
def test_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        chamfer(x, y)


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        chamfer(X, Y, reduction="max")


clouds = st.integers(1, 6).flatmap(
    lambda n: arrays(np.float64, (n, 3), elements=st.floats(-5, 5, allow_nan=False))
)


@settings(max_examples=60, deadline=None)
@given(clouds, clouds)
def test_properties(x, y):
    d = float(chamfer(x, y))
    assert d >= 0
    assert float(chamfer(x, x)) == 0.0
    assert d == pytest.approx(float(chamfer(y, x)), abs=1e-9)  # symmetric form is symmetric
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    # Invariance under permutations of either cloud and joint rotations/reflections.
    assert float(chamfer(x[rng.permutation(len(x))], y[::-1])) == pytest.approx(d, abs=1e-9)
    assert float(chamfer(x @ q.T, y @ q.T)) == pytest.approx(d, abs=1e-7)
