"""SBCD / SBM (SANN eq. 3): group properties, batched == loop, errors, ties."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbbench.metrics import chamfer, chamfer_batch, sbcd, sbcd_batch

from ._groups import GROUPS


def _random_case(rng, n, k=1):
    return rng.normal(size=(n, 3 * k)), rng.normal(size=(n, 3 * k))


def test_square_to_rectangle_hand_computed():
    """A square's two rectangles are related by the C4 rotation: SBCD is 0, CD is not."""
    rect = np.array([[1.5, 1.0, 0], [-1.5, 1.0, 0], [-1.5, -1.0, 0], [1.5, -1.0, 0]])
    other = rect[:, [1, 0, 2]]  # the rectangle rotated by 90 degrees
    ops = GROUPS["D4h"]
    assert float(sbcd(rect, other, ops)) == pytest.approx(0.0, abs=1e-20)
    # nearest squared distances are all 0.5^2 + 0.5^2 = 0.5 in both directions
    assert float(chamfer(rect, other)) == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(GROUPS)), st.integers(1, 7), st.integers(0, 2**31 - 1))
def test_group_properties(name, n, seed):
    rng = np.random.default_rng(seed)
    ops = GROUPS[name]
    pred, target = _random_case(rng, n, k=2)
    s = float(sbcd(pred, target, ops))
    assert 0 <= s <= float(chamfer(pred, target)) + 1e-12  # identity is in ops
    h = ops[rng.integers(len(ops))]
    moved = (target.reshape(n, 2, 3) @ h.T).reshape(n, 6)
    assert float(sbcd(pred, moved, ops)) == pytest.approx(s, abs=1e-9)
    assert float(sbcd(moved, moved, ops)) == 0.0


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_batched_equals_loop(dtype, tol):
    rng = np.random.default_rng(1)
    names = list(GROUPS)
    preds, targets, opss = [], [], []
    for k in range(9):  # variable cloud sizes and ragged groups in one batch
        p, t = _random_case(rng, rng.integers(1, 8))
        preds.append(torch.tensor(p, dtype=dtype))
        targets.append(torch.tensor(t, dtype=dtype))
        opss.append(torch.tensor(GROUPS[names[k % len(names)]], dtype=dtype))
    loop = torch.stack([sbcd(p, t, o) for p, t, o in zip(preds, targets, opss)])
    mean, per, idx = sbcd_batch(preds, targets, opss, return_per_sample=True, return_index=True)
    assert per.dtype == dtype
    torch.testing.assert_close(per, loop, atol=tol, rtol=tol)
    torch.testing.assert_close(mean, loop.mean(), atol=tol, rtol=tol)
    loop_idx = torch.stack(
        [sbcd(p, t, o, return_index=True)[1] for p, t, o in zip(preds, targets, opss)]
    )
    assert torch.equal(idx, loop_idx)

    # PyG-style concatenated form gives the same numbers, also with tiny memory budgets.
    batch = torch.cat([torch.full((len(p),), i) for i, p in enumerate(preds)])
    ops_batch = torch.cat([torch.full((len(o),), i) for i, o in enumerate(opss)])
    for memory_mb in (256, 1e-6):
        m2, per2 = sbcd_batch(
            torch.cat(preds),
            torch.cat(targets),
            torch.cat(opss),
            batch,
            ops_batch,
            return_per_sample=True,
            memory_mb=memory_mb,
        )
        torch.testing.assert_close(per2, loop, atol=tol, rtol=tol)

    cd_loop = torch.stack([chamfer(p, t) for p, t in zip(preds, targets)])
    _, cd_per = chamfer_batch(torch.cat(preds), torch.cat(targets), batch, return_per_sample=True)
    torch.testing.assert_close(cd_per, cd_loop, atol=tol, rtol=tol)


def test_differentiable_training_loss():
    rng = np.random.default_rng(3)
    pred = torch.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    target = torch.tensor(rng.normal(size=(5, 3)))
    ops = torch.tensor(GROUPS["C3v"])
    assert torch.autograd.gradcheck(lambda p: sbcd(p, target, ops), (pred,))
    loss = sbcd_batch([pred, pred], [target, target.flip(0)], [ops, ops[:1]])
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_ties_pick_lowest_index():
    target = np.array([[1.0, 0, 0], [-1.0, 0, 0]])
    ops = GROUPS["D4h"]  # many ops map this target onto itself
    _, i = sbcd(target, target, ops, return_index=True)
    assert int(i) == 0
    dup = np.stack([np.diag([-1.0, 1, 1]), np.eye(3), np.diag([-1.0, 1, 1])])
    _, i = sbcd(-target[:1], target[:1], dup, return_index=True)
    assert int(i) == 0


def test_errors_and_warnings():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"\(G, 3, 3\)"):
        sbcd(x, x, np.eye(3))
    with pytest.raises(ValueError, match=r"ops\[1\] is not orthogonal"):
        sbcd(x, x, np.stack([np.eye(3), 2 * np.eye(3)]))
    with pytest.raises(ValueError, match="3-vectors"):
        sbcd(np.zeros((2, 2)), np.zeros((2, 2)), np.eye(3)[None])
    with pytest.raises(ValueError, match="pred has D = 3 but target has D = 6"):
        sbcd(x, np.zeros((2, 6)), np.eye(3)[None])
    with pytest.raises(ValueError, match="empty"):
        sbcd(x, x, np.zeros((0, 3, 3)))
    with pytest.raises(ValueError, match="unknown Chamfer options"):
        sbcd(x, x, np.eye(3)[None], symetric=False)
    with pytest.warns(UserWarning, match="do not include the identity"):
        sbcd(x, x, np.diag([-1.0, 1, 1])[None])
    with pytest.raises(ValueError, match="equal length"):
        sbcd_batch([x], [x, x], [np.eye(3)[None]])
    with pytest.raises(ValueError, match="must be sorted"):
        sbcd_batch(np.zeros((2, 3)), x, np.eye(3)[None].repeat(2, 0), [1, 0], [0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sbcd(x, x, GROUPS["Oh"])  # a proper group raises no warning
