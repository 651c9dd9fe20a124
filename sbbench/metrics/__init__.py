"""Metrics for symmetry-breaking targets: Chamfer distance (CD), SBCD, SBMSE, collapse.

* :func:`chamfer`, :func:`sbcd`, :func:`sbcd_batch`, :func:`chamfer_batch`: (symmetry-
  breaking) Chamfer distances between unordered clouds of per-atom vectors.
* :func:`sbmse`, :func:`sbmse_batch`: the symmetry-breaking mean squared error when
  atoms correspond, minimised over the stabilizer with its atom permutations.
* :func:`spread`, :func:`spread_ratio`, :func:`is_collapsed`, :func:`count_collapsed`,
  :data:`COLLAPSE_THRESHOLD`: flag predictions whose vectors collapse onto one point,
  which the one-sided Chamfer distance does not penalise.

``import sbbench.metrics`` needs only numpy and torch (no PyG, e3nn, ase or
h5py), so other projects can use it on its own::

    from sbbench.metrics import chamfer, sbcd, sbcd_batch, sbmse, is_collapsed
"""

from ._chamfer import chamfer
from ._collapse import COLLAPSE_THRESHOLD, count_collapsed, is_collapsed, spread, spread_ratio
from ._sbcd import apply_ops, chamfer_batch, sbcd, sbcd_batch
from ._sbmse import sbmse, sbmse_batch

__all__ = [
    "chamfer",
    "sbcd",
    "sbcd_batch",
    "chamfer_batch",
    "apply_ops",
    "sbmse",
    "sbmse_batch",
    "spread",
    "spread_ratio",
    "is_collapsed",
    "count_collapsed",
    "COLLAPSE_THRESHOLD",
]
