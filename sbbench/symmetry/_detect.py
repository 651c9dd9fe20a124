"""ASUN-style point-group detection: classes -> candidate operations -> verified group.

Algorithm (SANN paper, Sec. 5 and App. B, "ASUN+"; Baker et al. 2024):

1. Centre the points at their (unweighted) centroid; every symmetry operation
   fixes it (operations are about the centroid, ``detect``'s convention).
2. **Degenerate shapes.** If every point is within tol/2 of the centroid, any
   rotation moves every point by at most tol: the group is K_h. If every point
   is within tol/2 of one line, every rotation about it is accepted: C*v or
   D*h (D*h when the inversion is accepted). Same-label atoms closer than tol
   are merged into their centroid first (which of them is an image is
   ambiguous); they are matched inside their cluster afterwards. (``detect``
   refuses atoms closer than ``MIN_DISTANCE``, 0.5 Å, unless told otherwise, so
   this matters for abstract point clouds and tolerances above 0.5 Å.)
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
5. **Verification.** Every mapped atom must have an atom of its class within
   3*tol (most wrong candidates fail on the first atoms); the nearest ones are
   the images and must form a bijection (an optimal assignment is the fallback
   when atoms are closer than ~tol); the matrix is refined by Procrustes on all
   atoms and accepted when every mapped atom lies within ``tol`` of its image.
   Far beyond sensible tolerances (e.g. tol > half the shortest bond) which
   candidates survive can depend on rounding: the result is then either a
   group or a ValueError naming ``tol``, never a hang.
6. **Closure.** Close the accepted set under composition (by permutations; more
   operations than any point group of the structure can have, see
   :func:`max_operations`, raise instead of looping). Near the
   threshold a product of two accepted operations can move an atom by up to
   2*tol; then the largest subgroup (greedy, best operations first) whose
   operations all satisfy ``tol`` is kept.
7. **Exact group.** The matrices are re-fitted on the symmetrised structure
   (mean of g^-1 . x_perm(g) over the group, iterated; frame matches of two
   base atoms), so the returned operations form a group to ~1e-12 and are
   named exactly (see ``_naming``).

Steps 2-7 run in one compiled call for the common cases (``_kernels``, numba;
as numpy calls, dispatch overhead made it ~2 ms per small molecule, no faster than
pymatgen); the rare cases (K_h, C*v/D*h, close atoms, optimal assignments,
near-threshold closures) are finished here.

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

from sbbench.errors import InputError

from . import _kernels as kernels

__all__ = []

#: Order of the largest polyhedral point group (I_h); every larger finite group is axial.
POLYHEDRAL_MAX_ORDER = 120

#: Order n of the finite subgroup C_nv / D_nh used to represent C*v / D*h (and printed
#: as e.g. ``D*h (as D8h)``, see :func:`sbbench.symmetry.group_label`).
LINEAR_AXIS_ORDER = 8


def max_operations(labels) -> int:
    """The most operations a point group of a non-linear structure with these labels can
    have: ``max(120, 4 m)``, ``m`` the number of points with the most frequent label.

    Why (finite subgroups of O(3)): a polyhedral group (T, Td, Th, O, Oh, I, Ih) has at
    most 120 operations (Ih). Every other finite group is axial, with a principal
    rotation axis of order n: Cn has n operations; Cnv, Cnh, Dn and S2n (rotation
    subgroup Cn) have 2n; Dnd and Dnh have 4n. So |G| <= 4n; for n <= 2 that is <= 8.
    For n >= 3, a structure not confined to the axis (the detector finishes linear
    ones, C*v / D*h, before this bound is used) has an atom x off it, and the
    rotations by 2 pi k / n (k = 0..n-1) send x to n distinct points, all atoms of x's
    label: n <= m, so |G| <= 4n <= 4m. Atoms on the axis and further orbits only add
    atoms; two orbits of one label (e.g. the two rings of a staggered Dnd sandwich)
    make the bound looser, not wrong. It is tight: a regular n-gon of one element is
    Dnh, 4n operations for m = n (a 100-gon: 400), and a 50 + 50 alternating ring of two
    elements is D50h, 200 = 4 x 50. The count is of operations told apart by the atoms'
    images and the determinant (the closure works on those): two operations with the same
    images differ by a map fixing every atom, the identity or (planar structures) the
    reflection through their plane, which flips the determinant; coincident same-label
    atoms, where images are ambiguous, are merged first (step 2). So the count is |G|,
    and a closure growing past the bound cannot be a point group of the structure: the
    tolerance is too large (a clear ValueError, never a long loop). This replaced a
    fixed cap of 240 operations, which refused D100h rings.
    """
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    m = int(counts.max()) if len(counts) else 0
    return max(POLYHEDRAL_MAX_ORDER, 4 * m)


class GroupResult:
    """Internal result: symbol, exact operations (G, 3, 3), permutations (G, N)."""

    __slots__ = ("symbol", "ops", "perms")

    def __init__(self, symbol: str, ops: np.ndarray, perms: np.ndarray):
        self.symbol = symbol
        self.ops = ops
        self.perms = perms


def image_keys(images: np.ndarray, dets: np.ndarray, n: int) -> np.ndarray:
    """An int64 key per operation from the images (..., 3) of the base atoms (see
    ``kernels.base_atoms``) among ``n`` atoms and the determinant; exact while n**3 < 2**62."""
    img = images.astype(np.int64)
    return ((img[..., 0] * n + img[..., 1]) * n + img[..., 2]) * 2 + (dets < 0)


def _too_many(count: int, tol: float, max_ops: int) -> InputError:
    """The error for a closure past ``max_ops`` (:func:`max_operations` of the labels)."""
    if max_ops > POLYHEDRAL_MAX_ORDER:
        why = f"4 x {max_ops // 4} atoms of its most frequent element"
    else:
        why = "120, the order of I_h; 4 x the atoms of any one element is no more"
    return InputError(
        f"more than {max_ops} symmetry operations generated at tol={tol:g} Å ({count} so far), "
        f"more than a point group of this structure can have ({why}): the tolerance is too "
        "large for this structure; use a smaller tol"
    )


def _assign(points: np.ndarray, cls: np.ndarray, rot: np.ndarray, tol: float):
    """Optimal same-class assignment of the atoms mapped by ``rot``, or None if an atom
    then lies more than 3 tol from its image (used when nearest atoms collide)."""
    mapped = points @ rot.T
    cost = ((mapped[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    cost = np.where(cls[:, None] == cls[None, :], cost, 1e30)
    _, near = linear_sum_assignment(cost)
    if np.all(cost[np.arange(len(points)), near] <= (3.0 * tol) ** 2):
        return near
    return None


def _accepted_operations(
    points: np.ndarray,
    cls: np.ndarray,
    tol: float,
    dist: np.ndarray,
    base: np.ndarray,
    max_ops: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates (step 4) verified (step 5): permutations (K, N), dets (K,), deviations (K,).

    ``max_ops`` is :func:`max_operations` of the labels; more than ``2 max_ops``
    optimal-assignment fallbacks (about 2 candidates per operation) raise."""
    cands, dets = kernels.candidate_operations(points, cls, tol, dist)
    perms, dev, status = kernels.verify_candidates(points, cls, cands, dets, tol)
    redo = np.flatnonzero(status == 2)
    if len(redo) > 2 * max_ops:
        raise InputError(
            f"tol={tol:g} Å is too large for this structure: more than {2 * max_ops} "
            "candidate operations send two atoms near the same atom (atoms closer than "
            "~tol to each other); use a smaller tol"
        )
    for k in redo:
        near = _assign(points, cls, cands[k], tol)
        if near is not None:
            perms[k], status[k] = near, 1
            dev[k] = kernels.fit_operations(points, points, perms[k : k + 1], dets[k : k + 1])[1][0]
    ok = (status == 1) & (dev <= tol)
    perms, dets, dev = perms[ok], dets[ok], dev[ok]
    distinct = kernels.count_distinct(perms, dets, base)
    if distinct > max_ops:
        raise _too_many(distinct, tol, max_ops)
    return perms, dets, dev


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


