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
    sym_positions, rmsd = pg.symmetrize()
    pg.stabilizer(dipoles, tol=0.05).schoenflies  # e.g. 'C2v' -> 'Cs' (symmetry breaking)

Arrays on a PointGroup are shared (cached); copy them before modifying in place.
"""

from ._detect import LINEAR_AXIS_ORDER, MAX_OPERATIONS, largest_subgroup
from ._group import PointGroup, detect
from ._naming import schoenflies

__all__ = [
    "LINEAR_AXIS_ORDER",
    "MAX_OPERATIONS",
    "PointGroup",
    "detect",
    "largest_subgroup",
    "schoenflies",
]
