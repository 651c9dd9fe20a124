"""Project a structure onto its point group until detection finds nothing larger."""

from __future__ import annotations

import numpy as np

from ._group import MIN_DISTANCE, PointGroup, detect

__all__ = ["symmetrize_structure"]


def symmetrize_structure(
    positions,
    numbers=None,
    *,
    tol: float = 0.1,
    max_rounds: int = 10,
    min_distance: float = MIN_DISTANCE,
) -> tuple[np.ndarray, float, PointGroup]:
    """Positions exactly symmetric under the group detected on them, the RMSD moved (Å),
    and that group.

    One :meth:`PointGroup.symmetrize` can gain symmetry: the projection onto the group
    found at ``tol`` may lie within ``tol`` of a larger group, which ``detect`` then
    finds, and under which the projection is only approximately symmetric (on the QM7-X
    reference set v2, 64 of 4,250 conformers at 0.2 Å, e.g. a CH4 from C3v to Td). So
    detect and project again until the group stops growing (at most 4 rounds there);
    the result is invariant under every operation of the returned group to rounding,
    which is what makes the Curie floor bind (issue 17's symmetrised control).

    Parameters
    ----------
    positions : array_like, (N, 3)
        Cartesian positions in Å.
    numbers : array_like, (N,), optional
        Atomic numbers or other labels (only equality matters), as for :func:`detect`.
    tol : float
        Detection tolerance in Å, used in every round.
    max_rounds : int
        Projections allowed before giving up.
    min_distance : float
        Passed to :func:`detect` (Å; closer atoms raise ``CloseAtomsError``).

    Raises
    ------
    RuntimeError
        If the group still grows after ``max_rounds`` projections.
    """
    pos = np.asarray(positions, dtype=np.float64)
    pg = detect(pos, numbers, tol=tol, min_distance=min_distance)
    sym = pos
    for _ in range(max_rounds):
        sym, _ = pg.symmetrize()
        again = detect(sym, numbers, tol=tol, min_distance=min_distance)
        if again.order == pg.order:
            rmsd = float(np.sqrt(((sym - pos) ** 2).sum(-1).mean()))
            return sym, rmsd, again
        pg = again
    raise RuntimeError(f"symmetrize_structure: the group still grows after {max_rounds} rounds")
