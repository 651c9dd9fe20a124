"""Point groups of molecules: Sym(x), equivalence classes, canonical frames, stabilizers.

Our own ASUN-style detector (SANN paper Sec. 5 and App. B; Baker et al. 2024),
numpy/scipy with its inner loops compiled by numba (``_kernels``; the first call
in a fresh installation compiles them, about a minute, then they are cached on
disk). Conventions shared across sbbench: an operation R is a (3, 3) orthogonal
matrix acting on column vectors about the centroid (``g.x = R @ x``, ``X @ R.T``
on row-stacked points), identity first; ``permutations[g, i] = j``
means ``R_g @ x_i ~ x_j``; ``tol`` is a distance in Å.

Typical use::

    from sbbench.symmetry import detect

    pg = detect(positions, numbers, tol=0.1)  # positions (N, 3) in Å
    pg.schoenflies, pg.order, pg.operations, pg.permutations, pg.orbits
    c = pg.canonical_positions()  # (x - centroid) @ pg.frame, SANN Def. 3.5
    sym_positions, rmsd = pg.symmetrize()  # one projection onto pg
    sym_positions, rmsd, pg = symmetrize_structure(positions, numbers, tol=0.1)  # to a fixed point
    pg.stabilizer(dipoles, tol=0.05).schoenflies  # e.g. 'C2v' -> 'Cs' (symmetry breaking)
    pg.reynolds(y)  # mean_g R_g^T y_perm(g, i): the best strictly equivariant output

A group known in advance (a dataset's ``sym_ops``) gives the same facts through
``PointGroup.from_operations(ops, positions, numbers)``; :func:`induced_permutations`
is the permutation rule of both, for operations that need not form a group. No other
module of sbbench computes permutations, orbits or the Reynolds projection.

Arrays on a PointGroup are shared (cached); copy them before modifying in place.

Infinite groups. A linear molecule has the continuous group C*v or D*h, a single
atom Kh; ``operations`` then hold a finite stand-in, C_nv / D_nh with n =
:data:`LINEAR_AXIS_ORDER` (8) about the axis, or Oh. ``pg.schoenflies`` is the true
name ('D*h'); ``pg.label`` and :func:`group_label` add the stand-in, ``'D*h (as
D8h)'``, the one form sbbench prints (``sbbench symmetry``, ``sbbench curie``).

Input checks. Atoms closer than :data:`MIN_DISTANCE` (0.5 Å, shorter than any bond)
raise :class:`CloseAtomsError` (a ValueError naming both atoms); pass
``min_distance=0`` for abstract point clouds. A tolerance so large that the accepted
operations generate more than any point group of the structure can have,
:func:`max_operations` = max(120, 4 x the atoms of the most frequent label), raises
a ValueError naming ``tol``.

Reports. :func:`point_group_report` (with :func:`equivalence_classes`) is a detected
group as JSON-ready data; :func:`tolerance_sweep` detects at each tolerance of a grid
(:func:`tolerance_grid`, :func:`parse_sweep`) and :func:`sweep_report` makes that JSON:
what ``sbbench symmetry [--sweep] --json`` prints.
"""

from ._detect import LINEAR_AXIS_ORDER, POLYHEDRAL_MAX_ORDER, largest_subgroup, max_operations
from ._group import (
    MIN_DISTANCE,
    OPERATION_ATOL,
    CloseAtomsError,
    PointGroup,
    detect,
    induced_permutations,
)
from ._naming import group_label, schoenflies
from ._report import equivalence_classes, point_group_report
from ._sweep import (
    DEFAULT_SWEEP_STEP,
    MAX_SWEEP_POINTS,
    SweepPoint,
    parse_sweep,
    sweep_report,
    tolerance_grid,
    tolerance_sweep,
)
from ._symmetrize import symmetrize_structure

__all__ = [
    "DEFAULT_SWEEP_STEP",
    "LINEAR_AXIS_ORDER",
    "MAX_SWEEP_POINTS",
    "MIN_DISTANCE",
    "OPERATION_ATOL",
    "POLYHEDRAL_MAX_ORDER",
    "CloseAtomsError",
    "PointGroup",
    "SweepPoint",
    "detect",
    "equivalence_classes",
    "group_label",
    "induced_permutations",
    "largest_subgroup",
    "max_operations",
    "parse_sweep",
    "point_group_report",
    "schoenflies",
    "sweep_report",
    "symmetrize_structure",
    "tolerance_grid",
    "tolerance_sweep",
]
