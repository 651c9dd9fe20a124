"""Brute-force oracles for SBCD and SBMSE on detector groups of random symmetric molecules.

Each molecule is built by closing random seed atoms under a known point group
(C3, C2v, D2d, D3h, Td), then rotated and shifted at random, so the group the
detector (``sbbench.symmetry.detect``) returns is in a random frame. On those
groups, random and near-symmetric predictions are scored two ways:

* the library: ``sbcd``/``sbcd_batch`` and ``sbmse``/``sbmse_batch``;
* an oracle written here in plain Python loops that shares no code with
  ``sbbench.metrics`` (no library Chamfer, nearest neighbour, ``apply_ops`` or
  permutation handling): SBCD = min over g of CD(pred, g·y) with CD computed by a
  double loop over points, in every convention the library supports (the sbbench
  default: symmetric, mean-reduced, squared; the SANN paper's m(X, Y): one-sided,
  summed, squared; and the other combinations); SBMSE = min over every
  (operation, permutation) pair in which the permutation maps the molecule onto
  its image under the operation (found by brute force over atom pairs, or over all
  N! permutations for small molecules).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from sbbench.metrics import sbcd, sbcd_batch, sbmse, sbmse_batch
from sbbench.symmetry import detect

from ._groups import MIRROR_X, MIRROR_Z, close_group, rot_z

# --------------------------------------------------------------------------- groups

C2_X = np.diag([1.0, -1.0, -1.0])
S4_Z = rot_z(4) @ MIRROR_Z
C3_111 = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0.0]])

#: name -> (generators, special seeds: points whose orbits are smaller than the group)
GROUPS = {
    "C3": ([rot_z(3)], [np.array([0, 0, 1.3])]),
    "C2v": ([rot_z(2), MIRROR_X], [np.array([0, 0, 1.1]), np.array([0, 1.4, -0.6])]),
    "D2d": ([S4_Z, C2_X], [np.array([0, 0, 1.6]), np.array([0.9, 0.9, 0.5])]),
    "D3h": ([rot_z(3), MIRROR_Z, C2_X], [np.array([0, 0, 1.2]), np.array([1.6, 0, 0])]),
    "Td": ([S4_Z, C3_111], [np.array([0.9, 0.9, 0.9])]),
}
ORDERS = {"C3": 3, "C2v": 4, "D2d": 8, "D3h": 12, "Td": 24}
#: a single generic orbit of C3 (an equilateral triangle) has C3v: C3 needs two
MIN_GENERIC = {"C3": 2}

#: Chamfer conventions of sbbench.metrics.chamfer: (symmetric, reduction, squared)
CONVENTIONS = {
    "sbbench": dict(symmetric=True, reduction="mean", squared=True),  # default, pytorch3d
    "paper": dict(symmetric=False, reduction="sum", squared=True),  # SANN m(X, Y), chamferdist
    "symmetric-sum": dict(symmetric=True, reduction="sum", squared=True),
    "one-sided-mean": dict(symmetric=False, reduction="mean", squared=True),
    "sbbench-unsquared": dict(symmetric=True, reduction="mean", squared=False),
    "paper-unsquared": dict(symmetric=False, reduction="sum", squared=False),
}


def random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def orbit(ops, point) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for r in ops:
        p = r @ point
        if all(np.linalg.norm(p - q) > 1e-8 for q in out):
            out.append(p)
    return out


def symmetric_molecule(rng, name, n_generic=1, special=True, center=True):
    """Positions (N, 3) and labels of a random molecule with point group ``name``.

    Orbits of ``n_generic`` random seeds and of the group's special seeds, one
    element per orbit, plus an atom at the origin; then a random rotation and shift.
    """
    generators, specials = GROUPS[name]
    ops = close_group(generators)
    assert len(ops) == ORDERS[name]
    n_generic = max(n_generic, MIN_GENERIC.get(name, 0))
    seeds = [rng.normal(size=3) * 1.2 + np.sign(rng.normal(size=3)) * 0.4 for _ in range(n_generic)]
    if special:
        seeds += [s * rng.uniform(0.8, 1.2) for s in specials]
    pos, labels = ([np.zeros(3)], [6]) if center else ([], [])
    for k, s in enumerate(seeds):
        o = orbit(ops, s)
        pos += o
        labels += [(1, 7, 8, 9, 16, 17)[k % 6]] * len(o)
    pos = np.array(pos)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    if d[~np.eye(len(pos), dtype=bool)].min() < 0.8:  # a physical structure, cleanly detected
        return symmetric_molecule(rng, name, n_generic, special, center)
    q = random_rotation(rng)
    return pos @ q.T + rng.normal(size=3), np.array(labels)


def detected(rng, name, **kw):
    """(positions, labels, PointGroup) with the detector's group checked to be ``name``."""
    pos, labels = symmetric_molecule(rng, name, **kw)
    pg = detect(pos, labels, tol=0.01)
    assert pg.schoenflies == name and pg.order == ORDERS[name]
    ops = pg.operations
    assert np.allclose(ops[0], np.eye(3), atol=1e-9)
    for r in ops:  # an independent check that every operation maps the molecule onto itself
        assert np.allclose(r.T @ r, np.eye(3), atol=1e-9)
        x = pos - pos.mean(axis=0)
        moved = x @ r.T
        assert max(min(np.linalg.norm(x - m, axis=1)) for m in moved) < 1e-6
    return pos, labels, pg


