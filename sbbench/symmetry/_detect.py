"""ASUN-style point-group detection: classes -> candidate operations -> verified group.

Algorithm (SANN paper, Sec. 5 and App. B, "ASUN+"; Baker et al. 2024):

1. Centre the points at their (unweighted) centroid; every symmetry operation
   fixes it (operations are about the centroid, ``detect``'s convention).
2. **Degenerate shapes.** If every point is within tol/2 of the centroid, any
   rotation moves every point by at most tol: the group is K_h. If every point
   is within tol/2 of one line, every rotation about it is accepted: C*v or
   D*h (D*h when the inversion is accepted). Same-label atoms closer than tol
   are merged into their centroid first (which of them is an image is
   ambiguous); they are matched inside their cluster afterwards.
3. **Equivalence classes by invariants.** Start from the labels and refine:
   two atoms stay in one class when, for every current class, their sorted
   distances to its members agree to 2*tol (and their radii to tol); repeat
   until stable (colour refinement, the minimal-DFA construction of ASUN).
   An operation accepted at ``tol`` changes any distance by at most 2*tol and
   sorting is 1-Lipschitz, so a class is always a union of true orbits: the
   refinement never splits atoms that the group relates. Every operation fixes
   the atoms of one-atom classes, so if those are far from every plane through
   the centroid the group is C1 at once (most distorted conformers).
4. **Candidates.** Pick a reference atom ``a`` (small class, far from the
   centre) and ``b`` (far from the line through ``a``, with few atoms of its class
   at the same distance from ``a``). An operation maps (a, b) onto a pair
   (a', b') of the same classes at the same distance, and such a pair fixes the
   operation up to the reflection through the plane (0, a', b'). So the
   candidates are the proper and improper frame matches of all such pairs:
   about 2|G| matrices, an exhaustive search, no axis guessing.
5. **Verification**, vectorised over candidates. A screen on 8 probe atoms
   (nearest same-class atom within 3*tol, then a Procrustes fit on the probes
   with RMS <= tol, a necessary condition) discards most wrong candidates; the
   survivors map every atom to the nearest atom of its class (a k-d tree for
   large inputs), must give a bijection (an optimal assignment is the
   fallback), are refined by Procrustes on all atoms and accepted when every
   mapped atom lies within ``tol`` of its partner.
6. **Closure.** Close the accepted set under composition (by permutations; a
   hard cap of :data:`MAX_OPERATIONS` raises instead of looping). Near the
   threshold a product of two accepted operations can move an atom by up to
   2*tol; then the largest subgroup (greedy, best operations first) whose
   operations all satisfy ``tol`` is kept.
7. **Exact group.** The matrices are re-fitted on the symmetrised structure
   (mean of g^-1 . x_perm(g) over the group, iterated), so the returned
   operations form a group to ~1e-12 and are named exactly (see ``_naming``).

Behaviour near the threshold: an operation whose worst atom moves by almost
exactly ``tol`` may be accepted or rejected depending on noise at the 1e-9 Å
level and on the Procrustes refinement (which minimises the RMS, not the
maximum, displacement). Use :func:`sbbench.symmetry.detect` with several
``tol`` values (``sbbench symmetry FILE --sweep``) to see where the group changes.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ._linalg import base_atoms, cross, distances, image_keys, norm, perpendicular, procrustes

__all__ = []

#: Hard cap on the number of operations generated; more raises ValueError (never loops).
MAX_OPERATIONS = 240

#: Order n of the finite subgroup C_nv / D_nh used to represent C*v / D*h.
LINEAR_AXIS_ORDER = 8

_CHUNK = 1_000_000  # max candidates * N * N entries verified at once
_MAX_ASSIGNMENTS = 2 * MAX_OPERATIONS  # optimal-assignment fallbacks before giving up


class GroupResult:
    """Internal result: symbol, exact operations (G, 3, 3), permutations (G, N)."""

    __slots__ = ("symbol", "ops", "perms")

    def __init__(self, symbol: str, ops: np.ndarray, perms: np.ndarray):
        self.symbol = symbol
        self.ops = ops
        self.perms = perms


def _too_many(count: int, tol: float) -> ValueError:
    return ValueError(
        f"more than {MAX_OPERATIONS} symmetry operations generated at tol={tol:g} Å "
        f"({count} so far): the tolerance is too large for this structure; use a smaller tol"
    )


def refine_classes(
    points: np.ndarray, labels: np.ndarray, tol: float, dist: np.ndarray
) -> np.ndarray:
    """Classes of possibly-equivalent atoms (unions of orbits) by invariant refinement.

    Parameters
    ----------
    points : (N, 3) centred positions.
    labels : (N,) int labels 0..L-1.
    tol : acceptance distance in Å.
    dist : (N, N) interatomic distances (``distances(points)``).

    Returns
    -------
    (N,) int class ids 0..C-1.
    """
    n = len(points)
    radius2 = 2.0 * norm(points)
    big = 2.0 * float(dist.max()) + 1.0
    cls = labels
    ncls = int(cls.max()) + 1
    while True:
        rows = np.sort(dist + cls[None, :] * big, axis=1)
        if n > 32:  # keep <= 8 order statistics per class (still 1-Lipschitz): cheaper compares
            sizes = np.bincount(cls)
            starts = np.cumsum(sizes) - sizes
            frac = np.linspace(0.0, 1.0, 8)
            cols = starts[:, None] + np.round(frac[None, :] * (sizes[:, None] - 1)).astype(int)
            rows = rows[:, np.unique(cols)]
        pi, pj = np.nonzero(np.triu(cls[:, None] == cls[None, :], 1))
        close = np.abs(rows[pi] - rows[pj]).max(axis=1, initial=0.0) <= 2.0 * tol
        close &= np.abs(radius2[pi] - radius2[pj]) <= 2.0 * tol
        new_cls = _components(n, pi[close], pj[close])
        new_n = int(new_cls.max()) + 1
        if new_n == ncls:
            return new_cls
        cls, ncls = new_cls, new_n


def _components(n: int, pi: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """Connected components (ids 0..C-1 by lowest member) of the graph with edges (pi, pj)."""
    comp = np.arange(n)
    while True:
        low = np.minimum(comp[pi], comp[pj])
        new = comp.copy()
        np.minimum.at(new, pi, low)
        np.minimum.at(new, pj, low)
        new = new[new]  # pointer jumping
        if np.array_equal(new, comp):
            break
        comp = new
    _, ids = np.unique(comp, return_inverse=True)
    return ids.reshape(n)


def _choose_reference(
    points: np.ndarray, cls: np.ndarray, tol: float, dist: np.ndarray
) -> tuple[int, int, int]:
    """Reference atoms (a, b) for frame matching, minimising the number of candidates."""
    radius = norm(points)
    sizes = np.bincount(cls)
    eligible = radius >= 0.5 * radius.max()  # long lever arms: well-conditioned frames
    # classes with an eligible member, smallest first, then farthest from the centre
    order = np.lexsort((-radius, sizes[cls]))
    seen: set[int] = set()
    best = None
    for a in order:
        if not eligible[a] or cls[a] in seen:
            continue
        seen.add(int(cls[a]))
        u = points[a] / radius[a]
        rho = norm(points - np.outer(points @ u, u))
        ok = rho >= 0.5 * rho.max()
        if rho.max() <= 1e-9 * radius.max():
            continue
        same_shell = (cls[:, None] == cls[None, :]) & (
            np.abs(dist[a][:, None] - dist[a][None, :]) <= 2.0 * tol
        )
        nb = same_shell.sum(axis=1)
        score = np.where(ok, nb, np.iinfo(np.int64).max)
        b = int(np.lexsort((-rho, score))[0])
        cost = int(sizes[cls[a]] * nb[b])
        if best is None or cost < best[0]:
            best = (cost, int(a), b)
        if len(seen) >= 3:
            break
    if best is None:  # pragma: no cover - excluded by the collinearity test in detect_group
        raise ValueError("internal error: no non-collinear reference atoms")
    return best[1], best[2], best[0]


def _frames(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(K, 3, 3) orthonormal frames (columns e1, e2, e3) from pairs of non-collinear vectors."""
    e1 = x1 / norm(x1)[..., None]
    w = x2 - (x2 * e1).sum(-1, keepdims=True) * e1
    e2 = w / norm(w)[..., None]
    return np.stack([e1, e2, cross(e1, e2)], axis=-1)


