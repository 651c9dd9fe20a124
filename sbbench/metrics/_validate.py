"""Input checking and array conversion shared by the metrics.

The metrics accept torch tensors or numpy arrays and return the same kind. All
checks raise :class:`ValueError` with a message that names the argument and the
problem, so a user never sees a broadcasting error from deep inside torch.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

ORTHOGONALITY_TOL = 1e-4
"""Maximum |R R^T - I| entry for a matrix to count as an orthogonal operation."""


def to_tensor(a: Any, name: str, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Convert ``a`` (tensor, ndarray or nested list) to a floating tensor."""
    if isinstance(a, torch.Tensor):
        t = a
    elif isinstance(a, np.ndarray | list | tuple):
        t = torch.from_numpy(np.array(a, copy=True, order="C"))  # copy: negative strides
    else:
        raise ValueError(f"{name} must be a torch.Tensor or numpy array, got {type(a).__name__}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype() if dtype is None else dtype)
    elif dtype is not None:
        t = t.to(dtype)
    return t


def is_numpy(*arrays: Any) -> bool:
    """True when the primary input was not a torch tensor (so results go back as numpy)."""
    return not isinstance(arrays[0], torch.Tensor)


def segment_ids(parts: list[torch.Tensor]) -> torch.Tensor:
    """Sample index of every row of ``torch.cat(parts)`` (a PyG-style batch vector)."""
    return torch.cat([torch.full((len(x),), i, dtype=torch.long) for i, x in enumerate(parts)])


def check_cloud(t: torch.Tensor, name: str) -> None:
    """A point cloud is a finite (N, D) array with N >= 1 and D >= 1."""
    if t.dim() != 2:
        raise ValueError(f"{name} must have shape (N, D), got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is an empty point cloud (0 points)")
    if t.shape[1] == 0:
        raise ValueError(f"{name} has points of dimension 0")
    check_finite(t, name)


def check_finite(t: torch.Tensor, name: str) -> None:
    """Reject NaN or inf, naming the first offending row."""
    bad = ~torch.isfinite(t.detach())
    if bad.any():
        row = int(bad.reshape(bad.shape[0], -1).any(dim=1).nonzero()[0, 0]) if t.dim() else 0
        raise ValueError(f"{name} contains NaN or inf (first at row {row})")


def check_ops(ops: torch.Tensor, name: str = "ops") -> None:
    """``ops`` must be a finite (G, 3, 3) stack of orthogonal matrices, G >= 1."""
    if ops.dim() != 3 or ops.shape[1:] != (3, 3):
        raise ValueError(f"{name} must have shape (G, 3, 3), got {tuple(ops.shape)}")
    if ops.shape[0] == 0:
        raise ValueError(f"{name} is empty: a symmetry group has at least the identity")
    check_finite(ops, name)
    eye = torch.eye(3, dtype=ops.dtype, device=ops.device)
    err = (ops @ ops.transpose(1, 2) - eye).abs().amax(dim=(1, 2))
    if (err > ORTHOGONALITY_TOL).any():
        i = int((err > ORTHOGONALITY_TOL).nonzero()[0, 0])
        raise ValueError(
            f"{name}[{i}] is not orthogonal: max |R R^T - I| = {float(err[i]):.2e} "
            f"> {ORTHOGONALITY_TOL:g}"
        )


def warn_missing_identity(ops: torch.Tensor, ops_batch: torch.Tensor, n_samples: int) -> None:
    """Warn when a sample's group lacks the identity (then SBCD <= CD no longer holds)."""
    eye = torch.eye(3, dtype=ops.dtype, device=ops.device)
    is_id = (ops - eye).abs().amax(dim=(1, 2)) <= ORTHOGONALITY_TOL
    has_id = torch.zeros(n_samples, dtype=torch.bool, device=ops.device)
    has_id.index_put_((ops_batch,), is_id, accumulate=True)
    if not bool(has_id.all()):
        missing = (~has_id).nonzero().flatten().tolist()
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        warnings.warn(
            f"the operations of {len(missing)} sample(s) (index {shown}) do not include the "
            "identity; SBCD is then not bounded by CD",
            stacklevel=3,
        )
