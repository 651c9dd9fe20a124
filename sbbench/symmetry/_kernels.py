"""Compiled inner loops of the point-group detector (numba).

Why compiled: detecting the group of a 10-atom molecule takes a few hundred tiny
steps (3x3 fits, nearest-atom searches over a handful of atoms). As numpy calls
each step costs microseconds of dispatch, and LAPACK's SVD about 5 us per 3x3
matrix, so a numpy detector spends ~2 ms per molecule mostly on overhead
(issue 4's benchmark: pymatgen takes ~3 ms). The loops below do the same work in
tens of microseconds. Every function is compiled on first use and cached on disk
(``cache=True``, next to this file), so only the first call in a fresh
installation pays the compilation (about a minute on 2 cores).

Conventions (shared with the rest of sbbench): an operation R is a (3, 3)
orthogonal matrix acting on column vectors, ``g.x = R @ x`` (``X @ R.T`` on
row-stacked points); ``perm[i] = j`` means ``R x_i ~ x_j``; points are centred,
float64 and C-contiguous, labels and classes int64.
"""

from __future__ import annotations

import logging

import numba
import numpy as np
from numba.core import event as _event

__all__ = []

jit = numba.njit(cache=True)

#: said once per process when numba starts compiling a kernel of this module
COMPILE_NOTICE = (
    "sbbench: compiling the point-group detector (numba, first use after installation: "
    "about a minute on 2 cores; cached on disk for later runs)"
)


class _CompileNotice(_event.Listener):
    """Logs :data:`COMPILE_NOTICE` (``sbbench.symmetry`` logger, WARNING, so it reaches
    stderr without any logging set up) when the first kernel of this module compiles.

    numba fires ``numba:compile`` only on a cache miss (a kernel loaded from the on-disk
    cache fires nothing), so a warm cache stays silent, at no cost to detect. This covers
    every caller (sbbench run, curie, symmetry, dataset processing, the Python API).
    """

    def __init__(self) -> None:
        self.said = False

    def on_start(self, event) -> None:
        if self.said:
            return
        dispatcher = (event.data or {}).get("dispatcher")
        if getattr(getattr(dispatcher, "py_func", None), "__module__", None) == __name__:
            self.said = True
            logging.getLogger("sbbench.symmetry").warning(COMPILE_NOTICE)

    def on_end(self, event) -> None:
        pass


compile_notice = _CompileNotice()
_event.register("numba:compile", compile_notice)