def _candidate_ops(
    points: np.ndarray, cls: np.ndarray, tol: float, dist: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Frame matches (a, b) -> (a', b'): proper and improper candidates (2K, 3, 3), dets."""
    a, b, _ = _choose_reference(points, cls, tol, dist)
    aa = np.flatnonzero(cls == cls[a])
    bb = np.flatnonzero(cls == cls[b])
    ia, ib = np.nonzero(np.abs(dist[np.ix_(aa, bb)] - dist[a, b]) <= 2.0 * tol)
    ia, ib = aa[ia], bb[ib]
    keep = (cross(points[ia], points[ib]) ** 2).sum(-1) > 1e-24
    f_new = _frames(points[ia[keep]], points[ib[keep]])
    f_ref = _frames(points[a][None], points[b][None])[0]
    proper = f_new @ f_ref.T
    improper = (f_new * np.array([1.0, 1.0, -1.0])) @ f_ref.T
    dets = np.repeat([1.0, -1.0], len(proper))
    return np.concatenate([proper, improper]), dets


def _verify(
    points: np.ndarray,
    cls: np.ndarray,
    cands: np.ndarray,
    dets: np.ndarray,
    base: np.ndarray,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accepted candidates: permutations (K, N), determinants (K,), max deviations (K,).

    Candidates are first screened on a few probe atoms (the base atoms and the
    farthest ones), then checked on all atoms, in chunks; more than
    :data:`MAX_OPERATIONS` distinct accepted operations raise at once.
    """
    n = len(points)
    r2 = (points**2).sum(-1)
    penalty = np.where(cls[:, None] == cls[None, :], 0.0, np.inf)
    loose2 = (3.0 * tol) ** 2
    if n > 8:  # cheap screen on 8 probe atoms
        probes = np.unique(np.concatenate([base, np.argsort(-r2)[:8]]))[:8]
        # Necessary condition: the Procrustes fit on the probes alone has RMS <= tol (the
        # final fit on all atoms moves each probe by <= tol and cannot fit them better).
        keep = np.zeros(len(cands), dtype=bool)
        cands = cands.copy()
        xp = points[probes]
        pstep = max(1, _CHUNK // (len(probes) * n))
        for s in range(0, len(cands), pstep):
            sl = slice(s, s + pstep)
            mapped = np.einsum("kij,nj->kni", cands[sl], xp)
            d2 = r2[probes][None, :, None] + r2[None, None, :] - 2.0 * mapped @ points.T
            d2 += penalty[probes]
            near = np.argmin(d2, axis=2)
            ok = (np.take_along_axis(d2, near[:, :, None], axis=2)[:, :, 0] <= loose2).all(1)
            if not ok.any():
                continue
            fit = procrustes(xp, points[near[ok]], dets[sl][ok])
            rms2 = ((xp @ np.swapaxes(fit, 1, 2) - points[near[ok]]) ** 2).sum(-1).mean(1)
            idx = np.flatnonzero(ok) + s
            keep[idx] = rms2 <= tol * tol
            cands[idx] = fit
        cands, dets = cands[keep], dets[keep]
    out_r, out_p, out_d = [], [], []
    step = max(1, _CHUNK // (n * n))
    arange = np.arange(n)
    seen: set[int] = set()
    assignments = 0
    tree = None
    if len(cands) * n * n > _CHUNK:  # large: nearest same-class atom by a k-d tree in 4D
        lift = float(np.abs(points).max()) * 4.0 + 10.0 * tol + 1.0  # class id as 4th coord
        tree = cKDTree(np.column_stack([points, cls * lift]))
    for s in range(0, len(cands), step):
        rot = cands[s : s + step]
        mapped = np.einsum("kij,nj->kni", rot, points)
        if tree is None:
            d2 = r2[None, :, None] + r2[None, None, :] - 2.0 * mapped @ points.T + penalty
            near = np.argmin(d2, axis=2)
            dmin = np.take_along_axis(d2, near[:, :, None], axis=2)[:, :, 0]
        else:
            query = np.concatenate(
                [mapped, np.broadcast_to(cls * lift, mapped.shape[:2])[..., None]], -1
            )
            dist, near = tree.query(query)
            dmin = dist**2
        ok = (dmin <= loose2).all(axis=1)
        if not ok.any():
            continue
        mapped, near, kdet = mapped[ok], near[ok], dets[s : s + step][ok]
        bij = (np.sort(near, axis=1) == arange).all(axis=1)
        assignments += int((~bij).sum())
        if assignments > _MAX_ASSIGNMENTS:
            raise ValueError(
                f"tol={tol:g} Å is too large for this structure: more than {_MAX_ASSIGNMENTS} "
                "candidate operations send two atoms near the same atom (atoms closer than "
                "~tol to each other); use a smaller tol"
            )
        for k in np.flatnonzero(~bij):  # atoms closer than tol: optimal assignment
            cost = ((mapped[k][:, None, :] - points[None, :, :]) ** 2).sum(-1) + penalty
            _, near[k] = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e30))
        good = (cls[near] == cls).all(axis=1)
        good &= (((mapped - points[near]) ** 2).sum(-1) <= loose2).all(axis=1)
        near, kdet = near[good], kdet[good]
        if not len(near):
            continue
        refined = procrustes(points, points[near], kdet)
        dev = norm(points @ np.swapaxes(refined, 1, 2) - points[near]).max(1)
        acc = dev <= tol
        out_r.append(kdet[acc])
        out_p.append(near[acc])
        out_d.append(dev[acc])
        seen.update(image_keys(near[acc][:, base], kdet[acc], n).tolist())
        if len(seen) > MAX_OPERATIONS:
            raise _too_many(len(seen), tol)
    if not out_r:
        return np.zeros((0, n), dtype=np.int64), np.zeros(0), np.zeros(0)
    return np.concatenate(out_p), np.concatenate(out_r), np.concatenate(out_d)


def close_group(
    perms: np.ndarray, dets: np.ndarray, base: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Close a set of operations (as permutations + determinants) under composition.

    The first element must be the identity. Operations are identified by the
    images of the ``base`` atoms (see ``base_atoms``). Returns the closed set, the
    given elements first (in order), then products in the order found. Raises
    ValueError (naming ``tol``) once more than :data:`MAX_OPERATIONS` are generated.
    """
    n = perms.shape[1]
    keys = image_keys(perms[:, base], dets, n)
    _, first = np.unique(keys, return_index=True)
    first.sort()
    perms, dets, keys = perms[first], dets[first], keys[first]
    while True:
        # key of g.h from the images perm_g[perm_h[base]] only: (G, G, 3) gathers
        pkeys = image_keys(perms[:, perms[:, base]], np.outer(dets, dets), n).ravel()
        known = np.sort(keys)
        at = np.minimum(np.searchsorted(known, pkeys), len(known) - 1)
        new = known[at] != pkeys
        if not new.any():
            return perms, dets
        _, idx = np.unique(pkeys[new], return_index=True)
        idx = np.flatnonzero(new)[np.sort(idx)]
        g, h = np.divmod(idx, len(perms))
        perms = np.concatenate([perms, perms[g[:, None], perms[h]]])
        dets = np.concatenate([dets, dets[g] * dets[h]])
        keys = np.concatenate([keys, pkeys[idx]])
        if len(perms) > MAX_OPERATIONS:
            raise _too_many(len(perms), tol)


def _table(perms: np.ndarray, dets: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Multiplication table T[g, h] = index of g.h for a closed set."""
    n = perms.shape[1]
    keys = image_keys(perms[:, base], dets, n)
    order = np.argsort(keys)
    pkeys = image_keys(perms[:, perms[:, base]], np.outer(dets, dets), n)
    return order[np.searchsorted(keys[order], pkeys)]


def matrix_table(ops: np.ndarray) -> np.ndarray:
    """Multiplication table T[g, h] = index of R_g R_h, matching matrices (exact groups)."""
    flat = ops.reshape(len(ops), 9)
    table = np.empty((len(ops), len(ops)), dtype=np.int64)
    for g, rot in enumerate(ops):
        prod = (rot @ ops).reshape(len(ops), 1, 9)
        table[g] = np.abs(prod - flat[None]).max(axis=2).argmin(axis=1)
    return table


def _subgroup_closure(table: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Indices of the subgroup generated by ``members`` (indices into ``table``)."""
    current = np.unique(np.concatenate([[0], members]))
    while True:
        nxt = np.unique(table[np.ix_(current, current)])
        if len(nxt) == len(current):
            return current
        current = nxt


def largest_valid_subgroup(make_table, dev: np.ndarray, tol: float) -> np.ndarray:
    """Indices of a subgroup whose elements all have ``dev <= tol`` (identity = index 0).

    Greedy: elements are tried from the best-fitting one; an element is kept when
    the subgroup generated with it still has every element within ``tol``. If
    all elements pass this is the whole group. ``make_table()`` returns the
    multiplication table (only called when needed).
    """
    ok = dev <= tol
    if ok.all():
        return np.arange(len(dev))
    table = make_table()
    keep = np.array([0])
    for g in np.argsort(dev, kind="stable"):
        if not ok[g] or g in keep:
            continue
        trial = _subgroup_closure(table, np.append(keep, g))
        if ok[trial].all():
            keep = trial
    return keep


def largest_subgroup(ops, deviations, tol: float) -> np.ndarray:
    """Indices of the largest subgroup of ``ops`` whose ``deviations`` are all ``<= tol``.

    ``ops`` (G, 3, 3) is a closed point group, identity first (float32 copies such as a
    dataset's ``sym_ops`` work); ``deviations`` (G,) says how badly each operation
    fails to preserve something (a target field, say). Filtering ``deviations <= tol``
    alone can keep a set that is not a group near the threshold; this returns a
    subgroup, by the greedy best-first rule of :func:`detect`. Sorted indices,
    starting with 0.

    ``deviations`` and ``tol`` share one unit, that of the preserved quantity (Å for
    positions, e·bohr for Hirshfeld dipoles; :func:`sbbench.curie.sample_check` uses
    the target's own unit).

    Raises
    ------
    ValueError
        If ``ops`` is not (G, 3, 3), ``deviations`` is not (G,), or ``tol`` < 0.
    """
    ops = np.asarray(ops, dtype=np.float64)
    dev = np.asarray(deviations, dtype=np.float64)
    if ops.ndim != 3 or ops.shape[1:] != (3, 3) or len(ops) == 0:
        raise ValueError(f"ops must have shape (G, 3, 3) with G >= 1, got {ops.shape}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    if dev.shape != (len(ops),):
        raise ValueError(f"deviations has shape {dev.shape}, expected ({len(ops)},)")
    return np.sort(largest_valid_subgroup(lambda: matrix_table(ops), dev, tol))


def exact_group(
    points: np.ndarray, perms: np.ndarray, dets: np.ndarray, ops: np.ndarray, max_iter: int = 6
) -> np.ndarray:
    """Exact matrices (G, 3, 3) for a closed group given by permutations and determinants.

    Starting from ``ops`` (Procrustes fits of x -> x_perm), alternates (i)
    x_sym = mean over g of g^-1 . x_perm(g) (the projection of x on the
    structures invariant under the current matrices) and (ii) matrices =
    Procrustes fits of x_sym -> x_sym_perm (determinant fixed), until the
    matrices change by < 1e-12. One or two rounds bring the closure error
    R_g R_h - R_gh from ~noise/size to ~1e-14 (measured on CH4, benzene, C60 with
    0.01 Å noise).
    """
    if len(perms) == 1:
        return np.eye(3)[None]
    for _ in range(max_iter):
        sym = np.einsum("gni,gij->nj", points[perms], ops) / len(perms)
        new = procrustes(sym, sym[perms], dets)
        done = np.abs(new - ops).max() < 1e-12
        ops = new
        if done:
            break
    return ops


def _linear(points: np.ndarray, labels: np.ndarray, axis: np.ndarray, tol: float) -> GroupResult:
    """C*v or D*h, represented by C_nv / D_nh with n = LINEAR_AXIS_ORDER.

    The rotations are by 2 pi k / n about the axis; the mirror planes contain the
    axis at azimuths pi k / n from a fixed perpendicular direction (see
    ``perpendicular``, input-frame dependent). D_nh (n even) adds their products
    with the inversion.
    """
    n = LINEAR_AXIS_ORDER
    e1 = perpendicular(axis)
    e2 = cross(axis, e1)
    ang = 2.0 * np.pi * np.arange(n) / n
    uu = np.outer(axis, axis)
    kx = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    rots = uu + np.cos(ang)[:, None, None] * (np.eye(3) - uu) + np.sin(ang)[:, None, None] * kx
    m = -np.sin(ang / 2)[:, None] * e1 + np.cos(ang / 2)[:, None] * e2  # mirror normals
    refl = np.eye(3) - 2.0 * m[:, :, None] * m[:, None, :]
    ops = np.concatenate([rots, refl])
    perms = np.tile(np.arange(len(points)), (2 * n, 1))
    inv = _match(points, -points, labels, tol)
    if inv is None:
        return GroupResult("C*v", ops, perms)
    ops = np.concatenate([ops, -ops])
    return GroupResult("D*h", ops, np.concatenate([perms, np.tile(inv, (2 * n, 1))]))


def _match(points: np.ndarray, mapped: np.ndarray, labels: np.ndarray, tol: float):
    """Permutation p with |mapped_i - points_p(i)| <= tol and equal labels, or None."""
    d2 = ((mapped[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    d2 = np.where(labels[:, None] == labels[None, :], d2, 1e30)
    _, cols = linear_sum_assignment(d2)
    if np.all(d2[np.arange(len(points)), cols] <= tol * tol):
        return cols
    return None


def _signed_permutation_matrices() -> np.ndarray:
    """The 48 signed permutation matrices (O_h about the coordinate axes), identity first."""
    ops = [np.eye(3)]
    for p in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[np.arange(3), p] = signs
            if not np.array_equal(m, np.eye(3)):
                ops.append(m)
    return np.array(ops)


_OH = _signed_permutation_matrices()


def _sphere(points: np.ndarray) -> GroupResult:
    """K_h, represented by O_h (the 48 signed permutation matrices of the input axes)."""
    return GroupResult("Kh", _OH.copy(), np.tile(np.arange(len(points)), (len(_OH), 1)))


def _merge_close(points: np.ndarray, labels: np.ndarray, tol: float, d: np.ndarray):
    """Merge same-label atoms closer than ``tol`` into their centroid (or None if none are).

    Which atom of such a cluster an operation maps an atom onto is ambiguous, and
    nearest-atom permutations would then not compose like the matrices. The group
    is detected on the cluster centroids (labelled by label and cluster size) and
    the atoms are matched inside clusters afterwards (``_expand_perms``).

    ``d`` are the interatomic distances. Returns (cluster id per atom, centroids (C, 3),
    int labels (C,)).
    """
    pi, pj = np.nonzero(np.triu((d <= tol) & (labels[:, None] == labels[None, :]), 1))
    if not len(pi):
        return None
    cid = _components(len(points), pi, pj)
    sizes = np.bincount(cid)
    centroids = np.zeros((len(sizes), 3))
    np.add.at(centroids, cid, points)
    centroids /= sizes[:, None]
    first = np.unique(cid, return_index=True)[1]
    _, clabels = np.unique(np.column_stack([labels[first], sizes]), axis=0, return_inverse=True)
    return cid, centroids, clabels.reshape(-1)


def _expand_perms(points: np.ndarray, cid: np.ndarray, ops: np.ndarray, cperms: np.ndarray):
    """Atom permutations from cluster permutations: optimal matching inside each cluster."""
    n = len(points)
    perms = np.empty((len(ops), n), dtype=np.int64)
    members = [np.flatnonzero(cid == c) for c in range(int(cid.max()) + 1)]
    for g, rot in enumerate(ops):
        mapped = points @ rot.T
        for c, src in enumerate(members):
            dst = members[cperms[g, c]]
            if len(src) == 1:
                perms[g, src[0]] = dst[0]
                continue
            cost = ((mapped[src][:, None, :] - points[dst][None, :, :]) ** 2).sum(-1)
            rows, cols = linear_sum_assignment(cost)
            perms[g, src[rows]] = dst[cols]
    return perms


def detect_group(points: np.ndarray, labels: np.ndarray, tol: float) -> GroupResult:
    """The point group of centred ``points`` with int ``labels`` at tolerance ``tol`` (Å)."""
    from ._naming import schoenflies

    n = len(points)
    if norm(points).max() <= 0.5 * tol:
        return _sphere(points)
    _, vecs = np.linalg.eigh(points.T @ points)
    axis = vecs[:, -1]
    if norm(points - np.outer(points @ axis, axis)).max() <= 0.5 * tol:
        return _linear(points, labels, axis, tol)
    dist = distances(points)
    merged = _merge_close(points, labels, tol, dist)
    if merged is not None:
        cid, cpoints, clabels = merged
        res = detect_group(cpoints, clabels, tol)
        return GroupResult(res.symbol, res.ops, _expand_perms(points, cid, res.ops, res.perms))

    cls = refine_classes(points, labels, tol, dist)
    sizes = np.bincount(cls)
    single = sizes[cls] == 1
    # Every operation fixes the atoms of one-atom classes. If those are far from every
    # plane through the centroid only the identity can fix them (the common case of
    # distorted conformers); if all classes have one atom only a plane reflection can.
    if single.sum() >= 3:
        normal = np.linalg.svd(points[single], full_matrices=False)[2][-1]
        if np.abs(points[single] @ normal).max() > tol:
            return GroupResult("C1", np.eye(3)[None], np.arange(n)[None])
    normal = vecs[:, 0]
    if single.all():
        if np.abs(points @ normal).max() <= 0.5 * tol:
            sigma = np.eye(3) - 2.0 * np.outer(normal, normal)
            return GroupResult("Cs", np.stack([np.eye(3), sigma]), np.tile(np.arange(n), (2, 1)))
        return GroupResult("C1", np.eye(3)[None], np.arange(n)[None])
    cands, cdets = _candidate_ops(points, cls, tol, dist)
    base = base_atoms(points)
    perms, dets, dev = _verify(points, cls, cands, cdets, base, tol)
    ident = np.arange(n)
    # identity first (always accepted), then the rest by increasing deviation
    order = np.argsort(dev, kind="stable")
    perms = np.concatenate([ident[None], perms[order]])
    dets = np.concatenate([[1.0], dets[order]])
    perms, dets = close_group(perms, dets, base, tol)
    ops = procrustes(points, points[perms], dets)
    dev_all = norm(points @ np.swapaxes(ops, 1, 2) - points[perms]).max(1)
    if np.any(dev_all > tol):
        # products of accepted operations exceed tol: keep the largest consistent subgroup
        keep = largest_valid_subgroup(lambda: _table(perms, dets, base), dev_all, tol)
        perms, dets = perms[keep], dets[keep]
        ops = procrustes(points, points[perms], dets)
    ops = exact_group(points, perms, dets, ops)
    # identity first, then proper before improper, then by rotation angle
    tr = np.trace(ops, axis1=1, axis2=2)
    order = np.lexsort((-tr, -dets))
    order = np.concatenate([[0], order[order != 0]])
    ops, perms = ops[order], perms[order]
    return GroupResult(schoenflies(ops), ops, perms)
