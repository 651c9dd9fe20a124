"""One fold: the training loop, the loss functions and the evaluation.

Every model of the zoo is trained by exactly this code, so scores differ only
by the model. Selection is on the validation SBMSE (the leaderboards' ranking
key): the weights of the epoch with the lowest validation SBMSE are kept and tested.

Every evaluation reports, per sample and averaged (:data:`SCORES`):

``sbmse``       min over g in Sym(x) of (1/N) sum_i |pred[perm_g(i)] - R_g y_i|^2
``mse``         (1/N) sum_i |pred_i - y_i|^2 (the identity term of SBMSE)
``cd``/``sbcd`` symmetric, mean-reduced squared Chamfer distance (sbbench default)
``cd_paper``/``sbcd_paper``  the SANN paper's one-sided summed m(X, Y), for comparison
                with its tables only (a collapsed prediction can score ~0 on it)
``collapsed``   number of predictions whose spread is under 10 % of the target's
                (:func:`sbbench.metrics.is_collapsed`)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from sbbench._vocabulary import SANN_PAPER, SBBENCH_DEFAULT
from sbbench.metrics import chamfer_batch, is_collapsed, sbcd_batch, sbmse_batch

from ._config import RunConfig

__all__ = ["FoldResult", "make_loss", "evaluate", "train_fold", "ops_batch", "SCORES"]

SCORES = ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper")
"""Per-sample scores of :func:`evaluate` (means over samples), see the module docstring."""


def ops_batch(batch: Any) -> Tensor:
    """Sample index of every row of ``batch.sym_ops`` (ragged groups of a PyG batch)."""
    return torch.repeat_interleave(torch.arange(batch.num_graphs), batch.num_ops.cpu()).to(
        batch.sym_ops.device
    )


def make_loss(cfg: RunConfig) -> Callable[[Tensor, Any], Tensor]:
    """Training loss ``loss(pred, batch)``: SBMSE, SBCD (SBM), CD or per-component MSE."""
    metric = cfg.chamfer.to_dict()

    def sbmse_loss(pred: Tensor, batch: Any) -> Tensor:
        return sbmse_batch(
            pred, batch.y, batch.sym_ops, batch.sym_perms, batch.batch, ops_batch(batch)
        )

    def sbcd_loss(pred: Tensor, batch: Any) -> Tensor:
        return sbcd_batch(pred, batch.y, batch.sym_ops, batch.batch, ops_batch(batch), **metric)

    def cd_loss(pred: Tensor, batch: Any) -> Tensor:
        return chamfer_batch(pred, batch.y, batch.batch, **metric)

    def mse_loss(pred: Tensor, batch: Any) -> Tensor:
        return torch.nn.functional.mse_loss(pred, batch.y)

    losses = {"sbmse": sbmse_loss, "sbcd": sbcd_loss, "cd": cd_loss, "mse": mse_loss}
    return losses[cfg.loss]


def _predict(model: torch.nn.Module, batch: Any) -> Tensor:
    # Gradient-based models (SchNet, DimeNet++, vector PaiNN) enable autograd for
    # their d(energy)/d(pos) internally, so evaluation can run under no_grad.
    with torch.no_grad():
        return model(batch)


def _per_sample_scores(pred: Tensor, batch: Any, ob: Tensor) -> dict[str, Tensor]:
    """(B,) tensors of every score in :data:`SCORES` for one batch."""
    _, sbmse = sbmse_batch(
        pred, batch.y, batch.sym_ops, batch.sym_perms, batch.batch, ob, return_per_sample=True
    )
    err = ((pred - batch.y) ** 2).sum(dim=1)
    counts = torch.bincount(batch.batch, minlength=batch.num_graphs).to(err.dtype)
    mse = torch.zeros(batch.num_graphs, dtype=err.dtype).index_add_(0, batch.batch, err) / counts
    out = {"sbmse": sbmse, "mse": mse}
    for suffix, convention in (("", SBBENCH_DEFAULT), ("_paper", SANN_PAPER)):
        kw = convention.to_dict()
        _, sb = sbcd_batch(
            pred, batch.y, batch.sym_ops, batch.batch, ob, return_per_sample=True, **kw
        )
        _, cd = chamfer_batch(pred, batch.y, batch.batch, return_per_sample=True, **kw)
        out["sbcd" + suffix], out["cd" + suffix] = sb, cd
    return out


def _sample_perms(batch: Any, k: int) -> Tensor:
    """Sample ``k``'s (G_k, N_k) atom permutations, in its own atom numbering."""
    n = torch.bincount(batch.batch, minlength=batch.num_graphs)
    size = batch.num_ops.cpu() * n.cpu()
    start = int(size[:k].sum())
    first = int(n[:k].sum())
    flat = batch.sym_perms[start : start + int(size[k])]
    return flat.reshape(int(batch.num_ops[k]), int(n[k])) - first


