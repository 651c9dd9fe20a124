"""Metrics for symmetry-breaking targets: Chamfer distance (CD) and SBCD.

``import sbbench.metrics`` needs only numpy and torch (no PyG, e3nn, ase or
h5py), so other projects can use it on its own::

    from sbbench.metrics import chamfer, sbcd, sbcd_batch
"""

from ._chamfer import chamfer
from ._sbcd import apply_ops, chamfer_batch, sbcd, sbcd_batch

__all__ = ["chamfer", "sbcd", "sbcd_batch", "chamfer_batch", "apply_ops"]