# --------------------------------------------------------------------------- oracles


def act(r, v):
    """R applied to every 3-block of every row of ``v`` (N, 3k), by explicit loops."""
    out = np.empty_like(v)
    for i in range(v.shape[0]):
        for b in range(0, v.shape[1], 3):
            for a in range(3):
                out[i, b + a] = sum(r[a, c] * v[i, b + c] for c in range(3))
    return out


def naive_chamfer(x, y, *, symmetric, reduction, squared):
    """Chamfer distance by a double loop over the points (plain Python floats)."""

    def one_way(a, b):
        nearest = []
        for p in a:
            best = math.inf
            for q in b:
                d = sum((pi - qi) ** 2 for pi, qi in zip(p, q))
                best = min(best, d if squared else math.sqrt(d))
            nearest.append(best)
        return sum(nearest) / len(nearest) if reduction == "mean" else sum(nearest)

    xs, ys = x.tolist(), y.tolist()
    return one_way(xs, ys) + (one_way(ys, xs) if symmetric else 0.0)


def naive_sbcd(pred, target, ops, **convention):
    """min over g of CD(pred, g·target) and the lowest index attaining it."""
    values = [naive_chamfer(pred, act(r, target), **convention) for r in ops]
    return min(values), values


def matching_permutations(pos, labels, r, tol=1e-6, exhaustive=False):
    """Every permutation pi with labels kept and R (x_i - c) = x_pi(i) - c for all i.

    ``exhaustive`` tries all N! permutations; otherwise atoms are matched by a double
    loop over all (i, j) pairs and the product of the candidate lists is tried.
    """
    x = pos - pos.mean(axis=0)
    n = len(x)
    images = x @ r.T

    def ok(i, j):
        return labels[i] == labels[j] and np.linalg.norm(images[i] - x[j]) < tol

    if exhaustive:
        pool = itertools.permutations(range(n))
    else:
        candidates = [[j for j in range(n) if ok(i, j)] for i in range(n)]
        pool = itertools.product(*candidates)
    return [list(p) for p in pool if len(set(p)) == n and all(ok(i, p[i]) for i in range(n))]


def naive_sbmse(pred, target, pos, labels, ops, reduction="mean", exhaustive=False):
    """min over (operation, matching permutation) of sum_i |pred[pi(i)] - R y_i|^2 (/ N)."""
    n = len(target)
    values = []
    perms = []
    for r in ops:
        found = matching_permutations(pos, labels, r, exhaustive=exhaustive)
        assert len(found) == 1  # generic positions: each operation moves atoms one way
        perms.append(found[0])
        ry = act(r, target)
        for pi in found:
            total = sum(
                sum((pred[pi[i], c] - ry[i, c]) ** 2 for c in range(target.shape[1]))
                for i in range(n)
            )
            values.append(total / n if reduction == "mean" else total)
    return min(values), values, np.array(perms)


# --------------------------------------------------------------------------- cases


