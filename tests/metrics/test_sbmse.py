"""SBMSE: brute-force oracle, group facts, batched == per sample, PyG collation, errors."""

import warnings

import numpy as np
import pytest
import torch

from sbbench.metrics import sbmse, sbmse_batch

from ._groups import GROUPS, MIRROR_X

# --------------------------------------------------------------------------- helpers


def symmetric_cloud(rng, ops, n_seeds=1, center=True):
    """Orbits of random generic seed points (plus the fixed origin): a Sym-invariant set."""
    pts = [np.zeros(3)] if center else []
    for _ in range(n_seeds):
        s = rng.normal(size=3)
        pts.extend(r @ s for r in ops)
    x = np.array(pts)
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    assert d[~np.eye(len(x), dtype=bool)].min() > 1e-3  # generic: images are distinct
    return x


def nearest_perms(ops, x):
    """perms[g, i] = j with R_g x_i = x_j, by nearest-image matching (independent of sbmse)."""
    perms = np.empty((len(ops), len(x)), dtype=np.int64)
    for g, r in enumerate(ops):
        for i in range(len(x)):
            d = np.linalg.norm(x - r @ x[i], axis=1)
            j = int(np.argmin(d))
            assert d[j] < 1e-9
            perms[g, i] = j
        assert sorted(perms[g]) == list(range(len(x)))
    return perms


