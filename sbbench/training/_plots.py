"""Figures of a run: learning curves and predicted vs true vectors in 3D."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_curves", "plot_arrows"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    """Write ``fig`` atomically with the usual file mode (sbbench._io), then close it."""
    from sbbench._io import atomic_path

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        _pyplot().close(fig)


def plot_curves(path: Path, curves: list[dict[str, Any]]) -> None:
    """Train loss and validation SBMSE per epoch, one line per (seed, fold); log scale."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for c in curves:
        epochs = np.arange(1, len(c["train_loss"]) + 1)
        axes[0].plot(epochs, np.maximum(c["train_loss"], 1e-12), label=c["label"], lw=1)
        axes[1].plot(epochs, np.maximum(c["val_sbmse"], 1e-12), label=c["label"], lw=1)
    for ax, title in zip(axes, ("train loss", "validation SBMSE"), strict=True):
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.set_title(title)
    if len(curves) <= 10:
        axes[1].legend(fontsize=7)
    _save(fig, path)


def plot_arrows(
    path: Path,
    pos: np.ndarray,
    z: np.ndarray,
    pred: np.ndarray,
    target: np.ndarray,
    *,
    title: str = "",
) -> None:
    """Atoms as dots with the first predicted (red) and true (blue) 3-vector of each atom."""
    plt = _pyplot()
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="3d")
    ax.scatter(*pos.T, c=z, cmap="viridis", s=60, depthshade=False)
    for vec, color, label in (
        (target[:, :3], "tab:blue", "true"),
        (pred[:, :3], "tab:red", "predicted"),
    ):
        ax.quiver(*pos.T, *vec.T, color=color, label=label, arrow_length_ratio=0.2)
    ax.set_title(title)
    ax.legend(loc="upper left")
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("y (Å)")
    ax.set_zlabel("z (Å)")
    _save(fig, path)