def _linear(points: np.ndarray, labels: np.ndarray, ops: np.ndarray, tol: float):
    """C*v or D*h (GroupResult) from the C_nv operations ``ops`` (``kernels.linear_operations``).

    The rotations are by 2 pi k / n about the axis; the mirror planes contain the
    axis at azimuths pi k / n from a fixed perpendicular direction (see
    ``perpendicular``, input-frame dependent). D_nh (n even) adds their products
    with the inversion.
    """
    n = LINEAR_AXIS_ORDER
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


def _merge_close(points: np.ndarray, labels: np.ndarray, cid: np.ndarray):
    """Centroids and labels of clusters of same-label atoms closer than ``tol``.

    Which atom of such a cluster an operation maps an atom onto is ambiguous, and
    nearest-atom permutations would then not compose like the matrices. The group
    is detected on the cluster centroids (labelled by label and cluster size) and
    the atoms are matched inside clusters afterwards (``_expand_perms``).

    ``cid`` is the cluster id per atom (``kernels.close_clusters``). Returns
    (centroids (C, 3), int labels (C,)).
    """
    sizes = np.bincount(cid)
    centroids = np.zeros((len(sizes), 3))
    np.add.at(centroids, cid, points)
    centroids /= sizes[:, None]
    first = np.unique(cid, return_index=True)[1]
    _, clabels = np.unique(np.column_stack([labels[first], sizes]), axis=0, return_inverse=True)
    return centroids, clabels.reshape(-1)


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


