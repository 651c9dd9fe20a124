"""Collapse detection: spread, spread_ratio, is_collapsed, count_collapsed."""

import math

import numpy as np
import pytest
import torch

from sbbench.metrics import (
    COLLAPSE_THRESHOLD,
    chamfer,
    count_collapsed,
    is_collapsed,
    spread,
    spread_ratio,
)

SQUARE = np.array([[1.0, 1, 0], [-1, 1, 0], [-1, -1, 0], [1, -1, 0]])
RECTANGLE = np.array([[1.5, 1, 0], [-1.5, 1, 0], [-1.5, -1, 0], [1.5, -1, 0]])


def random_rotation(rng, d=3):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def test_spread_hand_computed():
    assert spread(SQUARE) == pytest.approx(math.sqrt(2))  # every vertex at distance sqrt 2
    assert spread(SQUARE + 5.0) == pytest.approx(math.sqrt(2))
    assert spread(np.array([[0.0, 0, 0], [2.0, 0, 0]])) == pytest.approx(1.0)
    assert spread(np.ones((1, 3))) == 0.0
    assert isinstance(spread(torch.tensor(SQUARE)), float)


def test_square_collapsed_onto_one_vertex():
    pred = np.repeat(SQUARE[:1], 4, axis=0)  # all four predictions on one target point
    assert float(chamfer(pred, SQUARE, symmetric=False, reduction="sum")) == 0.0  # "perfect"
    assert spread_ratio(pred, SQUARE) == 0.0
    assert is_collapsed(pred, SQUARE) is True
    # all ~0 (nearly coincident) predictions as well
    eps = 1e-3 * np.random.default_rng(0).normal(size=(4, 3))
    assert is_collapsed(eps, SQUARE) is True
    # a genuine fit is not flagged: the undeformed square vs a rectangle target
    assert spread_ratio(SQUARE, RECTANGLE) == pytest.approx(math.sqrt(2) / math.sqrt(3.25))
    assert is_collapsed(SQUARE, RECTANGLE) is False
    assert is_collapsed(RECTANGLE, RECTANGLE) is False


@pytest.mark.parametrize("seed", range(5))
def test_ratio_invariance(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 9)), 6
    pred, target = rng.normal(size=(n, d)), rng.normal(size=(n + 1, d))
    r0 = spread_ratio(pred, target)

    def transform(v):
        rot = random_rotation(rng, 3)  # acts on each 3-block
        w = (v.reshape(len(v), -1, 3) @ rot.T).reshape(v.shape)
        return w[rng.permutation(len(v))] + rng.normal(size=d) * 10

    assert spread_ratio(transform(pred), transform(target)) == pytest.approx(r0, rel=1e-10)
    # any orthogonal map of R^D, different for pred and target
    q1, q2 = random_rotation(rng, d), random_rotation(rng, d)
    assert spread_ratio(pred @ q1.T, target @ q2.T) == pytest.approx(r0, rel=1e-10)
    # and a scale of both clouds leaves the ratio unchanged
    assert spread_ratio(3 * pred, 3 * target) == pytest.approx(r0, rel=1e-12)


def test_target_without_spread():
    target = np.tile([[2.0, -1.0, 0.5]], (5, 1))
    assert math.isnan(spread_ratio(SQUARE, target))
    assert is_collapsed(SQUARE, target) is False
    assert is_collapsed(np.zeros((3, 3)), np.zeros((3, 3))) is False
    # below the relative tolerance (scaled by max|target|) still counts as no spread
    big = np.tile([[1e6, 0.0, 0.0]], (4, 1))
    big[0, 1] = 1e-8  # spread ~5e-9 <= 1e-12 * 1e6
    assert math.isnan(spread_ratio(SQUARE, big))
    big[0, 1] = 1e-4
    assert not math.isnan(spread_ratio(SQUARE, big))
    assert math.isfinite(spread_ratio(SQUARE, np.array([[0.0, 0, 0], [1e-11, 0, 0]])))


def test_threshold_boundary():
    target = np.array([[1.0, 0, 0], [-1.0, 0, 0]])  # spread exactly 1
    pred = 0.25 * target  # spread exactly 0.25
    assert spread_ratio(pred, target) == 0.25
    assert is_collapsed(pred, target, threshold=0.25) is False  # strict comparison
    assert is_collapsed(pred, target, threshold=np.nextafter(0.25, 1)) is True
    assert COLLAPSE_THRESHOLD == 0.1
    assert is_collapsed(0.1 * target, target) is False
    assert is_collapsed(0.0999 * target, target) is True
    for bad in (0, -0.1, float("nan"), float("inf"), "x"):
        with pytest.raises(ValueError, match="threshold must be"):
            is_collapsed(pred, target, threshold=bad)


def test_count_collapsed_and_array_kinds():
    rng = np.random.default_rng(1)
    targets = [rng.normal(size=(n, 3)) for n in (3, 4, 5, 6)]
    preds = [
        targets[0] + 0.1 * rng.normal(size=(3, 3)),  # good fit
        np.repeat(targets[1][2:3], 4, axis=0),  # collapsed onto a target point
        np.zeros((5, 3)),  # all zero
        torch.tensor(targets[3][::-1].copy()),  # permuted target, as torch
    ]
    assert count_collapsed(preds, targets) == 2
    assert count_collapsed(preds, targets, threshold=1e-12) == 2  # exact copies have spread 0
    assert count_collapsed(preds, targets, threshold=1.5) == 4
    assert isinstance(count_collapsed(preds, targets), int)
    t = torch.tensor(targets[1], dtype=torch.float32, requires_grad=True)
    assert is_collapsed(t[:1].expand(4, 3), t) is True
    assert isinstance(spread_ratio(t, t), float)
    with pytest.raises(ValueError, match="equal length"):
        count_collapsed(preds, targets[:3])
    with pytest.raises(ValueError, match="pred has D = 3 but target has D = 6"):
        spread_ratio(SQUARE, np.zeros((2, 6)))
    with pytest.raises(ValueError, match="pred contains NaN"):
        is_collapsed(np.full((2, 3), np.nan), SQUARE)
    with pytest.raises(ValueError, match="empty point cloud"):
        spread(np.zeros((0, 3)))
