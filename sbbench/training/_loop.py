"""One fold: the training loop, the loss functions and the evaluation.

Every model of the zoo is trained by exactly this code, so scores differ only
by the model. Selection is on the validation SBCD (the SBM of SANN eq. 3):
the weights of the epoch with the lowest validation SBCD are kept and tested.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from sbbench.metrics import chamfer_batch, sbcd_batch

from ._config import RunConfig

__all__ = ["FoldResult", "make_loss", "evaluate", "train_fold", "ops_batch"]


def ops_batch(batch: Any) -> Tensor:
    """Sample index of every row of ``batch.sym_ops`` (ragged groups of a PyG batch)."""
    return torch.repeat_interleave(torch.arange(batch.num_graphs), batch.num_ops.cpu()).to(
        batch.sym_ops.device
    )


def make_loss(cfg: RunConfig) -> Callable[[Tensor, Any], Tensor]:
    """Training loss ``loss(pred, batch)``: SBCD (SBM), CD or per-component MSE."""
    metric = dict(cfg.metric)

    def sbcd_loss(pred: Tensor, batch: Any) -> Tensor:
        return sbcd_batch(pred, batch.y, batch.sym_ops, batch.batch, ops_batch(batch), **metric)

    def cd_loss(pred: Tensor, batch: Any) -> Tensor:
        return chamfer_batch(pred, batch.y, batch.batch, **metric)

    def mse_loss(pred: Tensor, batch: Any) -> Tensor:
        return torch.nn.functional.mse_loss(pred, batch.y)

    return {"sbcd": sbcd_loss, "cd": cd_loss, "mse": mse_loss}[cfg.loss]


def _predict(model: torch.nn.Module, batch: Any) -> Tensor:
    # Gradient-based models (SchNet, DimeNet++, vector PaiNN) enable autograd for
    # their d(energy)/d(pos) internally, so evaluation can run under no_grad.
    with torch.no_grad():
        return model(batch)


def evaluate(
    model: torch.nn.Module, loader: Any, metric: dict[str, Any], *, keep_predictions: bool = False
) -> dict[str, Any]:
    """Mean CD and SBCD over the samples of ``loader`` (and optionally the predictions)."""
    model.eval()
    cds, sbcds, predictions = [], [], []
    for batch in loader:
        pred = _predict(model, batch)
        ob = ops_batch(batch)
        _, sb = sbcd_batch(
            pred, batch.y, batch.sym_ops, batch.batch, ob, return_per_sample=True, **metric
        )
        _, cd = chamfer_batch(pred, batch.y, batch.batch, return_per_sample=True, **metric)
        sbcds.append(sb)
        cds.append(cd)
        if keep_predictions:
            for k in range(batch.num_graphs):
                node, op = batch.batch == k, ob == k
                predictions.append(
                    {
                        "id": int(batch.idx[k]),
                        "pred": pred[node].cpu().numpy(),
                        "target": batch.y[node].cpu().numpy(),
                        "sym_ops": batch.sym_ops[op].cpu().numpy(),
                    }
                )
    out: dict[str, Any] = {
        "cd": float(torch.cat(cds).mean()),
        "sbcd": float(torch.cat(sbcds).mean()),
    }
    if keep_predictions:
        out["predictions"] = predictions
    return out


@dataclasses.dataclass
class FoldResult:
    """What one fold's training produced (the best state is already loaded into the model)."""

    best_epoch: int
    best_val: dict[str, float]
    train_loss: list[float]
    val_sbcd: list[float]
    val_cd: list[float]
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
    """Train ``model`` for ``cfg.epochs`` epochs; keep the epoch with the best validation SBCD.

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
    best_state, best_epoch, best_val = None, -1, {"sbcd": float("inf"), "cd": float("inf")}
    history: dict[str, list[float]] = {"train": [], "sbcd": [], "cd": []}
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
        val = evaluate(model, val_loader, cfg.metric)
        history["train"].append(total / max(count, 1))
        history["sbcd"].append(val["sbcd"])
        history["cd"].append(val["cd"])
        if val["sbcd"] < best_val["sbcd"]:
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
        val_sbcd=history["sbcd"],
        val_cd=history["cd"],
        train_time_s=time.perf_counter() - start,
    )
