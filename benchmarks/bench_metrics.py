"""Batched SBCD vs a plain Python loop over samples and group elements.

Baseline (measured in the same run): for every sample and every g in Sym(x),
``chamfer(pred, g·target)`` and a Python ``min``. Workload from issue 3:
1024 molecules x 20 points x |G| = 48 (O_h). Prints both times, the speed-up
ratio (target >= 30x), the largest difference between the two (must be < 1e-6)
and the peak memory of the batched call.

Usage: python benchmarks/bench_metrics.py [--molecules 1024] [--points 20] [--memory-mb 32]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from sbbench.metrics import chamfer, sbcd_batch


def oh_group() -> torch.Tensor:
    """The 48 signed permutation matrices: the cube's point group O_h."""
    import itertools

    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[range(3), perm] = signs
            mats.append(m)
    mats.sort(key=lambda m: not np.allclose(m, np.eye(3)))  # identity first
    return torch.tensor(np.array(mats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--molecules", type=int, default=1024)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--memory-mb", type=float, default=32.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    g = torch.Generator().manual_seed(0)
    B, N = args.molecules, args.points
    pred = torch.randn(B, N, 3, generator=g, dtype=torch.float64)
    target = torch.randn(B, N, 3, generator=g, dtype=torch.float64)
    ops = oh_group()

    t0 = time.perf_counter()
    loop = []
    for k in range(B):
        loop.append(min(float(chamfer(pred[k], target[k] @ R.T)) for R in ops))
    t_loop = time.perf_counter() - t0

    batch = torch.arange(B).repeat_interleave(N)
    ops_cat = ops.repeat(B, 1, 1)
    ops_batch = torch.arange(B).repeat_interleave(len(ops))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    _, per = sbcd_batch(
        pred.reshape(-1, 3),
        target.reshape(-1, 3),
        ops_cat,
        batch,
        ops_batch,
        return_per_sample=True,
        memory_mb=args.memory_mb,
    )
    t_batch = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    diff = float(np.abs(per.numpy() - np.array(loop)).max())
    print(f"workload: {B} molecules x {N} points x |G| = {len(ops)} (O_h), float64")
    print(f"python loop (baseline): {t_loop:8.3f} s")
    print(f"sbcd_batch:             {t_batch:8.3f} s")
    print(f"speed-up: {t_loop / t_batch:.1f}x (target >= 30x)")
    print(f"max |batched - loop| = {diff:.2e} (must be < 1e-6)")
    chunk_bytes = len(ops) * (N * N * 5 + 2 * N * 3) * 8
    mb = chunk_bytes / 2**20
    print(f"memory budget {args.memory_mb:.0f} MB; per-sample intermediates {mb:.2f} MB")
    grown = (rss_after - rss_before) / 1024
    print(f"peak RSS grew by {grown:.0f} MB during sbcd_batch (peak {rss_after / 1024:.0f} MB)")
    if diff >= 1e-6:
        raise SystemExit("batched and loop results differ")


if __name__ == "__main__":
    main()
