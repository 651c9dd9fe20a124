"""The model zoo: ``build(name, **hparams)`` and ``names()``.

Every model maps a PyG batch (``z``, ``pos`` in Å, ``batch``; optional
``node_attr``, ``node_vec``, ``sym_ops``, ``orbit``, ``frame``) to per-atom
vectors ``(N, 3k)`` and has a ``symmetry_class`` attribute: ``"invariant"``,
``"equivariant"``, ``"relaxed-equivariant"`` or ``"symmetry-breaking"``.

Base models: ``schnet``, ``dimenet++``, ``egnn``, ``painn``, ``relaxed_e3nn``,
``sann``; modifiers ``+noise`` and ``+mlp`` compose with any of them.
"""

from ._base import SYMMETRY_CLASSES, Inputs, VectorModel
from ._hessian import HessianHead
from ._registry import BASE_MODELS, MODIFIERS, build, model_class, names

__all__ = [
    "build",
    "names",
    "model_class",
    "BASE_MODELS",
    "MODIFIERS",
    "Inputs",
    "VectorModel",
    "SYMMETRY_CLASSES",
    "HessianHead",
]