def predictions(rng, target, pg, kind):
    """Random, or near g·target for a random operation g (so the minimum is not at g=0).

    The near-symmetric prediction is atom-ordered as SBMSE compares it:
    pred[perm_g(i)] = R_g y_i + noise (for SBCD the order does not matter).
    """
    if kind == "random":
        return rng.normal(size=target.shape)
    g = int(rng.integers(1, pg.order))
    r = pg.operations[g]
    moved = np.concatenate([target[:, b : b + 3] @ r.T for b in range(0, target.shape[1], 3)], 1)
    pred = np.empty_like(moved)
    pred[pg.permutations[g]] = moved
    return pred + 0.05 * rng.normal(size=target.shape)


def cases(seed, k=1):
    """One molecule per group with targets (N, 3k) and two kinds of predictions."""
    rng = np.random.default_rng(seed)
    out = []
    for name in GROUPS:
        n_generic = 1 if name == "Td" else 2
        pos, labels, pg = detected(rng, name, n_generic=n_generic)
        target = rng.normal(size=(len(pos), 3 * k))
        for kind in ("random", "near-symmetric"):
            out.append((name, kind, pos, labels, pg, predictions(rng, target, pg, kind), target))
    return out


def check_index(index, values):
    """The library's argmin: the lowest index attaining the minimum (when it is clear)."""
    best = min(values)
    runner_up = min((v for v in values if v > best + 1e-9), default=math.inf)
    if runner_up - best > 1e-9:
        assert int(index) == min(i for i, v in enumerate(values) if v <= best + 1e-9)


# --------------------------------------------------------------------------- SBCD


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
@pytest.mark.parametrize("seed, k", [(0, 1), (1, 2)])
def test_sbcd_matches_bruteforce(convention, seed, k):
    kw = CONVENTIONS[convention]
    for name, kind, _, _, pg, pred, target in cases(seed, k):
        want, values = naive_sbcd(pred, target, pg.operations, **kw)
        got, index = sbcd(pred, target, pg.operations, return_index=True, **kw)
        assert float(got) == pytest.approx(want, rel=1e-10, abs=1e-12), (name, kind)
        check_index(index, values)
        # torch in, torch out, same number
        t = sbcd(torch.tensor(pred), torch.tensor(target), torch.tensor(pg.operations), **kw)
        assert float(t) == pytest.approx(want, rel=1e-10, abs=1e-12)
        if kind == "near-symmetric":  # the minimum is the operation the prediction came from
            assert want < values[0]