def evaluate(
    model: torch.nn.Module, loader: Any, *, keep_predictions: bool = False
) -> dict[str, Any]:
    """Mean of every score in :data:`SCORES` over the samples of ``loader``.

    Also ``collapsed`` (the number of collapsed predictions, :func:`~sbbench.metrics.
    is_collapsed`), ``n`` (samples) and, with ``keep_predictions``, the per-sample
    ``{"id", "pred", "target", "sym_ops", "sym_perms"}`` that results files store.
    """
    model.eval()
    scores: dict[str, list[Tensor]] = {k: [] for k in SCORES}
    predictions, collapsed, n = [], 0, 0
    for batch in loader:
        pred = _predict(model, batch)
        ob = ops_batch(batch)
        for key, values in _per_sample_scores(pred, batch, ob).items():
            scores[key].append(values)
        for k in range(batch.num_graphs):
            node, op = batch.batch == k, ob == k
            collapsed += bool(is_collapsed(pred[node], batch.y[node]))
            n += 1
            if keep_predictions:
                predictions.append(
                    {
                        "id": int(batch.idx[k]),
                        "pred": pred[node].cpu().numpy(),
                        "target": batch.y[node].cpu().numpy(),
                        "sym_ops": batch.sym_ops[op].cpu().numpy(),
                        "sym_perms": _sample_perms(batch, k).cpu().numpy(),
                    }
                )
    out: dict[str, Any] = {k: float(torch.cat(v).mean()) for k, v in scores.items()}
    out["collapsed"] = collapsed
    out["n"] = n
    if keep_predictions:
        out["predictions"] = predictions
    return out


@dataclasses.dataclass
class FoldResult:
    """What one fold's training produced (the best state is already loaded into the model)."""

    best_epoch: int
    best_val: dict[str, float]
    train_loss: list[float]
    val_sbmse: list[float]
    val_sbcd: list[float]
    train_time_s: float


def _optimizer(cfg: RunConfig, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def train_fold(
    model: torch.nn.Module,
    train_loader: Any,
    val_loader: Any,
    cfg: RunConfig,
    *,
    on_epoch: Callable[[int, float, dict[str, float]], None] | None = None,
) -> FoldResult:
    """Train ``model`` for ``cfg.epochs`` epochs; keep the epoch with the best validation SBMSE.

    The loss is ``make_loss(cfg)`` plus ``model.regularization()`` where the
    model defines one (the L2 penalty on relaxed weights of relaxed_e3nn).
    ``on_epoch(epoch, train_loss, val_scores)`` is called after every epoch.
    """
    loss_fn = make_loss(cfg)
    opt = _optimizer(cfg, model.parameters())
    sched = None
    if cfg.scheduler == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.lr, total_steps=cfg.epochs * max(1, len(train_loader))
        )
    regularization = getattr(model, "regularization", None)
    best_state, best_epoch, best_val = None, -1, {"sbmse": float("inf")}
    history: dict[str, list[float]] = {"train": [], "sbmse": [], "sbcd": []}
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        total, count = 0.0, 0
        for batch in train_loader:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch), batch)
            if callable(regularization):
                loss = loss + regularization()
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"training loss became {float(loss)} at epoch {epoch}; lower --lr"
                )
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss.detach()) * batch.num_graphs
            count += batch.num_graphs
        val = evaluate(model, val_loader)
        history["train"].append(total / max(count, 1))
        history["sbmse"].append(val["sbmse"])
        history["sbcd"].append(val["sbcd"])
        if val["sbmse"] < best_val["sbmse"]:
            best_val, best_epoch = val, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if on_epoch is not None:
            on_epoch(epoch, history["train"][-1], val)
    if best_state is not None:
        model.load_state_dict(best_state)
    return FoldResult(
        best_epoch=best_epoch,
        best_val=best_val,
        train_loss=history["train"],
        val_sbmse=history["sbmse"],
        val_sbcd=history["sbcd"],
        train_time_s=time.perf_counter() - start,
    )
