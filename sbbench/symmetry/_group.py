"""Public API of the point-group detector: :func:`detect` and :class:`PointGroup`.

The one place where sbbench derives symmetry facts: the atom permutation an
operation induces (:func:`induced_permutations`), orbits, the Reynolds projection
(:meth:`PointGroup.reynolds`), for detected groups and for given operations
(:meth:`PointGroup.from_operations`) alike.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

from sbbench.errors import InputError

from ._detect import detect_group, largest_valid_subgroup, matrix_table
from ._kernels import perpendicular
from ._naming import schoenflies as _schoenflies

__all__ = [
    "MIN_DISTANCE",
    "OPERATION_ATOL",
    "CloseAtomsError",
    "PointGroup",
    "detect",
    "induced_permutations",
]

_INFINITE = ("C*v", "D*h", "Kh")

#: Shortest interatomic distance (Å) :func:`detect` accepts by default. Shorter than
#: any real bond (H2, the shortest, is 0.74 Å; the tightest QM7-X conformer pair is
#: 0.83 Å) and than non-bonded contacts: two atoms closer than this are a duplicated
#: atom, a wrong unit (bohr or nm read as Å) or a broken file, and an answer such as
#: "Kh" for two coincident atoms would be meaningless.
MIN_DISTANCE = 0.5

#: Largest entry error accepted in R R^T = I and in the products of given operations:
#: float32 copies (a dataset's ``sym_ops``, errors ~1e-7) pass, a wrong matrix does not.
OPERATION_ATOL = 1e-4


class CloseAtomsError(InputError):
    """Two atoms closer than the physical minimum distance (see :data:`MIN_DISTANCE`)."""


class PointGroup:
    """The point group Sym(x) of a labelled point cloud, as found by :func:`detect`.

    Attributes
    ----------
    schoenflies : str
        'C1', 'Cs', 'Ci', 'Cn', 'Cnv', 'Cnh', 'Dn', 'Dnh', 'Dnd', 'S2n', 'T', 'Td',
        'Th', 'O', 'Oh', 'I', 'Ih', 'C*v', 'D*h', or 'Kh' (all points at the centroid).
    operations : ndarray, (G, 3, 3)
        Orthogonal matrices R acting on column vectors about the centroid, in the
        input frame, identity first; they form a group to ~1e-10. For the
        infinite groups a finite subgroup is returned: C*v -> C_nv and
        D*h -> D_nh with n = ``LINEAR_AXIS_ORDER`` (8), about the detected axis,
        with mirror planes at fixed (input-frame dependent) azimuths;
        Kh -> O_h about the input axes. Minimising a loss over this finite
        subgroup (SBCD, SANN paper eq. 3) approximates the minimum over the
        continuous group, as in ASUN+ (App. B).
    permutations : ndarray of int, (G, N)
        ``R_g @ x_i ~ x_j`` with ``j = permutations[g, i]`` (within ``tol``).
    tol : float
        The tolerance in Å the group was detected at.
    centroid : ndarray, (3,)
        The unweighted centroid the operations are about.

    Also: ``order``, ``is_infinite``, ``orbits``, ``frame``,
    ``canonical_positions()``, ``symmetrize()``, ``reynolds()``, ``stabilizer()``.

    Notes
    -----
    Built by :func:`detect`, :meth:`from_operations` (a known group, e.g. a
    dataset's ``sym_ops``) and :meth:`stabilizer`, not by hand: the constructor's
    arguments are internal. When same-label atoms are closer than
    ``tol``, which of them an operation maps onto is ambiguous; their
    permutations then map atoms within ``tol`` but need not compose exactly like
    the matrices. The arrays are shared with cached properties: copy before
    modifying them in place.
    """

    def __init__(
        self,
        schoenflies: str,
        operations: np.ndarray,
        perms_full: np.ndarray,
        points: np.ndarray,
        labels: np.ndarray,
        n_atoms: int,
        centroid: np.ndarray,
        tol: float,
    ):
        self.schoenflies = schoenflies
        self.operations = operations
        self.tol = tol
        self.centroid = centroid
        # internal: centred points (atoms first, then the tips x_i + s v_i of the vector
        # fields of stabilizers), their int labels, and permutations of all of them
        self._perms = perms_full
        self._points = points
        self._labels = labels
        self._n = n_atoms

    def __repr__(self) -> str:
        return f"PointGroup({self.schoenflies!r}, order={self.order}, tol={self.tol:g})"

    @classmethod
    def from_operations(
        cls,
        operations: ArrayLike,
        positions: ArrayLike,
        numbers: ArrayLike | None = None,
        *,
        tol: float = 0.1,
    ) -> PointGroup:
        """The group of given operations acting on a structure, without detection.

        For a group known in advance (a dataset's ``sym_ops``, a hand-built group,
        a task that fixes its own group) the permutations, orbits and Reynolds
        projection then come from the same code as for :func:`detect`.

        Parameters
        ----------
        operations : array_like, (G, 3, 3)
            Orthogonal matrices about the centroid, identity first, closed under
            products (to :data:`OPERATION_ATOL`; float32 copies pass).
        positions : array_like, (N, 3)
            Cartesian positions in Å.
        numbers : array_like, (N,), optional
            Atom labels (only equality matters); None means all points are alike.
        tol : float
            Å: every operation must move every atom to within ``tol`` of a distinct
            atom with its label (:func:`induced_permutations`).

        Returns
        -------
        PointGroup
            ``operations`` as given (in float64), named by their Schoenflies symbol
            (a finite one: the D8h stand-in of a linear molecule stays 'D8h').

        Raises
        ------
        ValueError
            If the operations are not orthogonal, not a group with the identity
            first, or one of them is not a symmetry of the structure within ``tol``.
        """
        ops = _as_group(operations)
        pos = _as_points(positions, "positions")
        labels = _as_labels(numbers, len(pos))
        tol = _check_tol(tol)
        centroid = pos.mean(axis=0)
        points = pos - centroid
        perms = _induced(points, labels, ops, tol)
        return cls(_schoenflies(ops), ops, perms, points, labels, len(pos), centroid, tol)

    @property
    def label(self) -> str:
        """The symbol to print: ``schoenflies``, and for the infinite groups the finite
        stand-in whose ``operations`` are returned, e.g. ``'D*h (as D8h)'``,
        ``'C*v (as C8v)'``, ``'Kh (as Oh)'`` (see :func:`sbbench.symmetry.group_label`)."""
        if not self.is_infinite:
            return self.schoenflies
        return f"{self.schoenflies} (as {_schoenflies(self.operations)})"

    @property
    def order(self) -> int:
        """Number of operations returned (for C*v, D*h and Kh: of the finite subgroup)."""
        return len(self.operations)

    @property
    def is_infinite(self) -> bool:
        """True for C*v, D*h and Kh (``operations`` is then a finite subgroup)."""
        return self.schoenflies in _INFINITE

    @cached_property
    def permutations(self) -> np.ndarray:
        """(G, N) atom permutations: ``R_g @ x_i ~ x_perm[g, i]``."""
        return np.ascontiguousarray(self._perms[:, : self._n])

    @cached_property
    def orbits(self) -> np.ndarray:
        """(N,) equivalence class id per atom, 0..C-1 numbered by lowest atom index.

        Atoms share an id exactly when some operation maps one onto the other
        (SANN paper, Sec. 2: the quotient M/Sym(M)).
        """
        rep = self.permutations.min(axis=0)  # smallest index in each orbit
        _, ids = np.unique(rep, return_inverse=True)
        return ids.astype(np.int64).reshape(-1)

    @cached_property
    def _symmetric_points(self) -> np.ndarray:
        """Group average of the centred points: mean_g R_g^T x_perm(g,i) (exactly invariant)."""
        return _group_average(self.operations, self._perms, self._points)

    def reynolds(self, field: ArrayLike) -> np.ndarray:
        """Reynolds projection of a per-atom vector field onto the invariant fields.

        ``out_i = mean_g R_g^T v_perm(g, i)`` for each of the k 3-vectors per atom:
        the orthogonal projection onto the fields with ``v_perm(g, i) = R_g v_i``
        for every operation, i.e. the outputs a strictly equivariant model can give
        for this input (Curie's principle). It is the best such output in the
        least-squares sense (the equivariant floor of SBMSE, :mod:`sbbench.curie`)
        and spans them (``sbbench.datasets.equivariant_basis``). For C*v, D*h and
        Kh the average runs over the finite stand-in in ``operations``; for polar
        vectors that is the same projection (C_8 leaves only the vectors along its
        axis invariant, O_h none).

        Parameters
        ----------
        field : array_like, (N, 3k)
            k polar vectors per atom (e.g. a target ``y``), in any unit.

        Returns
        -------
        ndarray, (N, 3k), float64
            Invariant under every operation (to rounding); ``reynolds`` of it is itself.
        """
        vec = np.asarray(_to_numpy(field), dtype=np.float64)
        if vec.ndim != 2 or len(vec) != self._n or vec.shape[1] % 3 or not vec.shape[1]:
            raise ValueError(
                f"field must have shape (N={self._n}, 3k) with k >= 1, got {vec.shape}"
            )
        perms = self.permutations
        blocks = [
            _group_average(self.operations, perms, vec[:, a : a + 3])
            for a in range(0, vec.shape[1], 3)
        ]
        return np.concatenate(blocks, axis=1)

    def symmetrize(self) -> tuple[np.ndarray, float]:
        """Positions made exactly symmetric under the group, and the RMSD moved (Å).

        The symmetrised position of atom i is the average of g^-1 . x_perm(g, i)
        over the operations: the orthogonal projection of the structure onto the
        structures invariant under ``operations`` (for C*v/D*h this puts the atoms
        on the axis, for Kh on the centroid). The result is invariant under every
        operation to rounding, so detecting on it finds at least this group (on
        noisy G2 molecules exactly this group, see the tests); symmetry can only be
        gained, when the structure is also close to a larger group.

        Returns
        -------
        positions : ndarray, (N, 3), in the input frame (centroid restored).
        rmsd : float, sqrt(mean_i |x_sym_i - x_i|^2) in Å.
        """
        sym = self._symmetric_points[: self._n]
        rmsd = float(np.sqrt(((sym - self._points[: self._n]) ** 2).sum(-1).mean()))
        return sym + self.centroid, rmsd

    @cached_property
    def frame(self) -> np.ndarray:
        """(3, 3) orthogonal frame F; canonical positions c(x) = (x - centroid) @ F.

        Relaxed-equivariant (SANN paper Def. 3.5): for any orthogonal R and any
        reordering of the atoms, ``detect(x @ R.T).frame = R @ S @ frame`` for an
        operation S of Sym(x), so c(R.x) equals c(x) as a set of labelled points
        up to a symmetry operation (an atom permutation); for trivial symmetry
        c(R.x) = c(x) to rounding.

        Construction (on the symmetrised structure, where invariant quantities
        vanish and symmetry-related quantities agree exactly): the columns are
        chosen one by one, each orthogonal to the previous ones. With H the
        operations fixing the columns chosen so far, a column is the direction of
        the largest H-invariant vector among the orbit centroids
        mean_{h in H} R_h x_i (projected orthogonally to the previous columns)
        if one is non-zero; otherwise the direction of an atom with the largest
        projected norm, and H shrinks to that atom's stabilizer. Candidates that
        tie (same norm and label, to 1e-6 of the size) and are related by H give
        the same canonical positions, so one per H-orbit is kept; ties that are
        not related by H (e.g. the two hydrogens of ethylene on either side of
        the first column) are all followed, giving a few complete candidate
        frames. Among these the one whose canonical coordinates, sorted as
        labelled rows, are lexicographically largest is returned; coordinates
        are compared after merging values closer than 1e-6 of the size (so
        rounding cannot reorder symmetry-equal values), which makes the choice
        independent of the atom order and of the input frame. If no atom has a
        component left (linear or planar structures) the frame is completed
        deterministically; the ambiguity is then a rotation about the axis or
        the plane reflection, both in Sym(x). For stabilizers the vector fields
        take part as points x_i + s v_i.
        """
        sym = self._symmetric_points
        scale = max(float(np.linalg.norm(sym, axis=1).max(initial=0.0)), 1e-300)
        frames = _candidate_frames(sym, self.operations, self._perms, self._labels, scale)
        if len(frames) == 1:
            return frames[0]
        return frames[_largest_canonical(sym, self._labels, frames, 1e-6 * scale)]

    def canonical_positions(self) -> np.ndarray:
        """c(x) = (x - centroid) @ frame, (N, 3) in Å (SANN paper Def. 3.5)."""
        return self._points[: self._n] @ self.frame

    def stabilizer(self, vectors, *, tol: float | None = None) -> PointGroup:
        """The subgroup of operations that also map a per-atom vector field onto itself.

        An operation g is kept when |R_g v_i - v_perm[g, i]| <= tol for every atom
        i. Near the threshold the kept operations need not form a group; then the
        largest subgroup whose operations all pass is returned (greedy, best
        fitting first), the same rule as in :func:`detect`. Used to find
        where a target breaks the input symmetry (Curie's principle; SANN paper
        Sec. 3; QM7-X dipoles, H2O normal modes).

        Parameters
        ----------
        vectors : array_like, (N, 3)
            One vector per atom, in any units (e.g. e·bohr for dipoles).
        tol : float, optional
            Tolerance in the units of ``vectors``; default: this group's ``tol``.

        Returns
        -------
        PointGroup
            Same fields as :func:`detect`'s result, for the stabilizer. Its
            ``frame`` is relaxed-equivariant for the pair (positions, vectors).
            For C*v, D*h and Kh the stabilizer inside the continuous group is
            found (by detecting the symmetry of the points x_i together with the
            tips x_i + s v_i), not just inside the finite subgroup.
        """
        vec = _as_points(vectors, "vectors")
        if len(vec) != self._n:
            raise ValueError(f"vectors has {len(vec)} rows but the structure has {self._n} atoms")
        tol = self.tol if tol is None else _check_tol(tol)
        vmax = float(np.linalg.norm(vec, axis=1).max(initial=0.0))
        if vmax <= 0.5 * tol:  # every operation maps every vector within tol
            return self
        atoms = self._points[: self._n]
        if self._n > 1:
            d = np.linalg.norm(atoms[:, None] - atoms[None], axis=-1)
            dmin = float(d[np.triu_indices(self._n, 1)].min())
            dmin = dmin if dmin > 0 else 1.0
        else:
            dmin = 1.0
        scale = 0.25 * dmin / vmax
        nlab = int(self._labels.max()) + 1
        labels = np.concatenate([self._labels, self._labels[: self._n] + nlab])
        if self.is_infinite:
            sym = self._symmetric_points
            points = np.concatenate([sym, sym[: self._n] + scale * vec])
            shift = points.mean(axis=0)
            res = detect_group(points - shift, labels, scale * tol)
            return PointGroup(
                res.symbol, res.ops, res.perms, points, labels, self._n, self.centroid, self.tol
            )
        ops, perms = self.operations, self._perms
        pa = perms[:, : self._n]
        dev = np.linalg.norm(vec @ np.swapaxes(ops, 1, 2) - vec[pa], axis=-1).max(axis=1)
        keep = largest_valid_subgroup(lambda: matrix_table(ops), dev, tol)
        points = np.concatenate([self._points, atoms + scale * vec])
        sub_perms = np.concatenate([perms[keep], pa[keep] + len(self._points)], axis=1)
        sub_ops = ops[keep]
        return PointGroup(
            _schoenflies(sub_ops), sub_ops, sub_perms, points, labels, self._n, self.centroid, tol
        )


def _candidate_frames(
    sym: np.ndarray, ops: np.ndarray, perms: np.ndarray, labels: np.ndarray, scale: float
) -> list[np.ndarray]:
    """All frames the column-by-column rule of ``PointGroup.frame`` can reach.

    Depth-first over the choices of column; at every step the candidates tying
    with the largest (norm, label) are split into orbits of H (the operations
    fixing the columns so far) and one representative per orbit is followed:
    H-related choices give the same canonical positions up to a permutation.
    """
    eps = 1e-7 * scale  # invariant quantities vanish to ~1e-10 of the size
    tie = 1e-6 * scale
    frames: list[np.ndarray] = []
    stack: list[tuple[list[np.ndarray], np.ndarray]] = [([], np.arange(len(ops)))]
    while stack:
        chosen, h = stack.pop()
        cand, shrink = None, False
        if len(chosen) < 3:
            proj = np.eye(3) - sum((np.outer(v, v) for v in chosen), np.zeros((3, 3)))
            cand = np.einsum("hij,nj->ni", ops[h], sym) / len(h) @ proj
            norms = np.linalg.norm(cand, axis=1)
            if norms.max() <= eps:
                cand, shrink = sym @ proj, True
                norms = np.linalg.norm(cand, axis=1)
                if norms.max() <= eps:
                    cand = None
        if cand is None:
            frames.append(_complete(chosen))
            continue
        ties = np.flatnonzero(norms >= norms.max() - tie)
        ties = ties[labels[ties] == labels[ties].max()]
        # one representative per H-orbit: the orbit's smallest index names it
        _, first = np.unique(perms[np.ix_(h, ties)].min(axis=0), return_index=True)
        for i in ties[first]:
            sub = h[perms[h, i] == i] if shrink else h
            stack.append((chosen + [cand[i] / norms[i]], sub))
    return frames


def _complete(chosen: list[np.ndarray]) -> np.ndarray:
    """Frame from 0-3 orthonormal columns; missing ones are filled deterministically
    (left only where Sym(x) contains the rotations about the axis or the plane reflection)."""
    cols = list(chosen) or [np.array([0.0, 0.0, 1.0])]
    if len(cols) == 1:
        cols.append(perpendicular(np.ascontiguousarray(cols[0], dtype=np.float64)))
    if len(cols) == 2:
        cols.append(np.cross(cols[0], cols[1]))
    return np.column_stack(cols)


def _largest_canonical(
    sym: np.ndarray, labels: np.ndarray, frames: list[np.ndarray], merge: float
) -> int:
    """Index of the frame whose canonical coordinates are lexicographically largest.

    Each frame's rows (label, c_1, c_2, c_3) are sorted and compared as a whole.
    The coordinates of all frames are first replaced, column by column, by the rank
    of their cluster (values closer than ``merge`` to a neighbour share a cluster),
    so values equal by symmetry compare as equal despite rounding, and the key
    depends only on the set of labelled canonical points, not on the atom order.
    """
    canon = np.stack([sym @ f for f in frames])  # (F, N, 3)
    ranks = np.empty((3, canon.shape[0] * canon.shape[1]), dtype=np.int64)
    for k in range(3):
        flat = canon[..., k].reshape(-1)
        order = np.argsort(flat, kind="stable")
        ranks[k, order] = np.concatenate([[0], np.cumsum(np.diff(flat[order]) > merge)])
    ranks = ranks.T.reshape(canon.shape)
    keys = []
    for r in ranks:
        rows = np.column_stack([labels, r])
        rows = rows[np.lexsort(rows.T[::-1])]
        keys.append(tuple(rows.reshape(-1).tolist()))
    return max(range(len(frames)), key=keys.__getitem__)


def _group_average(ops: np.ndarray, perms: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """mean_g R_g^T rows[perms[g, i]] for (M, 3) ``rows``: the Reynolds average of one
    vector per point (``perms`` (G, M) of the same points)."""
    return np.einsum("gni,gij->nj", rows[perms], ops) / len(ops)


def _induced(points: np.ndarray, labels: np.ndarray, ops: np.ndarray, tol: float) -> np.ndarray:
    """(G, N) permutations with ``R_g @ points[i] ~ points[perm[g, i]]`` (see
    :func:`induced_permutations`; ``points`` centred, ``ops`` (G, 3, 3) float64)."""
    n = len(points)
    other = labels[:, None] != labels[None, :]
    perms = np.empty((len(ops), n), dtype=np.int64)
    for g, rot in enumerate(ops):
        d = np.linalg.norm((points @ rot.T)[:, None, :] - points[None, :, :], axis=-1)
        d[other] = np.inf
        j = d.argmin(axis=1)
        dist = d[np.arange(n), j]
        worst = int(dist.argmax())
        if dist[worst] > tol:
            raise ValueError(
                f"operation {g} is not a symmetry of the structure: it moves atom {worst} "
                f"{dist[worst]:.3g} Å from the nearest atom with its label (tol {tol:g} Å)"
            )
        hit, count = np.unique(j, return_counts=True)
        if len(hit) != n:
            k = int(hit[count > 1][0])
            a, b = (int(i) for i in np.flatnonzero(j == k)[:2])
            raise ValueError(
                f"operation {g} is not a symmetry of the structure: it moves atoms {a} and {b} "
                f"both within tol {tol:g} Å of atom {k} (atoms closer than ~tol; use a smaller tol)"
            )
        perms[g] = j
    return perms


def _as_operations(values: ArrayLike, name: str = "operations") -> np.ndarray:
    """(G, 3, 3) float64 orthogonal matrices (to :data:`OPERATION_ATOL`), G >= 1."""
    try:
        ops = np.asarray(_to_numpy(values), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric (G, 3, 3) array: {exc}") from None
    if ops.ndim != 3 or ops.shape[1:] != (3, 3) or len(ops) == 0:
        raise ValueError(f"{name} must have shape (G, 3, 3) with G >= 1, got {ops.shape}")
    if not np.isfinite(ops).all():
        raise ValueError(f"{name} has non-finite entries (NaN or inf)")
    err = np.abs(ops @ np.swapaxes(ops, 1, 2) - np.eye(3)).max(axis=(1, 2))
    if err.max() > OPERATION_ATOL:
        g = int(err.argmax())
        raise ValueError(f"{name}[{g}] is not orthogonal: max |R R^T - I| = {err[g]:.2g}")
    return ops


def _as_group(values: ArrayLike) -> np.ndarray:
    """:func:`_as_operations` that also form a group: identity first, every product an
    operation, no operation twice (all to :data:`OPERATION_ATOL`)."""
    ops = _as_operations(values)
    if np.abs(ops[0] - np.eye(3)).max() > OPERATION_ATOL:
        raise ValueError("operations[0] must be the identity")
    table = matrix_table(ops)
    for g, rot in enumerate(ops):
        err = np.abs(rot @ ops - ops[table[g]]).max(axis=(1, 2))
        if err.max() > OPERATION_ATOL:
            h = int(err.argmax())
            raise ValueError(
                f"operations are not a group: the product of operations {g} and {h} is none "
                f"of them (off by {err[h]:.2g}); give every operation of the group"
            )
        hit, count = np.unique(table[g], return_counts=True)
        if len(hit) != len(ops):  # R_g R_a = R_g R_b: a and b are one matrix
            a, b = (int(h) for h in np.flatnonzero(table[g] == hit[count > 1][0])[:2])
            raise ValueError(f"operations {a} and {b} are the same matrix")
    return ops


def induced_permutations(
    operations: ArrayLike,
    positions: ArrayLike,
    numbers: ArrayLike | None = None,
    *,
    tol: float = 0.1,
) -> np.ndarray:
    """The atom permutation each operation induces on a structure.

    ``perm[g, i] = j`` when ``R_g (x_i - c) ~ x_j - c`` (c the centroid), with ``x_j``
    the atom of ``x_i``'s label nearest to the image: the convention of
    :attr:`PointGroup.permutations`. Unlike :meth:`PointGroup.from_operations`
    the operations need not form a group (a single candidate operation is fine).

    Parameters
    ----------
    operations : array_like, (G, 3, 3)
        Orthogonal matrices (to :data:`OPERATION_ATOL`).
    positions : array_like, (N, 3)
        Cartesian positions in Å.
    numbers : array_like, (N,), optional
        Atom labels; None means all points are alike.
    tol : float
        Å: the largest distance from an image to its atom.

    Returns
    -------
    ndarray of int64, (G, N)

    Raises
    ------
    ValueError
        Naming the operation and the atom, if an image is farther than ``tol`` from
        every atom of its label or two atoms land on the same one (not a symmetry).
    """
    ops = _as_operations(operations)
    pos = _as_points(positions, "positions")
    labels = _as_labels(numbers, len(pos))
    return _induced(pos - pos.mean(axis=0), labels, ops, _check_tol(tol))


def _to_numpy(values):
    """Arrays, lists, or tensors (torch: detached, moved to the CPU) as numpy arrays."""
    if hasattr(values, "detach") and hasattr(values, "cpu"):
        values = values.detach().cpu().numpy()
    return values


def _as_points(values, name: str) -> np.ndarray:
    values = _to_numpy(values)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a numeric (N, 3) array: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(f"{name} must have shape (N, 3), got {arr.shape}")
    if len(arr) == 0:
        raise InputError(f"{name} is empty: need at least one point")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if len(bad):
        raise InputError(f"{name} has non-finite values (NaN or inf) at row {int(bad[0])}")
    return arr


def _as_labels(numbers: ArrayLike | None, n: int) -> np.ndarray:
    """(n,) int64 labels 0..L-1 from any per-point labels (None: all alike)."""
    if numbers is None:
        return np.zeros(n, dtype=np.int64)
    raw = np.asarray(_to_numpy(numbers))
    if raw.ndim != 1 or len(raw) != n:
        raise InputError(
            f"numbers must be a 1-D array with one label per point: got shape {raw.shape} "
            f"for {n} positions"
        )
    return np.unique(raw, return_inverse=True)[1].astype(np.int64).reshape(n)


def _check_tol(tol) -> float:
    try:
        val = float(tol)
    except (TypeError, ValueError):
        raise InputError(f"tol must be a positive number of Å, got {tol!r}") from None
    if not np.isfinite(val) or val <= 0:
        raise InputError(f"tol must be a positive finite number of Å, got {tol!r}")
    return val


def _label_name(label) -> str:
    """An element symbol for atomic numbers 1-118, else the label itself."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        label = int(label)
    if isinstance(label, (int, np.integer)) and 1 <= int(label) <= 118:
        from ase.data import chemical_symbols

        return chemical_symbols[int(label)]
    return str(label)


def _check_min_distance(pos: np.ndarray, raw_labels, min_distance) -> None:
    """Raise :class:`CloseAtomsError` naming the closest pair of atoms under ``min_distance``."""
    try:
        dmin = float(min_distance)
    except (TypeError, ValueError):
        raise InputError(f"min_distance must be a number of Å >= 0, got {min_distance!r}") from None
    if not dmin >= 0:
        raise InputError(f"min_distance must be a number of Å >= 0, got {min_distance!r}")
    if dmin == 0 or len(pos) < 2:
        return
    from scipy.spatial import cKDTree

    pairs = cKDTree(pos).query_pairs(dmin, output_type="ndarray")
    pairs = pairs[np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1) < dmin]
    if not len(pairs):
        return
    d = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    k = int(np.lexsort((pairs[:, 1], pairs[:, 0], d))[0])
    i, j = (int(v) for v in pairs[k])
    if raw_labels is None:
        names = ("", "")
    else:
        names = tuple(f" ({_label_name(raw_labels[a])})" for a in (i, j))
    raise CloseAtomsError(
        f"atoms {i}{names[0]} and {j}{names[1]} are {d[k]:.3g} Å apart, closer than the "
        f"{dmin:g} Å minimum for a physical structure (the shortest bond, H2, is 0.74 Å): a "
        "duplicated atom or coordinates not in Å?"
    )


def detect(
    positions, numbers=None, *, tol: float = 0.1, min_distance: float = MIN_DISTANCE
) -> PointGroup:
    """Point group Sym(x) of a labelled point cloud (ASUN-style, SANN paper App. B).

    Parameters
    ----------
    positions : array_like, (N, 3)
        Cartesian positions in Å.
    numbers : array_like, (N,), optional
        Atomic numbers or any per-point labels (only equality matters);
        None means all points are alike.
    tol : float
        Tolerance in Å: an operation is accepted when every mapped atom lies
        within ``tol`` of a distinct atom of the same label (after a Procrustes
        refinement of the matrix on all atoms). The accepted operations are
        closed under products; if a product moves an atom by more than ``tol``
        (possible only near the threshold) the largest subgroup whose operations
        all satisfy ``tol`` is returned. All points within tol/2 of the centroid
        give Kh, all within tol/2 of a line C*v/D*h (then every rotation about the
        line is accepted). QM7-X curation uses 0.2 Å. Near the threshold the answer
        can flip with tiny changes; see ``sbbench symmetry FILE --sweep``. The
        returned matrices are the exactly closed group fitted to all operations
        at once (``symmetrize``); they can move an atom slightly more than the
        individually accepted fits did (seen: 0.5004 Å at tol 0.5 Å for 2-butyne
        with 0.1 Å noise), never in the tests' well-separated cases.
    min_distance : float
        Shortest accepted distance between two atoms in Å, :data:`MIN_DISTANCE`
        (0.5 Å) by default: closer atoms are not a molecule (a duplicated atom, or
        coordinates not in Å) and raise :class:`CloseAtomsError`. Pass 0 for
        abstract point clouds; same-label points closer than ``tol`` are then
        detected on their cluster centroids.

    Returns
    -------
    PointGroup

    Raises
    ------
    ValueError
        For NaN/inf, a wrong shape, ``len(numbers) != N``, ``tol <= 0``; two
        atoms closer than ``min_distance`` (:class:`CloseAtomsError`, naming both
        atoms, their elements and their distance); or when the accepted operations
        generate more than any point group of the structure can have (the message
        names the tolerance; use a smaller one). That bound is
        :func:`~sbbench.symmetry.max_operations`: ``max(120, 4 m)`` with ``m`` the
        atoms of the most frequent label (a regular 100-gon, D100h, has 400).

    Examples
    --------
    >>> import numpy as np
    >>> water = [[0, 0, 0.119], [0, 0.763, -0.477], [0, -0.763, -0.477]]
    >>> detect(water, [8, 1, 1]).schoenflies
    'C2v'
    """
    pos = _as_points(positions, "positions")
    tol = _check_tol(tol)
    n = len(pos)
    labels = _as_labels(numbers, n)
    raw = None if numbers is None else np.asarray(_to_numpy(numbers))
    _check_min_distance(pos, raw, min_distance)
    centroid = pos.mean(axis=0)
    points = pos - centroid
    res = detect_group(points, labels, tol)
    return PointGroup(res.symbol, res.ops, res.perms, points, labels, n, centroid, tol)