def test_sbcd_clouds_of_different_sizes():
    """pred and target need not have as many points: a subset of atoms vs the molecule."""
    rng = np.random.default_rng(7)
    for name in GROUPS:
        pos, _, pg = detected(rng, name, n_generic=1)
        target = rng.normal(size=(len(pos), 3))
        pred = rng.normal(size=(max(1, len(pos) // 2), 3))
        for kw in CONVENTIONS.values():
            want, values = naive_sbcd(pred, target, pg.operations, **kw)
            got, index = sbcd(pred, target, pg.operations, return_index=True, **kw)
            assert float(got) == pytest.approx(want, rel=1e-10, abs=1e-12)
            check_index(index, values)


@pytest.mark.parametrize("convention", ["sbbench", "paper", "sbbench-unsquared"])
def test_sbcd_batch_matches_bruteforce(convention):
    kw = CONVENTIONS[convention]
    samples = cases(2)
    preds = [torch.tensor(s[5]) for s in samples]
    targets = [torch.tensor(s[6]) for s in samples]
    opss = [torch.tensor(s[4].operations) for s in samples]
    oracle = [naive_sbcd(s[5], s[6], s[4].operations, **kw) for s in samples]
    want = np.array([o[0] for o in oracle])

    mean, per, idx = sbcd_batch(
        preds, targets, opss, return_per_sample=True, return_index=True, **kw
    )
    np.testing.assert_allclose(per.numpy(), want, rtol=1e-10, atol=1e-12)
    assert float(mean) == pytest.approx(want.mean(), rel=1e-10)
    for i, (_, values) in zip(idx, oracle):
        check_index(i, values)

    batch = torch.cat([torch.full((len(p),), i) for i, p in enumerate(preds)])
    ops_batch = torch.cat([torch.full((len(o),), i) for i, o in enumerate(opss)])
    for memory_mb in (32.0, 1e-6):  # one chunk, and one sample per chunk
        m2, per2 = sbcd_batch(
            torch.cat(preds),
            torch.cat(targets),
            torch.cat(opss),
            batch,
            ops_batch,
            return_per_sample=True,
            memory_mb=memory_mb,
            **kw,
        )
        np.testing.assert_allclose(per2.numpy(), want, rtol=1e-10, atol=1e-12)
        assert float(m2) == pytest.approx(want.mean(), rel=1e-10)


# --------------------------------------------------------------------------- SBMSE


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed, k", [(3, 1), (4, 2)])
def test_sbmse_matches_bruteforce(reduction, seed, k):
    for name, kind, pos, labels, pg, pred, target in cases(seed, k):
        want, values, perms = naive_sbmse(pred, target, pos, labels, pg.operations, reduction)
        # the detector's permutations are the ones found here by brute force
        np.testing.assert_array_equal(pg.permutations, perms)
        got, index = sbmse(
            pred, target, pg.operations, pg.permutations, reduction=reduction, return_index=True
        )
        assert float(got) == pytest.approx(want, rel=1e-10, abs=1e-12), (name, kind)
        check_index(index, values)
        if kind == "near-symmetric":
            assert want < values[0]


def test_sbmse_exhaustive_permutations_small_molecules():
    """Small molecules: the oracle tries all N! permutations for every operation."""
    rng = np.random.default_rng(5)
    for name in GROUPS:
        # special orbits only (C3: its two generic 3-atom orbits and no axis atom): N <= 7
        pos, labels, pg = detected(rng, name, n_generic=0, special=name != "C3")
        assert len(pos) <= 7
        target = rng.normal(size=(len(pos), 3))
        for kind in ("random", "near-symmetric"):
            pred = predictions(rng, target, pg, kind)
            want, values, perms = naive_sbmse(
                pred, target, pos, labels, pg.operations, exhaustive=True
            )
            np.testing.assert_array_equal(pg.permutations, perms)
            got, index = sbmse(pred, target, pg.operations, pg.permutations, return_index=True)
            assert float(got) == pytest.approx(want, rel=1e-10, abs=1e-12), (name, kind)
            check_index(index, values)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sbmse_batch_matches_bruteforce(reduction):
    samples = cases(6, k=2)
    oracle = [naive_sbmse(s[5], s[6], s[2], s[3], s[4].operations, reduction) for s in samples]
    want = np.array([o[0] for o in oracle])
    preds = [torch.tensor(s[5]) for s in samples]
    ys = [torch.tensor(s[6]) for s in samples]
    opss = [torch.tensor(s[4].operations) for s in samples]
    perms = [torch.tensor(o[2]) for o in oracle]

    mean, per, idx = sbmse_batch(
        preds, ys, opss, perms, reduction=reduction, return_per_sample=True, return_index=True
    )
    np.testing.assert_allclose(per.numpy(), want, rtol=1e-10, atol=1e-12)
    assert float(mean) == pytest.approx(want.mean(), rel=1e-10)
    for i, (_, values, _) in zip(idx, oracle):
        check_index(i, values)

    # PyG collation: perms flattened per sample and offset by its first atom index
    starts = np.cumsum([0] + [len(p) for p in preds])[:-1]
    flat = torch.cat([q.reshape(-1) + int(s) for q, s in zip(perms, starts)])
    batch = torch.cat([torch.full((len(p),), i) for i, p in enumerate(preds)])
    ops_batch = torch.cat([torch.full((len(o),), i) for i, o in enumerate(opss)])
    m2, per2 = sbmse_batch(
        torch.cat(preds),
        torch.cat(ys),
        torch.cat(opss),
        flat,
        batch,
        ops_batch,
        reduction=reduction,
        return_per_sample=True,
    )
    np.testing.assert_allclose(per2.numpy(), want, rtol=1e-10, atol=1e-12)
    assert float(m2) == pytest.approx(want.mean(), rel=1e-10)
