"""A detected point group as plain data: equivalence classes and a JSON-ready report.

What ``sbbench symmetry FILE --json`` prints, kept in the library so that a script
gets the same document (lists, ints, floats and strings only; ``json.dumps`` takes it
as is) without going through the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._group import PointGroup

__all__ = ["equivalence_classes", "point_group_report"]


def equivalence_classes(pg: PointGroup, symbols: Sequence[str]) -> list[dict[str, Any]]:
    """The atoms of each orbit of ``pg``, with their element.

    Parameters
    ----------
    pg : PointGroup
        A detected (or given) group of a structure of N atoms.
    symbols : sequence of str, length N
        Element symbol (or any name) of each atom, in the structure's order.

    Returns
    -------
    list of dict
        ``{"element": symbol, "indices": [i, ...]}`` per class, in the order of
        ``pg.orbits`` (by lowest atom index); indices ascending.

    Raises
    ------
    ValueError
        If ``symbols`` does not have one entry per atom of ``pg``.
    """
    orbits = pg.orbits
    if len(symbols) != len(orbits):
        raise ValueError(
            f"equivalence_classes: {len(symbols)} symbols for a group of {len(orbits)} atoms"
        )
    out = []
    for c in range(int(orbits.max()) + 1):
        idx = [int(i) for i in (orbits == c).nonzero()[0]]
        out.append({"element": str(symbols[idx[0]]), "indices": idx})
    return out


def point_group_report(pg: PointGroup, symbols: Sequence[str], **about: Any) -> dict[str, Any]:
    """Everything known about a detected group, as a JSON-ready dict.

    Parameters
    ----------
    pg : PointGroup
        The group, e.g. from :func:`~sbbench.symmetry.detect`.
    symbols : sequence of str, length N
        Element symbol of each atom (for the equivalence classes).
    **about
        JSON-ready facts about the input placed first (the command line passes
        ``file``, ``formula`` and ``n_atoms``).

    Returns
    -------
    dict
        ``about``, then ``tol``, ``schoenflies``, ``label``, ``order``, ``is_infinite``,
        ``centroid`` (3,), ``operations`` (G, 3, 3), ``permutations`` (G, N), ``orbits``
        (N,), ``classes`` (:func:`equivalence_classes`), ``frame`` (3, 3, the canonical
        frame) and ``symmetrize_rmsd`` (Å, how far symmetrizing moves the atoms).

    Raises
    ------
    ValueError
        If ``symbols`` does not have one entry per atom of ``pg``.
    """
    classes = equivalence_classes(pg, symbols)
    _, rmsd = pg.symmetrize()
    return {
        **about,
        "tol": pg.tol,
        "schoenflies": pg.schoenflies,
        "label": pg.label,
        "order": pg.order,
        "is_infinite": pg.is_infinite,
        "centroid": pg.centroid.tolist(),
        "operations": pg.operations.tolist(),
        "permutations": pg.permutations.tolist(),
        "orbits": pg.orbits.tolist(),
        "classes": classes,
        "frame": pg.frame.tolist(),
        "symmetrize_rmsd": float(rmsd),
    }
