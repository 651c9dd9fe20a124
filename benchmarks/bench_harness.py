"""Harness overhead vs a bare training loop, and sweep speed-up with 2 Ray workers vs 1.

1. Epoch time of the harness (``sbbench.training.train_fold``, the loop that
   ``sbbench run`` runs for every fold, timed by its own ``train_time_s``) vs a
   bare hand-written loop measured in the same run: same model (EGNN, same
   seed and initial weights), same data (fold 0 of the 10-fold split, same
   shuffling generator), same loss (``sbbench.metrics.sbcd_batch``), same
   optimizer (AdamW + OneCycle), and a validation SBCD per epoch (needed to
   select an epoch) under ``torch.no_grad``. The harness adds the validation CD,
   per-sample scores, a forward pass with autograd on at validation (gradient
   models need it), a finiteness check and a copy of the best weights.
   Runs alternate (bare, harness, bare, ...); the median epoch time is used.
   Both loops must produce the same losses (checked, 1e-5). Target: the
   harness is at most 10% slower.
2. ``sbbench sweep`` wall time of the tiny grid (``baselines/grids/tiny.yaml``:
   its 2 points x ``--seeds``, with ``--sweep-epochs`` epochs so that training
   rather than the fixed per-task costs dominates) with 2 Ray workers vs 1, on
   one local Ray (2 CPUs, started once, workers warmed up first). On a 2-core
   machine the ideal is 2x; the driver, the per-task fixed costs (plots,
   checkpoints, results validation) and other load on a shared machine take
   cores from the workers, so expect less.

Usage: python benchmarks/bench_harness.py [--dataset qm7x] [--epochs 20] [--reps 5]
       [--hidden 64] [--layers 3] [--seeds 0,1] [--sweep-epochs 100] [--skip-sweep]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from sbbench.metrics import sbcd_batch
from sbbench.training import RunConfig, ops_batch, train_fold

GRID = Path(__file__).resolve().parents[1] / "baselines" / "grids" / "tiny.yaml"


def _loaders(dataset, cfg: RunConfig, seed: int):
    from torch_geometric.loader import DataLoader

    from sbbench.datasets import kfold

    train_idx, val_idx, _ = (torch.as_tensor(s) for s in kfold(dataset, cfg.folds, 0)[0])
    gen = torch.Generator().manual_seed(seed)
    train = DataLoader(dataset[train_idx], batch_size=cfg.batch_size, shuffle=True, generator=gen)
    val = DataLoader(dataset[val_idx], batch_size=cfg.batch_size)
    return train, val


def _model(cfg: RunConfig, sample, seed: int):
    from sbbench.models import build

    torch.manual_seed(seed)
    hp = {"out_vectors": int(sample.y.shape[1]) // 3, **cfg.model_hparams}
    attr = getattr(sample, "node_attr", None)
    if attr is not None:
        hp["node_attr_dim"] = int(attr.shape[1])
    return build(cfg.model, **hp)


def bare_loop(model, train, val, cfg: RunConfig) -> tuple[float, list[float], list[float]]:
    """A hand-written loop: AdamW + OneCycle on SBCD, validation SBCD every epoch.

    Returns the wall time and the per-epoch training loss and validation SBCD.
    """
    metric = dict(cfg.metric)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.epochs * len(train)
    )
    losses, val_sbcd = [], []
    start = time.perf_counter()
    for _ in range(cfg.epochs):
        model.train()
        total, count = 0.0, 0
        for batch in train:
            opt.zero_grad(set_to_none=True)
            ob = ops_batch(batch)
            loss = sbcd_batch(model(batch), batch.y, batch.sym_ops, batch.batch, ob, **metric)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * batch.num_graphs
            count += batch.num_graphs
        losses.append(total / count)
        model.eval()
        with torch.no_grad():
            val_sum, n = 0.0, 0
            for batch in val:
                ob = ops_batch(batch)
                pred = model(batch)
                val_sum += (
                    float(sbcd_batch(pred, batch.y, batch.sym_ops, batch.batch, ob, **metric))
                    * batch.num_graphs
                )
                n += batch.num_graphs
        val_sbcd.append(val_sum / n)
    return time.perf_counter() - start, losses, val_sbcd


def bench_overhead(args) -> None:
    from sbbench.datasets import load

    cfg = RunConfig(
        model="egnn",
        dataset=args.dataset,
        epochs=args.epochs,
        folds=10,
        batch_size=32,
        lr=1e-3,
        model_hparams={"hidden": args.hidden, "layers": args.layers},
        threads=1,
    )
    cfg.validate()
    try:
        dataset = load(args.dataset)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(
            f"dataset {args.dataset!r} is not available ({exc}); pass --dataset"
        ) from None
    if len(dataset) < cfg.folds:
        raise SystemExit(f"dataset {args.dataset!r} has {len(dataset)} samples, need >= 10")
    warm = RunConfig(**{**cfg.to_dict(), "epochs": 1})
    for loop in (bare_loop, train_fold):  # first-call costs (allocator, lazy imports)
        loop(_model(cfg, dataset[0], seed=0), *_loaders(dataset, cfg, seed=0), warm)
    bare_t, harness_t, max_diff = [], [], 0.0
    for rep in range(args.reps):
        model = _model(cfg, dataset[0], seed=rep)
        train, val = _loaders(dataset, cfg, seed=rep)
        t, bare_losses, bare_val = bare_loop(model, train, val, cfg)
        bare_t.append(t / cfg.epochs)

        model = _model(cfg, dataset[0], seed=rep)
        train, val = _loaders(dataset, cfg, seed=rep)
        fit = train_fold(model, train, val, cfg)
        harness_t.append(fit.train_time_s / cfg.epochs)
        pairs = zip(fit.train_loss + fit.val_sbcd, bare_losses + bare_val, strict=True)
        max_diff = max(max_diff, *(abs(a - b) for a, b in pairs))
    n_train = len(train.dataset)
    bare, harness = statistics.median(bare_t), statistics.median(harness_t)
    print(
        f"workload: egnn hidden {args.hidden} x {args.layers} layers on {args.dataset} "
        f"({len(dataset)} samples; fold 0: {n_train} train, {len(val.dataset)} val), "
        f"batch 32, {cfg.epochs} epochs x {args.reps} reps, 1 thread"
    )
    print(f"bare loop (baseline): {bare * 1e3:9.1f} ms/epoch  (runs: {_ms(bare_t)})")
    print(f"harness train_fold:   {harness * 1e3:9.1f} ms/epoch  (runs: {_ms(harness_t)})")
    print(f"same training in both (largest loss / val SBCD difference): {max_diff:.1e}")
    if max_diff > 1e-5:
        raise SystemExit("the two loops did not train the same model: the comparison is void")
    print(f"harness extra per epoch: {(harness - bare) * 1e3:+.1f} ms")
    print(
        f"harness overhead: {harness / bare:.3f}x = {100 * (harness / bare - 1):+.1f}% "
        "(target <= +10%)"
    )


def _ms(times: list[float]) -> str:
    return ", ".join(f"{t * 1e3:.1f}" for t in times)


def bench_sweep(args) -> None:
    import ray

    from sbbench.sweep import load_grid, run_sweep

    grid = load_grid(GRID)
    grid.base["epochs"] = args.sweep_epochs
    seeds = [int(s) for s in args.seeds.split(",")]
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024**2
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_sweep(grid, Path(tmp) / "warmup", seeds=seeds, workers=2, quiet=True)
            times: dict[int, list[float]] = {1: [], 2: []}
            train: dict[int, list[float]] = {1: [], 2: []}
            for rep in range(args.sweep_reps):
                for workers in (1, 2):
                    t0 = time.perf_counter()
                    s = run_sweep(
                        grid,
                        Path(tmp) / f"w{workers}-{rep}",
                        seeds=seeds,
                        workers=workers,
                        quiet=True,
                    )
                    times[workers].append(time.perf_counter() - t0)
                    if s["failures"]:
                        raise SystemExit(f"sweep task failed: {s['failures'][0]['error']}")
                    train[workers] += [_train_time(Path(s["out_dir"]), p) for p in s["points"]]
    finally:
        ray.shutdown()
    t1, t2 = statistics.median(times[1]), statistics.median(times[2])
    n = len(grid.points()) * len(seeds)
    print(
        f"sweep: tiny grid, {n} tasks ({len(grid.points())} points x {len(seeds)} seeds, "
        f"2 folds x {args.sweep_epochs} epochs each), local Ray with 2 CPUs"
    )
    print(f"1 worker (baseline): {t1:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times[1])})")
    print(f"2 workers:           {t2:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times[2])})")
    print(f"sweep speed-up: {t1 / t2:.2f}x (ideal on 2 cores: 2x)")
    m1, m2 = statistics.mean(train[1]), statistics.mean(train[2])
    print(
        f"training time per grid point: {m1:.2f} s alone, {m2:.2f} s two at a time "
        f"({m2 / m1:.2f}x: above 1 when the cores are not free for both workers)"
    )


def _train_time(out: Path, point: dict) -> float:
    """Summed per-fold training time (``train_time_s``) of a grid point's tasks."""
    from sbbench.leaderboard import load_results

    return sum(
        f["train_time_s"] for rel in point["results"] for f in load_results(out / rel)["folds"]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="qm7x")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--seeds", default="0,1", help="seeds of the tiny-grid sweep")
    ap.add_argument("--sweep-reps", type=int, default=2)
    ap.add_argument("--sweep-epochs", type=int, default=100, help="epochs of each sweep task")
    ap.add_argument("--skip-sweep", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    bench_overhead(args)
    if not args.skip_sweep:
        bench_sweep(args)


if __name__ == "__main__":
    main()