@jit
def eigh3(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric 3x3 matrix.

    Cyclic Jacobi rotations (Golub & Van Loan, Alg. 8.5.3): accurate to rounding
    also for (nearly) degenerate eigenvalues, where any orthonormal basis of the
    eigenspace is returned.
    """
    a = a.copy()
    v = np.eye(3)
    scale = abs(a[0, 0]) + abs(a[1, 1]) + abs(a[2, 2]) + abs(a[0, 1]) + abs(a[0, 2])
    scale += abs(a[1, 2])
    small = 1e-17 * scale  # off-diagonal entries below this count as zero
    for _ in range(30):  # converges quadratically: ~4 sweeps
        if abs(a[0, 1]) <= small and abs(a[0, 2]) <= small and abs(a[1, 2]) <= small:
            break
        for p, q in ((0, 1), (0, 2), (1, 2)):
            if abs(a[p, q]) <= small:
                continue
            theta = (a[q, q] - a[p, p]) / (2.0 * a[p, q])
            t = 1.0 / (abs(theta) + np.sqrt(theta * theta + 1.0))
            if theta < 0.0:
                t = -t
            c = 1.0 / np.sqrt(t * t + 1.0)
            s = t * c
            for k in range(3):  # a <- a J
                akp, akq = a[k, p], a[k, q]
                a[k, p] = c * akp - s * akq
                a[k, q] = s * akp + c * akq
            for k in range(3):  # a <- J^T a
                apk, aqk = a[p, k], a[q, k]
                a[p, k] = c * apk - s * aqk
                a[q, k] = s * apk + c * aqk
            a[p, q] = a[q, p] = 0.0  # exact in exact arithmetic
            for k in range(3):
                vkp, vkq = v[k, p], v[k, q]
                v[k, p] = c * vkp - s * vkq
                v[k, q] = s * vkp + c * vkq
    i0, i1, i2 = 0, 1, 2  # sort the three eigenvalues (no argsort: this is a hot path)
    if a[i1, i1] < a[i0, i0]:
        i0, i1 = i1, i0
    if a[i2, i2] < a[i1, i1]:
        i1, i2 = i2, i1
    if a[i1, i1] < a[i0, i0]:
        i0, i1 = i1, i0
    w = np.array([a[i0, i0], a[i1, i1], a[i2, i2]])
    vs = np.empty((3, 3))
    for k in range(3):
        vs[k, 0], vs[k, 1], vs[k, 2] = v[k, i0], v[k, i1], v[k, i2]
    return w, vs


@jit
def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


@jit
def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


@jit
def _mv(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    """m @ x for a 3x3 matrix (explicit: numba's @ calls BLAS, slow at this size)."""
    return np.array(
        [
            m[0, 0] * x[0] + m[0, 1] * x[1] + m[0, 2] * x[2],
            m[1, 0] * x[0] + m[1, 1] * x[1] + m[1, 2] * x[2],
            m[2, 0] * x[0] + m[2, 1] * x[1] + m[2, 2] * x[2],
        ]
    )


@jit
def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for 3x3 matrices."""
    out = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            out[i, j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + a[i, 2] * b[2, j]
    return out


@jit
def _det3(m: np.ndarray) -> float:
    return (
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
        - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
        + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0])
    )


@jit
def perpendicular(axis: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to the unit vector ``axis`` (deterministic)."""
    e = np.zeros(3)
    e[np.argmin(np.abs(axis))] = 1.0
    v = e - _dot(e, axis) * axis
    return v / np.sqrt(_dot(v, v))


@jit
def fit_rotation(m: np.ndarray, det: float) -> np.ndarray:
    """Orthogonal R with det(R) = ``det`` maximising tr(R^T m) (Kabsch, fixed determinant).

    ``m = sum_i y_i x_i^T`` is the cross-covariance of a fit R x_i ~ y_i. With
    m = U S V^T (U proper), R = U diag(1, 1, det * det V) V^T. V comes from the
    eigenvectors of m^T m; the left vectors from m v_1, m v_2 and their cross
    product, so a rank-2 m (planar points) needs no special case: the third
    direction is fixed by the determinant.
    """
    mtm = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            mtm[i, j] = m[0, i] * m[0, j] + m[1, i] * m[1, j] + m[2, i] * m[2, j]
    _, v = eigh3(mtm)  # ascending: v[:, 2] is the largest singular direction
    u = np.empty((3, 3))  # columns u1, u2, u3
    n1 = 0.0
    for i in range(3):
        u[i, 0] = m[i, 0] * v[0, 2] + m[i, 1] * v[1, 2] + m[i, 2] * v[2, 2]
        n1 += u[i, 0] ** 2
    if n1 == 0.0:
        return np.eye(3)
    n1 = np.sqrt(n1)
    for i in range(3):
        u[i, 0] /= n1
        u[i, 1] = m[i, 0] * v[0, 1] + m[i, 1] * v[1, 1] + m[i, 2] * v[2, 1]
    proj = u[0, 0] * u[0, 1] + u[1, 0] * u[1, 1] + u[2, 0] * u[2, 1]
    n2 = 0.0
    for i in range(3):
        u[i, 1] -= proj * u[i, 0]
        n2 += u[i, 1] ** 2
    n2 = np.sqrt(n2)
    if n2 <= 1e-12 * n1:  # rank 1 (collinear points): any perpendicular
        u[:, 1] = perpendicular(u[:, 0].copy())
    else:
        u[:, 1] /= n2
    u[:, 2] = _cross(u[:, 0], u[:, 1])
    s = det * _det3(v)  # det U = +1; columns of v are (v3, v2, v1): det V = -det v
    r = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            r[i, j] = u[i, 0] * v[j, 2] + u[i, 1] * v[j, 1] - s * u[i, 2] * v[j, 0]
    return r


@jit
def _fit_one(source, targets, perm, det, m, out):
    """Fit R x_i ~ targets[perm[i]] (det fixed) into ``out``; return max_i |R x_i - y_i|."""
    m[:] = 0.0
    for i in range(len(perm)):
        y, x = targets[perm[i]], source[i]
        for a in range(3):
            for b in range(3):
                m[a, b] += y[a] * x[b]
    out[:] = fit_rotation(m, det)
    worst = 0.0
    for i in range(len(perm)):
        y, x = targets[perm[i]], source[i]
        d2 = 0.0
        for a in range(3):
            d = out[a, 0] * x[0] + out[a, 1] * x[1] + out[a, 2] * x[2] - y[a]
            d2 += d * d
        worst = max(worst, d2)
    return np.sqrt(worst)


@jit
def fit_operations(
    source: np.ndarray, targets: np.ndarray, perms: np.ndarray, dets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fits R_k x_i ~ y_perm[k, i] (det fixed) and their worst displacements (Å).

    Returns (K, 3, 3) matrices and (K,) max_i |R_k x_i - y_perm[k, i]|.
    """
    k_all = len(perms)
    ops = np.empty((k_all, 3, 3))
    dev = np.empty(k_all)
    m = np.empty((3, 3))
    for k in range(k_all):
        dev[k] = _fit_one(source, targets, perms[k], dets[k], m, ops[k])
    return ops, dev


@jit
def distances(points: np.ndarray) -> np.ndarray:
    """(N, N) distances between the rows of ``points``."""
    n = len(points)
    d = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            diff = points[i] - points[j]
            d[i, j] = d[j, i] = np.sqrt(_dot(diff, diff))
    return d


@jit
def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@jit
def _ids_by_lowest_member(parent: np.ndarray) -> np.ndarray:
    """Component ids 0..C-1 numbered by each component's lowest index."""
    n = len(parent)
    ids = np.full(n, -1)
    root_id = np.full(n, -1)
    nxt = 0
    for i in range(n):
        r = _find(parent, i)
        if root_id[r] < 0:
            root_id[r] = nxt
            nxt += 1
        ids[i] = root_id[r]
    return ids


@jit
def close_clusters(dist: np.ndarray, labels: np.ndarray, tol: float) -> np.ndarray:
    """Cluster id per atom: same-label atoms within ``tol`` joined (transitively).

    Ids 0..C-1 numbered by lowest member; C == N when no two such atoms are close.
    """
    n = len(labels)
    parent = np.arange(n)
    for i in range(n):
        for j in range(i + 1, n):
            if labels[i] == labels[j] and dist[i, j] <= tol:
                ri, rj = _find(parent, i), _find(parent, j)
                parent[max(ri, rj)] = min(ri, rj)
    return _ids_by_lowest_member(parent)


@jit
def refine_classes(points: np.ndarray, labels: np.ndarray, tol: float, dist: np.ndarray):
    """Classes of possibly-equivalent atoms (unions of orbits) by invariant refinement.

    Colour refinement (the minimal-DFA construction of ASUN): two atoms of one class
    stay together when their radii agree to ``tol`` and, for every current class,
    their sorted distances to its members agree to 2 ``tol``; repeated until stable.
    An accepted operation changes distances by <= 2 tol and sorting is
    1-Lipschitz, so true orbits are never split. Above 32 atoms only 8 order
    statistics per class are compared (still 1-Lipschitz, cheaper).

    Returns (N,) int class ids 0..C-1, numbered by lowest member.
    """
    n = len(points)
    radius = np.sqrt((points * points).sum(1))
    big = 2.0 * dist.max() + 1.0
    cls = labels.copy()
    ncls = cls.max() + 1
    while True:
        rows = np.empty((n, n))
        for i in range(n):
            rows[i] = np.sort(dist[i] + cls * big)
        if n > 32:
            sizes = np.bincount(cls)
            starts = np.cumsum(sizes) - sizes
            keep = np.zeros(n, dtype=np.bool_)
            for c in range(ncls):
                for q in range(8):
                    keep[starts[c] + int(np.floor(q / 7.0 * (sizes[c] - 1) + 0.5))] = True
            rows = rows[:, np.flatnonzero(keep)]
        parent = np.arange(n)
        for i in range(n):
            for j in range(i + 1, n):
                if cls[i] != cls[j] or abs(radius[i] - radius[j]) > tol:
                    continue
                if np.abs(rows[i] - rows[j]).max() <= 2.0 * tol:
                    ri, rj = _find(parent, i), _find(parent, j)
                    parent[max(ri, rj)] = min(ri, rj)
        new = _ids_by_lowest_member(parent)
        new_n = new.max() + 1
        if new_n == ncls:
            return new
        cls, ncls = new, new_n


@jit
def frame(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Orthonormal frame (columns e1, e2, e3) from two non-collinear vectors."""
    e1 = x1 / np.sqrt(_dot(x1, x1))
    w = x2 - _dot(x2, e1) * e1
    e2 = w / np.sqrt(_dot(w, w))
    out = np.empty((3, 3))
    out[:, 0], out[:, 1], out[:, 2] = e1, e2, _cross(e1, e2)
    return out


@jit
def choose_reference(points: np.ndarray, cls: np.ndarray, tol: float, dist: np.ndarray):
    """Reference atoms (a, b) for frame matching, minimising the number of candidates.

    ``a``: among the (up to three) smallest classes with a member at >= half the
    largest radius, its farthest member; ``b``: far from the line through ``a``
    (>= half the largest such distance) with the fewest same-class atoms at the
    same distance from ``a``. Returns (a, b); (-1, -1) if every point is on a line.
    """
    n = len(points)
    radius = np.sqrt((points * points).sum(1))
    sizes = np.bincount(cls)
    rmax = radius.max()
    # atoms by (class size, -radius, index)
    order = np.argsort(-radius, kind="mergesort")
    order = order[np.argsort(sizes[cls[order]], kind="mergesort")]
    seen = np.zeros(len(sizes), dtype=np.bool_)
    nseen = 0
    best_cost, best_a, best_b = -1, -1, -1
    for a in order:
        if radius[a] < 0.5 * rmax or seen[cls[a]]:
            continue
        seen[cls[a]] = True
        nseen += 1
        u = points[a] / radius[a]
        rho = np.empty(n)
        for i in range(n):
            perp = points[i] - _dot(points[i], u) * u
            rho[i] = np.sqrt(_dot(perp, perp))
        if rho.max() <= 1e-9 * rmax:
            continue  # every atom on the line through a: no frame from this a
        b, b_score = -1, 0
        for j in range(n):
            if rho[j] < 0.5 * rho.max():
                continue
            nb = 0
            for k in range(n):
                if cls[k] == cls[j] and abs(dist[a, j] - dist[a, k]) <= 2.0 * tol:
                    nb += 1
            if b < 0 or nb < b_score or (nb == b_score and rho[j] > rho[b]):
                b, b_score = j, nb
        cost = sizes[cls[a]] * b_score
        if best_a < 0 or cost < best_cost:
            best_cost, best_a, best_b = cost, a, b
        if nseen >= 3:
            break
    return best_a, best_b


@jit
def candidate_operations(points: np.ndarray, cls: np.ndarray, tol: float, dist: np.ndarray):
    """Frame matches (a, b) -> (a', b'): proper and improper candidates (2K, 3, 3), dets.

    An operation maps the reference pair (a, b) onto a pair of the same classes at
    the same distance, which fixes it up to the reflection through the plane
    (0, a', b'): the proper and the improper match. Every operation of the group
    is among these (an exhaustive search, no axis guessing).
    """
    a, b = choose_reference(points, cls, tol, dist)
    ref = frame(points[a], points[b])
    n = len(points)
    pairs = []
    for i in range(n):
        if cls[i] != cls[a]:
            continue
        for j in range(n):
            if cls[j] != cls[b] or abs(dist[i, j] - dist[a, b]) > 2.0 * tol:
                continue
            c = _cross(points[i], points[j])
            if _dot(c, c) > 1e-24:
                pairs.append((i, j))
    k = len(pairs)
    cands = np.empty((2 * k, 3, 3))
    dets = np.empty(2 * k)
    for m in range(k):
        new = frame(points[pairs[m][0]], points[pairs[m][1]])
        cands[m] = _mm(new, ref.T)
        new[:, 2] = -new[:, 2]
        cands[k + m] = _mm(new, ref.T)
        dets[m], dets[k + m] = 1.0, -1.0
    return cands, dets


@jit
def _nearest_map(points, members, starts, cls, rot, loose2, near):
    """Nearest same-class atom of every mapped atom into ``near``; False if one is > loose."""
    n = len(points)
    for i in range(n):
        y = _mv(rot, points[i])
        c = cls[i]
        best, arg = np.inf, -1
        for t in range(starts[c], starts[c + 1]):
            j = members[t]
            d = y - points[j]
            d2 = _dot(d, d)
            if d2 < best:
                best, arg = d2, j
        if best > loose2:
            return False
        near[i] = arg
    return True


@jit
def verify_candidates(
    points: np.ndarray, cls: np.ndarray, cands: np.ndarray, dets: np.ndarray, tol: float
):
    """Check candidate operations against all atoms.

    For each candidate: every mapped atom must have a same-class atom within
    3 ``tol`` (the nearest one is its image) and the map must be a bijection;
    the matrix is then re-fitted to those images on all atoms (Kabsch). Accepted
    when every atom lies within ``tol`` of its image under the fit. (Re-matching
    with the fit, as in ICP, would turn wrong candidates into accepted
    non-symmetries at large ``tol``; it is not done.)

    Returns
    -------
    perms : (K, N) images (valid where status > 0).
    dev : (K,) worst displacement under the fit (Å).
    status : (K,) 0 rejected, 1 bijective (accepted iff dev <= tol), 2 the map
        is not a bijection (atoms closer than ~tol): needs an optimal assignment.
    """
    n = len(points)
    k_all = len(cands)
    members = np.argsort(cls, kind="mergesort")
    starts = np.zeros(cls.max() + 2, dtype=np.int64)
    for i in range(n):
        starts[cls[i] + 1] += 1
    starts = np.cumsum(starts)
    loose2 = (3.0 * tol) ** 2
    perms = np.zeros((k_all, n), dtype=np.int64)
    dev = np.full(k_all, np.inf)
    status = np.zeros(k_all, dtype=np.int64)
    used = np.zeros(n, dtype=np.int64)
    m, fit = np.empty((3, 3)), np.empty((3, 3))  # scratch for _fit_one
    for k in range(k_all):
        near = perms[k]
        if not _nearest_map(points, members, starts, cls, cands[k], loose2, near):
            continue
        used[:] = 0
        bijective = True
        for i in range(n):
            used[near[i]] += 1
            bijective &= used[near[i]] == 1
        if not bijective:
            status[k] = 2
            continue
        dev[k] = _fit_one(points, points, near, dets[k], m, fit)
        status[k] = 1
    return perms, dev, status


@jit
def base_atoms(points: np.ndarray) -> np.ndarray:
    """Three atoms whose images determine a point-group operation (with its determinant).

    The farthest atom from the centroid, the farthest from the line through it,
    and the farthest from the plane through both and the centroid. An isometry
    fixing the centroid is fixed by the images of three points spanning 3D; for a
    planar structure two points fix it up to the plane reflection, which the
    determinant tells apart.
    """
    r = np.sqrt((points * points).sum(1))
    a = np.argmax(r)
    u = points[a] / max(r[a], 1e-300)
    n = len(points)
    rho2 = np.empty(n)
    for i in range(n):
        perp = points[i] - _dot(points[i], u) * u
        rho2[i] = _dot(perp, perp)
    b = np.argmax(rho2)
    normal = _cross(points[a], points[b])
    height = np.empty(n)
    for i in range(n):
        height[i] = abs(_dot(points[i], normal))
    c = np.argmax(height)
    return np.array([a, b, c])


@jit
def _key(images: np.ndarray, det: float, n: int) -> int:
    """An int key per operation from the images of the 3 base atoms (among ``n``) and the
    determinant (as ``_detect.image_keys``)."""
    return ((images[0] * n + images[1]) * n + images[2]) * 2 + (1 if det < 0 else 0)


@jit
def count_distinct(perms: np.ndarray, dets: np.ndarray, base: np.ndarray) -> int:
    """Number of distinct operations among (perms, dets), told apart by ``_key``."""
    n = perms.shape[1]
    keys = np.empty(len(perms), dtype=np.int64)
    for k in range(len(perms)):
        keys[k] = _key(perms[k][base], dets[k], n)
    return len(np.unique(keys))


@jit
def close_group(perms: np.ndarray, dets: np.ndarray, base: np.ndarray, max_ops: int):
    """Close operations (permutations + determinants) under composition.

    The first element must be the identity; operations are identified by the
    images of the ``base`` atoms (a set of keys: O(1) membership, so closing a
    group of G elements costs O(G^2) products). Returns the closed set (the given
    distinct elements first, in order, then products in the order found) and its
    size; a size above ``max_ops`` means the closure was stopped there.
    """
    g_in, n = perms.shape
    cap = max_ops + 1
    out = np.empty((cap, n), dtype=np.int64)
    out_d = np.empty(cap)
    seen = set()
    count = 0
    for g in range(g_in):
        key = _key(perms[g][base], dets[g], n)
        if key in seen:
            continue
        if count == cap:
            return out, out_d, count
        out[count], out_d[count] = perms[g], dets[g]
        seen.add(key)
        count += 1
    done = 0  # products g.h with g, h < done have all been formed
    while True:
        m = count
        for g in range(m):
            for h in range(m):
                if g < done and h < done:
                    continue
                det = out_d[g] * out_d[h]
                key = _key(out[g][out[h][base]], det, n)
                if key in seen:
                    continue
                if count == cap:
                    return out, out_d, count
                out[count] = out[g][out[h]]
                out_d[count] = det
                seen.add(key)
                count += 1
        if count == m:
            return out[:count].copy(), out_d[:count].copy(), count
        done = m


@jit
def exact_group(
    points: np.ndarray, perms: np.ndarray, dets: np.ndarray, ops: np.ndarray, base: np.ndarray
) -> np.ndarray:
    """Exact matrices (G, 3, 3) for a closed group given by permutations and determinants.

    Alternates (i) x_sym = mean over g of R_g^T x_perm(g) (the projection of x on the
    structures invariant under the current matrices) and (ii) matrices = the frame
    matches of the base atoms a, b (``base_atoms``) onto their images in x_sym,
    with the determinant fixed, until the matrices change by < 1e-12 (at most 8
    rounds; typically 2-3 bring the closure error R_g R_h - R_gh from
    ~noise/size to ~1e-15). On an exactly symmetric x_sym the frame match is the
    operation itself, so the fixed point is the exact group.
    """
    g_all, n = perms.shape
    a, b = base[0], base[1]
    for _ in range(8):
        sym = np.zeros((n, 3))
        for g in range(g_all):
            for i in range(n):
                sym[i] += _mv(ops[g].T, points[perms[g, i]])
        sym /= g_all
        ref = frame(sym[a], sym[b])
        new = np.empty_like(ops)
        for g in range(g_all):
            img = frame(sym[perms[g, a]], sym[perms[g, b]])
            if dets[g] < 0:
                img[:, 2] = -img[:, 2]
            new[g] = _mm(img, ref.T)
        done = np.abs(new - ops).max() < 1e-12
        ops = new
        if done:
            break
    return ops


@jit
def operation_invariants(ops: np.ndarray, tol: float):
    """Per operation: determinant, rotation order (proper ones; 0 if not rational up to
    order G = len(ops): in a group a rotation's order divides G), unit rotation axis
    (proper), whether it is the inversion, whether a pure reflection, and its unit
    normal. ``tol`` applies to turns and matrix entries."""
    g_all = len(ops)
    dets = np.empty(g_all)
    orders = np.zeros(g_all, dtype=np.int64)
    axes = np.zeros((g_all, 3))
    inversion = np.zeros(g_all, dtype=np.bool_)
    reflection = np.zeros(g_all, dtype=np.bool_)
    normals = np.zeros((g_all, 3))
    for g in range(g_all):
        r = ops[g]
        dets[g] = _det3(r)
        tr = r[0, 0] + r[1, 1] + r[2, 2]
        if dets[g] > 0:
            cos = (tr - 1.0) / 2.0
            sx, sy, sz = r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]
            sin = 0.5 * np.sqrt(sx * sx + sy * sy + sz * sz)
            turns = np.arctan2(sin, cos) / (2.0 * np.pi)  # well conditioned at 0 and pi
            for k in range(1, g_all + 1):
                if abs(turns * k - np.round(turns * k)) < tol:
                    orders[g] = k
                    break
            _, vecs = eigh3(0.5 * (r + r.T))
            axes[g] = vecs[:, 2]
        else:
            inversion[g] = np.abs(r + np.eye(3)).max() < tol
            if abs(tr - 1.0) < tol:
                reflection[g] = True
                mm = 0.5 * (np.eye(3) - r)  # = m m^T
                col = np.argmax(np.array([mm[0, 0], mm[1, 1], mm[2, 2]]))
                normal = mm[:, col].copy()
                normals[g] = normal / np.sqrt(_dot(normal, normal))
    return dets, orders, axes, inversion, reflection, normals


@jit
def linear_operations(axis: np.ndarray, order: int) -> np.ndarray:
    """C_nv about ``axis``: rotations by 2 pi k / n, then mirror planes containing the axis
    at azimuths pi k / n from ``perpendicular(axis)`` (input-frame dependent)."""
    e1 = perpendicular(axis)
    e2 = _cross(axis, e1)
    uu = np.outer(axis, axis)
    kx = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    ops = np.empty((2 * order, 3, 3))
    for k in range(order):
        ang = 2.0 * np.pi * k / order
        ops[k] = uu + np.cos(ang) * (np.eye(3) - uu) + np.sin(ang) * kx
        m = -np.sin(ang / 2.0) * e1 + np.cos(ang / 2.0) * e2  # mirror normal
        ops[order + k] = np.eye(3) - 2.0 * np.outer(m, m)
    return ops


# Outcomes of ``detect_common``; ``_detect.detect_group`` finishes the rare ones in Python.
OK = 0  # perms, dets, ops: the exact group, sorted (identity first)
SPHERE = 1  # every point within tol/2 of the centroid: K_h
LINEAR = 2  # every point within tol/2 of a line: ops are C_nv about it, inversion unchecked
MERGE = 3  # same-label atoms closer than tol: detect on cluster centroids
ASSIGN = 4  # nearest-atom maps collide: candidates need optimal assignments (scipy)
TOO_MANY = 5  # more than max_ops operations (count returned)
SUBGROUP = 6  # products of accepted operations exceed tol: largest valid subgroup needed


@jit
def finish_group(points, perms, dets, ops, base):
    """Exact matrices (``exact_group``), sorted: identity first, then proper before
    improper, then by decreasing trace (rotation angle)."""
    ops = exact_group(points, perms, dets, ops, base)
    trace = ops[:, 0, 0] + ops[:, 1, 1] + ops[:, 2, 2]
    order = np.argsort(-trace, kind="mergesort")
    order = order[np.argsort(-dets[order], kind="mergesort")]
    first = np.flatnonzero(order == 0)[0]
    order[1 : first + 1] = order[:first].copy()
    order[0] = 0
    return perms[order], dets[order], ops[order]


@jit
def complete_group(points, perms, dets, dev, base, tol: float, max_ops: int):
    """Steps 6-7 for verified operations (without the identity).

    Identity first, then the operations by increasing deviation; closed under
    composition; re-fitted on all atoms; made exact and sorted (``finish_group``).
    Returns (code, count, perms, dets, ops) with code OK, TOO_MANY or SUBGROUP (then
    ops are the fits of the closed set).
    """
    n = len(points)
    order = np.argsort(dev, kind="mergesort")
    start = np.empty((len(order) + 1, n), dtype=np.int64)
    start_d = np.empty(len(order) + 1)
    start[0], start_d[0] = np.arange(n), 1.0
    for k in range(len(order)):
        start[k + 1], start_d[k + 1] = perms[order[k]], dets[order[k]]
    perms, dets, count = close_group(start, start_d, base, max_ops)
    if count > max_ops:
        return TOO_MANY, count, perms, dets, np.zeros((0, 3, 3))
    ops, dev_all = fit_operations(points, points, perms, dets)
    if dev_all.max() > tol:
        return SUBGROUP, count, perms, dets, ops
    perms, dets, ops = finish_group(points, perms, dets, ops, base)
    return OK, count, perms, dets, ops


@jit
def detect_common(points: np.ndarray, labels: np.ndarray, tol: float, max_ops: int, order: int):
    """The whole detection for the common cases, in one compiled call (steps 1-7).

    Returns (code, count, perms, dets, ops); see the outcome codes above. For
    LINEAR, ``ops`` are the C_nv operations of order ``order`` about the axis.
    """
    n = len(points)
    none_p, none_d, none_o = np.zeros((0, n), dtype=np.int64), np.zeros(0), np.zeros((0, 3, 3))
    cov = np.zeros((3, 3))
    rmax = 0.0
    for i in range(n):
        x = points[i]
        rmax = max(rmax, _dot(x, x))
        for a in range(3):
            for b in range(3):
                cov[a, b] += x[a] * x[b]
    if np.sqrt(rmax) <= 0.5 * tol:
        return SPHERE, 0, none_p, none_d, none_o
    _, vecs = eigh3(cov)
    axis, normal = vecs[:, 2].copy(), vecs[:, 0].copy()
    off2 = 0.0
    for i in range(n):
        perp = points[i] - _dot(points[i], axis) * axis
        off2 = max(off2, _dot(perp, perp))
    if np.sqrt(off2) <= 0.5 * tol:
        return LINEAR, 0, none_p, none_d, linear_operations(axis, order)
    dist = distances(points)
    if close_clusters(dist, labels, tol).max() < n - 1:
        return MERGE, 0, none_p, none_d, none_o
    cls = refine_classes(points, labels, tol, dist)
    sizes = np.bincount(cls)
    single = np.flatnonzero(sizes[cls] == 1)
    identity = (np.arange(n).reshape(1, n), np.ones(1), np.eye(3).reshape(1, 3, 3))
    # Every operation fixes the atoms of one-atom classes. If those are far from every
    # plane through the centroid only the identity can fix them (the common case of
    # distorted conformers); if all classes have one atom only a plane reflection can.
    if len(single) >= 3:
        fixed = np.zeros((3, 3))
        for i in single:
            for a in range(3):
                for b in range(3):
                    fixed[a, b] += points[i, a] * points[i, b]
        plane = eigh3(fixed)[1][:, 0].copy()
        for i in single:
            if abs(_dot(points[i], plane)) > tol:
                return OK, 1, identity[0], identity[1], identity[2]
    if len(single) == n:
        for i in range(n):
            if abs(_dot(points[i], normal)) > 0.5 * tol:
                return OK, 1, identity[0], identity[1], identity[2]
        ops = np.empty((2, 3, 3))
        ops[0] = np.eye(3)
        ops[1] = np.eye(3) - 2.0 * np.outer(normal, normal)
        perms = np.empty((2, n), dtype=np.int64)
        perms[0], perms[1] = np.arange(n), np.arange(n)
        return OK, 2, perms, np.array([1.0, -1.0]), ops
    base = base_atoms(points)
    cands, dets = candidate_operations(points, cls, tol, dist)
    perms, dev, status = verify_candidates(points, cls, cands, dets, tol)
    if np.any(status == 2):
        return ASSIGN, 0, none_p, none_d, none_o
    ok = np.flatnonzero((status == 1) & (dev <= tol))
    distinct = count_distinct(perms[ok], dets[ok], base)
    if distinct > max_ops:
        return TOO_MANY, distinct, none_p, none_d, none_o
    return complete_group(points, perms[ok], dets[ok], dev[ok], base, tol, max_ops)