def move(r, v):
    """Apply R to every 3-block of each row of v (N, 3k)."""
    n, d = v.shape
    return (v.reshape(n, d // 3, 3) @ r.T).reshape(n, d)


def oracle(pred, target, ops, perms, reduction="mean"):
    """Explicit Python loop: min over g of sum_i ||pred[perms[g, i]] - R_g y_i||^2 (/ N)."""
    n, d = target.shape
    values = []
    for g, r in enumerate(ops):
        total = 0.0
        for i in range(n):
            ry = np.concatenate([r @ target[i, b : b + 3] for b in range(0, d, 3)])
            total += float(np.sum((pred[perms[g, i]] - ry) ** 2))
        values.append(total / n if reduction == "mean" else total)
    return min(values), int(np.argmin(values))


def mse(pred, target):
    return float(np.mean(np.sum((pred - target) ** 2, axis=1)))


def case(rng, name, k=1, n_seeds=1):
    ops = GROUPS[name]
    x = symmetric_cloud(rng, ops, n_seeds)
    perms = nearest_perms(ops, x)
    return ops, perms, rng.normal(size=(len(x), 3 * k)), rng.normal(size=(len(x), 3 * k))


# --------------------------------------------------------------------------- single sample


@pytest.mark.parametrize("name", sorted(GROUPS))
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_matches_bruteforce_oracle(name, k, reduction):
    rng = np.random.default_rng([sorted(GROUPS).index(name), k, reduction == "sum"])
    ops, perms, pred, target = case(rng, name, k)
    want, want_idx = oracle(pred, target, ops, perms, reduction)
    got, idx = sbmse(pred, target, ops, perms, reduction=reduction, return_index=True)
    assert float(got) == pytest.approx(want, rel=1e-12, abs=1e-14)
    assert int(idx) == want_idx
    # a prediction near a moved target: the oracle's minimiser is that operation
    g = int(rng.integers(len(ops)))
    near = np.empty_like(target)
    near[perms[g]] = move(ops[g], target)
    near += 1e-3 * rng.normal(size=near.shape)
    want, want_idx = oracle(near, target, ops, perms, reduction)
    got, idx = sbmse(near, target, ops, perms, reduction=reduction, return_index=True)
    assert float(got) == pytest.approx(want, rel=1e-10)
    assert int(idx) == want_idx == g


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_group_facts(name):
    rng = np.random.default_rng(7)
    ops, perms, pred, target = case(rng, name, k=2)
    n = len(target)
    # the transformed target g.y (R_g y_i placed at atom perms[g, i]) scores 0 at g
    for g in range(len(ops)):
        gy = np.empty_like(target)
        gy[perms[g]] = move(ops[g], target)
        value, idx = sbmse(gy, target, ops, perms, return_index=True)
        assert float(value) == pytest.approx(0.0, abs=1e-24)
        assert int(idx) == g
        # and replacing the target by g.y leaves SBMSE unchanged (group closure)
        assert float(sbmse(pred, gy, ops, perms)) == pytest.approx(
            float(sbmse(pred, target, ops, perms)), rel=1e-10
        )
    # identity term: SBMSE <= MSE, with equality for the trivial group
    assert float(sbmse(pred, target, ops, perms)) <= mse(pred, target) + 1e-12
    assert float(sbmse(pred, target, ops[:1], perms[:1])) == pytest.approx(mse(pred, target))
    # an equivariant (Reynolds-projected) prediction: all terms equal, so SBMSE = MSE
    ybar = np.zeros_like(pred)
    for g, r in enumerate(ops):
        ybar += move(r.T, pred[perms[g]])
    ybar /= len(ops)
    for g, r in enumerate(ops):  # sanity: ybar[perms[g, i]] = R_g ybar_i
        np.testing.assert_allclose(ybar[perms[g]], move(r, ybar), atol=1e-12)
    assert float(sbmse(ybar, target, ops, perms)) == pytest.approx(mse(ybar, target), rel=1e-10)
    assert n == len(perms[0])


def test_ties_pick_lowest_index():
    target = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    perms = np.array([[0, 1], [1, 0], [1, 0]])
    ops = np.stack([np.eye(3), MIRROR_X, MIRROR_X])  # duplicated operation: exact tie
    pred = np.empty_like(target)
    pred[perms[1]] = target @ MIRROR_X.T
    value, idx = sbmse(pred, target, ops, perms, return_index=True)
    assert float(value) == 0.0 and int(idx) == 1
    _, idx = sbmse(np.zeros((2, 3)), np.zeros((2, 3)), ops, perms, return_index=True)
    assert int(idx) == 0


def test_array_kinds_and_gradcheck():
    rng = np.random.default_rng(3)
    ops, perms, pred, target = case(rng, "C3v", k=2)
    v, i = sbmse(pred, target, ops, perms, return_index=True)
    assert isinstance(v, np.ndarray) and isinstance(i, np.ndarray) and v.shape == ()
    pt = torch.tensor(pred, requires_grad=True)
    tt, ot, qt = torch.tensor(target), torch.tensor(ops), torch.tensor(perms)
    v, i = sbmse(pt, tt, ot, qt, return_index=True)
    assert isinstance(v, torch.Tensor) and v.dtype == torch.float64 and i.dtype == torch.long
    assert torch.autograd.gradcheck(lambda p: sbmse(p, tt, ot, qt), (pt,))
    assert torch.autograd.gradcheck(lambda p: sbmse(p, tt, ot, qt, reduction="sum"), (pt,))
    v32 = sbmse(pt.float(), tt.float(), ot.float(), qt)
    assert v32.dtype == torch.float32

    # batched: gradient of the mean over samples of different N and G
    rng = np.random.default_rng(4)
    cases = [case(rng, name) for name in ("C2", "D4h")]
    preds = [torch.tensor(c[2], requires_grad=True) for c in cases]
    ys = [torch.tensor(c[3]) for c in cases]
    opss = [torch.tensor(c[0]) for c in cases]
    permss = [torch.tensor(c[1]) for c in cases]
    assert torch.autograd.gradcheck(
        lambda a, b: sbmse_batch([a, b], ys, opss, permss), tuple(preds)
    )
    m = sbmse_batch(*[[c[j] for c in cases] for j in (2, 3, 0, 1)])
    assert isinstance(m, np.ndarray)


# --------------------------------------------------------------------------- batches


def make_batch(seed, names=("C1", "C2", "C3v", "D4h", "Oh", "C3v"), dtype=torch.float64):
    rng = np.random.default_rng(seed)
    samples = []
    for j, name in enumerate(names):  # different N (2..49 atoms) and G (1..48)
        ops, perms, pred, target = case(rng, name, n_seeds=1 + j % 2)
        samples.append(
            tuple(torch.tensor(a, dtype=dtype) for a in (pred, target, ops))
            + (torch.tensor(perms),)
        )
    return samples


def concatenate(samples):
    """PyG-style concatenation: perms flattened (operation, atom) and offset by first atom."""
    starts = np.cumsum([0] + [len(s[0]) for s in samples])
    pred = torch.cat([s[0] for s in samples])
    y = torch.cat([s[1] for s in samples])
    ops = torch.cat([s[2] for s in samples])
    perms = torch.cat([s[3].reshape(-1) + int(a) for s, a in zip(samples, starts)])
    batch = torch.cat([torch.full((len(s[0]),), k) for k, s in enumerate(samples)])
    ops_batch = torch.cat([torch.full((len(s[2]),), k) for k, s in enumerate(samples)])
    return pred, y, ops, perms, batch, ops_batch


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_equals_per_sample(reduction):
    samples = make_batch(11)
    loop = [sbmse(p, t, o, q, reduction=reduction, return_index=True) for p, t, o, q in samples]
    loop_v = torch.stack([v for v, _ in loop])
    loop_i = torch.stack([i for _, i in loop])
    mean, per, idx = sbmse_batch(
        *concatenate(samples), reduction=reduction, return_per_sample=True, return_index=True
    )
    torch.testing.assert_close(per, loop_v, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(mean, loop_v.mean(), rtol=1e-12, atol=1e-14)
    assert torch.equal(idx, loop_i)
    # list form == concatenated form
    lists = [list(col) for col in zip(*samples)]
    mean2, per2, idx2 = sbmse_batch(
        *lists, reduction=reduction, return_per_sample=True, return_index=True
    )
    torch.testing.assert_close(per2, per, rtol=1e-12, atol=1e-14)
    assert torch.equal(idx2, idx)
    only_mean = sbmse_batch(*lists, reduction=reduction)
    assert only_mean.dim() == 0
    _, i3 = sbmse_batch(*lists, reduction=reduction, return_index=True)
    assert torch.equal(i3, idx)


def test_batch_float32_and_near_minimisers():
    samples = make_batch(12, dtype=torch.float32)
    rng = np.random.default_rng(5)
    want = []
    moved = []
    for _, t, o, q in samples:  # predictions close to a chosen g.y
        g = int(rng.integers(len(o)))
        gy = torch.empty_like(t)
        gy[q[g]] = t @ o[g].T
        moved.append((gy + 1e-2 * torch.randn_like(gy), t, o, q))
        want.append(g)
    _, per, idx = sbmse_batch(*concatenate(moved), return_per_sample=True, return_index=True)
    assert per.dtype == torch.float32
    assert idx.tolist() == want
    loop = torch.stack([sbmse(*s) for s in moved])
    torch.testing.assert_close(per, loop, rtol=1e-5, atol=1e-7)


def test_pyg_collation_convention():
    from torch_geometric.data import Batch, Data

    class SymData(Data):
        def __inc__(self, key, value, *args, **kwargs):
            if key == "sym_perms":
                return self.num_nodes
            return super().__inc__(key, value, *args, **kwargs)

    samples = make_batch(13, names=("D4h", "C3v", "C2"))
    data = [
        SymData(
            pos=torch.zeros(len(p), 3),
            y_pred=p,
            y=t,
            sym_ops=o,
            sym_perms=q.reshape(-1),
            num_ops=len(o),
        )
        for p, t, o, q in samples
    ]
    b = Batch.from_data_list(data)
    assert b.sym_perms.dim() == 1 and b.sym_perms.max() == len(b.y) - 1  # offsets applied
    ops_batch = torch.repeat_interleave(torch.arange(b.num_graphs), b.num_ops)
    mean, per = sbmse_batch(
        b.y_pred, b.y, b.sym_ops, b.sym_perms, b.batch, ops_batch, return_per_sample=True
    )
    loop = torch.stack([sbmse(*s) for s in samples])
    torch.testing.assert_close(per, loop, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(mean, loop.mean(), rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- errors


def test_errors_single():
    x = np.zeros((3, 3))
    ops = np.stack([np.eye(3), MIRROR_X])
    perms = np.array([[0, 1, 2], [1, 0, 2]])
    with pytest.raises(ValueError, match="same shape"):
        sbmse(x, np.zeros((2, 3)), ops, perms)
    with pytest.raises(ValueError, match="same shape"):
        sbmse(x, np.zeros((3, 6)), ops, perms)
    with pytest.raises(
        ValueError, match=r"perms must have shape \(G, N\) = \(2, 3\), got \(2, 2\)"
    ):
        sbmse(x, x, ops, perms[:, :2])
    with pytest.raises(ValueError, match="3-vectors"):
        sbmse(np.zeros((3, 4)), np.zeros((3, 4)), ops, perms)
    bad = x.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"pred contains NaN or inf \(first at row 1\)"):
        sbmse(bad, x, ops, perms)
    with pytest.raises(ValueError, match="target contains NaN or inf"):
        sbmse(x, np.where(bad == bad, x, np.inf), ops, perms)
    with pytest.raises(ValueError, match="ops contains NaN or inf"):
        sbmse(x, x, np.stack([np.eye(3), np.full((3, 3), np.nan)]), perms)
    with pytest.raises(ValueError, match=r"ops\[1\] is not orthogonal"):
        sbmse(x, x, np.stack([np.eye(3), 2 * np.eye(3)]), perms)
    with pytest.raises(ValueError, match=r"\(G, 3, 3\)"):
        sbmse(x, x, np.eye(3), perms)
    with pytest.raises(
        ValueError,
        match=r"perms\[1\] \(operation 1\) is not a permutation of range\(3\): atom 0 appears 2",
    ):
        sbmse(x, x, ops, np.array([[0, 1, 2], [0, 0, 2]]))
    with pytest.raises(
        ValueError, match=r"perms\[0\] \(operation 0\) .*atom index 3 is outside range\(3\)"
    ):
        sbmse(x, x, ops, np.array([[0, 1, 3], [1, 0, 2]]))
    with pytest.raises(ValueError, match="outside range"):
        sbmse(x, x, ops, np.array([[0, 1, 2], [-1, 0, 2]]))
    with pytest.raises(ValueError, match="integer atom indices"):
        sbmse(x, x, ops, perms.astype(float))
    with pytest.raises(ValueError, match="reduction must be one of"):
        sbmse(x, x, ops, perms, reduction="none")
    with pytest.warns(UserWarning, match="do not include the identity"):
        sbmse(x, x, ops[1:], perms[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sbmse(x, x, ops, perms)  # a proper group raises no warning


def test_errors_batch():
    samples = make_batch(14, names=("C2", "C3v"))
    pred, y, ops, perms, batch, ops_batch = concatenate(samples)
    args = [pred, y, ops, perms, batch, ops_batch]

    def call(**change):
        a = dict(zip(["pred", "y", "ops", "perms", "batch", "ops_batch"], args))
        a.update(change)
        return sbmse_batch(*a.values())

    with pytest.raises(ValueError, match="pred and y must have the same shape"):
        call(y=y[:-1])
    with pytest.raises(ValueError, match=rf"pred has {len(pred)} rows but batch has"):
        call(batch=batch[:-1])
    with pytest.raises(ValueError, match=rf"ops has {len(ops)} rows but ops_batch has"):
        call(ops_batch=ops_batch[1:])
    with pytest.raises(ValueError, match=rf"perms has {len(perms) - 1} entries .*G_k\*N_k"):
        call(perms=perms[:-1])
    with pytest.raises(ValueError, match="perms must be 1-D"):
        call(perms=perms.reshape(1, -1))
    with pytest.raises(ValueError, match="3-vectors"):
        call(pred=torch.zeros(len(pred), 2), y=torch.zeros(len(pred), 2))
    with pytest.raises(ValueError, match="y contains NaN or inf"):
        call(y=torch.where(torch.arange(len(y))[:, None] == 2, torch.inf, y))
    with pytest.raises(ValueError, match=r"ops\[3\] is not orthogonal"):
        call(ops=torch.cat([ops[:3], 2 * ops[3:4], ops[4:]]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        sbmse_batch(*args, reduction="avg")
    with pytest.raises(ValueError, match="must be sorted"):
        call(batch=batch.flip(0))
    with pytest.raises(ValueError, match="sample 1 has no entries in ops_batch"):
        call(ops_batch=torch.zeros_like(ops_batch))
    # forgetting the per-sample offset: sample 1's indices fall into sample 0's atoms
    local = torch.cat([s[3].reshape(-1) for s in samples])
    n0 = len(samples[0][0])
    with pytest.raises(
        ValueError,
        match=rf"perms of sample 1, operation 0 is not a permutation of "
        rf"range\({len(samples[1][0])}\): atom index -{n0} .*offset",
    ):
        call(perms=local)
    # a duplicated atom in sample 1, operation 2
    wrong = perms.clone()
    row = len(samples[0][2]) * n0 + 2 * len(samples[1][0])  # start of (sample 1, op 2)
    wrong[row + 1] = wrong[row]
    with pytest.raises(
        ValueError, match=r"perms of sample 1, operation 2 is not a permutation .*appears 2 times"
    ):
        call(perms=wrong)
    # the list form names the sample too, with local indices
    lists = [list(col) for col in zip(*samples)]
    broken = lists[3][:1] + [lists[3][1].clone()]
    broken[1][1, 0] = broken[1][1, 1]
    with pytest.raises(ValueError, match=r"perms of sample 1, operation 1 .*appears 2 times$"):
        sbmse_batch(lists[0], lists[1], lists[2], broken)
    with pytest.raises(ValueError, match=r"perms\[1\] must have shape \(G_k, N_k\)"):
        sbmse_batch(lists[0], lists[1], lists[2], [lists[3][0], lists[3][1][:, :-1]])
    with pytest.raises(ValueError, match=r"pred\[0\] and y\[0\] must have the same shape"):
        sbmse_batch(lists[0], [lists[1][0][:-1], lists[1][1]], lists[2], lists[3])
    with pytest.raises(ValueError, match="equal length"):
        sbmse_batch(lists[0], lists[1][:1], lists[2], lists[3])
    with pytest.raises(ValueError, match="not both"):
        sbmse_batch(*lists, batch, ops_batch)
    with pytest.raises(ValueError, match="need `batch` and `ops_batch`"):
        sbmse_batch(pred, y, ops, perms)
    no_id = [o[1:] for o in lists[2]]
    no_id_perms = [q[1:] for q in lists[3]]
    with pytest.warns(UserWarning, match=r"2 sample\(s\) \(index 0, 1\) do not include"):
        sbmse_batch(lists[0], lists[1], no_id, no_id_perms)