def _detect_merged(points: np.ndarray, labels: np.ndarray, tol: float) -> GroupResult:
    """The group of a structure with same-label atoms closer than ``tol`` (see ``_merge_close``)."""
    cid = kernels.close_clusters(kernels.distances(points), labels, tol)
    cpoints, clabels = _merge_close(points, labels, cid)
    res = detect_group(cpoints, clabels, tol)
    return GroupResult(res.symbol, res.ops, _expand_perms(points, cid, res.ops, res.perms))


def detect_group(points: np.ndarray, labels: np.ndarray, tol: float) -> GroupResult:
    """The point group of centred ``points`` with int ``labels`` at tolerance ``tol`` (Å).

    One compiled call (``kernels.detect_common``) does the common cases; the
    degenerate shapes, close atoms, colliding nearest-atom maps and near-threshold
    closures are finished here.
    """
    from ._naming import schoenflies

    points = np.ascontiguousarray(points, dtype=np.float64)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    max_ops = max_operations(labels)
    code, count, perms, dets, ops = kernels.detect_common(
        points, labels, tol, max_ops, LINEAR_AXIS_ORDER
    )
    if code == kernels.SPHERE:
        return _sphere(points)
    if code == kernels.LINEAR:
        return _linear(points, labels, ops, tol)
    if code == kernels.MERGE:
        return _detect_merged(points, labels, tol)
    if code in (kernels.ASSIGN, kernels.SUBGROUP):  # rare: not computed on the common path
        base = kernels.base_atoms(points)
    if code == kernels.ASSIGN:
        dist = kernels.distances(points)
        cls = kernels.refine_classes(points, labels, tol, dist)
        perms, dets, dev = _accepted_operations(points, cls, tol, dist, base, max_ops)
        code, count, perms, dets, ops = kernels.complete_group(
            points, perms, dets, dev, base, tol, max_ops
        )
    if code == kernels.TOO_MANY:
        raise _too_many(count, tol, max_ops)
    if code == kernels.SUBGROUP:
        # products of accepted operations exceed tol: keep the largest consistent subgroup
        # (``ops`` are the per-operation fits of the closed set; a subgroup keeps its fits)
        _, dev_all = kernels.fit_operations(points, points, perms, dets)
        keep = largest_valid_subgroup(lambda: _table(perms, dets, base), dev_all, tol)
        perms, dets, ops = kernels.finish_group(points, perms[keep], dets[keep], ops[keep], base)
    return GroupResult(schoenflies(ops), ops, perms)
