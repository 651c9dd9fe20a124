"""The compiled building blocks of the detector against LAPACK (numpy) references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from sbbench.symmetry import _kernels as kernels


def _kabsch(source: np.ndarray, target: np.ndarray, det: float) -> np.ndarray:
    """Reference: fixed-determinant Kabsch by numpy's SVD."""
    u, _, vt = np.linalg.svd(target.T @ source)
    u[:, 2] *= det * np.sign(np.linalg.det(u) * np.linalg.det(vt))
    return u @ vt


@pytest.mark.parametrize(
    "matrix",
    [
        np.diag([1.0, 1.0, 2.0]),  # degenerate pair
        np.eye(3) * 3.0,  # triple
        np.zeros((3, 3)),
        np.diag([1.0, 1.0 + 1e-12, 2.0]) + 1e-9 * np.ones((3, 3)),  # nearly degenerate
        np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]]),
    ],
)
def test_eigh3_special_matrices(matrix):
    w, v = kernels.eigh3(matrix)
    assert np.allclose(w, np.linalg.eigvalsh(matrix), atol=1e-13)
    assert np.allclose(v.T @ v, np.eye(3), atol=1e-13)
    assert np.allclose(v @ np.diag(w) @ v.T, matrix, atol=1e-13)


def test_eigh3_random_symmetric():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = rng.normal(size=(3, 3)) * 10.0 ** rng.uniform(-3, 3)
        a = a + a.T
        w, v = kernels.eigh3(a)
        scale = np.abs(a).max()
        assert np.all(np.diff(w) >= 0), "ascending"
        assert np.allclose(w, np.linalg.eigvalsh(a), atol=1e-13 * scale)
        assert np.allclose(v @ np.diag(w) @ v.T, a, atol=1e-13 * scale)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    planar=st.booleans(),
    det=st.sampled_from([1.0, -1.0]),
    noise=st.sampled_from([0.0, 0.01, 0.3]),
)
def test_fit_rotation_matches_svd_kabsch(seed, planar, det, noise):
    """Same optimum as LAPACK's fixed-determinant Kabsch, for 3-D and planar clouds
    (rank-2 cross-covariance), proper and improper, exact and noisy targets."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(7, 3))
    if planar:
        x[:, 2] = 0.0
    true = Rotation.random(random_state=rng).as_matrix() * det
    y = x @ true.T + rng.normal(0, noise, x.shape)
    got = kernels.fit_rotation(np.ascontiguousarray(y.T @ x), det)
    ref = _kabsch(x, y, det)
    assert np.allclose(got @ got.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(got), det)
    # same least-squares residual (the optimum can be degenerate, the value is not)
    res_got = ((x @ got.T - y) ** 2).sum()
    res_ref = ((x @ ref.T - y) ** 2).sum()
    assert res_got == pytest.approx(res_ref, rel=1e-9, abs=1e-12)
    if noise == 0.0:
        assert np.allclose(got, true, atol=1e-9)


def test_fit_operations_reports_worst_displacement():
    rng = np.random.default_rng(1)
    x = np.ascontiguousarray(rng.normal(size=(6, 3)))
    perms = np.array([np.arange(6), [1, 0, 2, 3, 4, 5]], dtype=np.int64)
    ops, dev = kernels.fit_operations(x, x, perms, np.array([1.0, -1.0]))
    assert np.allclose(ops[0], np.eye(3)) and dev[0] < 1e-12
    worst = np.linalg.norm(x @ ops[1].T - x[perms[1]], axis=1).max()
    assert dev[1] == pytest.approx(worst)


def test_close_group_generates_c3v_from_two_generators():
    """A C3 rotation and one mirror of an NH3-like cloud close to all 6 operations."""
    pts = np.array([[0, 0, 0.3], [1, 0, -0.1], [-0.5, 0.866, -0.1], [-0.5, -0.866, -0.1]])
    base = kernels.base_atoms(np.ascontiguousarray(pts - pts.mean(0)))
    gens = np.array([[0, 1, 2, 3], [0, 2, 3, 1], [0, 1, 3, 2]], dtype=np.int64)
    perms, dets, count = kernels.close_group(gens, np.array([1.0, 1.0, -1.0]), base, 240)
    assert count == 6 and len(perms) == 6
    assert sorted(dets) == [-1, -1, -1, 1, 1, 1]
    assert len({tuple(p) for p in perms}) == 6
    # capped: with max_ops 4 it stops and reports more than 4
    _, _, capped = kernels.close_group(gens, np.array([1.0, 1.0, -1.0]), base, 4)
    assert capped > 4
