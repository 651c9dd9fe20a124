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
    """Atoms with the first predicted (red) and true (blue, dashed) 3-vector of each atom.

    Atoms are coloured and labelled by element (legend), the axes are equal in
    Å on a cube around atoms and arrow tips, and the predicted arrows are drawn
    last and thicker, so that a prediction on top of its target stays visible.
    """
    from ase.data import chemical_symbols
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig = plt.figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot(projection="3d")
    cmap = plt.get_cmap("tab10")
    for k, element in enumerate(np.unique(z)):
        mask = z == element
        name = (
            chemical_symbols[int(element)] if 0 < element < len(chemical_symbols) else str(element)
        )
        ax.scatter(*pos[mask].T, color=cmap(k % 10), s=70, depthshade=False, label=name)
    ax.quiver(
        *pos.T,
        *target[:, :3].T,
        color="tab:blue",
        label="true",
        lw=1.2,
        linestyles="dashed",
        arrow_length_ratio=0.15,
    )
    ax.quiver(
        *pos.T, *pred[:, :3].T, color="tab:red", label="predicted", lw=2.2, arrow_length_ratio=0.15
    )
    ends = np.concatenate([pos, pos + target[:, :3], pos + pred[:, :3]])
    center = (ends.max(0) + ends.min(0)) / 2
    half = max(float((ends.max(0) - ends.min(0)).max()) / 2, 0.5) * 1.1
    ax.set_xlim(center[0] - half, center[0] + half)
    ax.set_ylim(center[1] - half, center[1] + half)
    ax.set_zlim(center[2] - half, center[2] + half)
    ax.set_box_aspect((1, 1, 1))
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(4))
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("y (Å)")
    ax.set_zlabel("z (Å)")
    _save(fig, path)
