"""Training-step time of every model of the zoo vs PyG SchNet, measured in the same run.

Workload: one batch of small molecules, by default the first 32 conformers of
the shipped QM7-X reference set (``datasets/qm7x/reference.hdf5``; G2
molecules from ``ase.build.molecule`` if it cannot be read), fully connected
graphs, float32, a random per-atom vector target and an MSE loss. A training
step is forward + backward + Adam step; the median over ``--steps`` steps
after ``--warmup`` steps is reported together with the parameter count and
the ratio to SchNet. Also printed: the cost of relaxed weights,
``relaxed_e3nn`` (``l_relaxed=2``) over the same e3nn network with
``l_relaxed=0``, and SANN's first forward (frame detection for every
molecule, later cached). ``relaxed_e3nn`` is built with ``hidden // 4``
(its ``hidden`` counts irreps copies, see the parameter counts).

Usage: python benchmarks/bench_models.py [--batch 32] [--steps 10] [--hidden 64] [--layers 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch_geometric.data import Batch, Data

from sbbench.models import build

MODELS: list[tuple[str, str, dict]] = [
    ("schnet", "schnet", {}),
    ("dimenet++", "dimenet++", {}),
    ("egnn", "egnn", {}),
    ("painn (tensor)", "painn", {"variant": "tensor"}),
    ("painn (vector)", "painn", {"variant": "vector"}),
    ("relaxed_e3nn l_relaxed=2", "relaxed_e3nn", {"l_relaxed": 2}),
    ("relaxed_e3nn l_relaxed=0", "relaxed_e3nn", {"l_relaxed": 0}),
    ("sann", "sann", {}),
    ("egnn+mlp", "egnn+mlp", {}),
    ("egnn+noise", "egnn+noise", {}),
]


def reference_batch(size: int) -> tuple[Batch, str]:
    """The first ``size`` QM7-X reference conformers, or G2 molecules as a fallback."""
    data = []
    try:
        from sbbench._paths import shipped_file
        from sbbench.datasets.qm7x import iter_conformers

        for conf in iter_conformers(shipped_file("qm7x", "reference.hdf5")):
            data.append((conf.numbers, conf.positions))
            if len(data) == size:
                break
        source = "QM7-X reference set"
    except Exception as exc:  # noqa: BLE001 - any failure: fall back, and say so
        from ase.build import molecule
        from ase.collections import g2

        data = [(molecule(n).numbers, molecule(n).positions) for n in g2.names[:size]]
        source = f"G2 molecules (QM7-X reference unavailable: {exc})"
    out = [
        Data(z=torch.as_tensor(z).long(), pos=torch.as_tensor(p, dtype=torch.float32))
        for z, p in data
    ]
    return Batch.from_data_list(out), source


def step_times(model: torch.nn.Module, batch: Batch, steps: int, warmup: int) -> list[float]:
    gen = torch.Generator().manual_seed(0)
    target = torch.randn(batch.num_nodes, 3, generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    times = []
    for k in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = (model(batch) - target).pow(2).mean() + model.regularization()
        loss.backward()
        opt.step()
        if k >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32, help="molecules per batch")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    batch, source = reference_batch(args.batch)
    print(f"workload: {batch.num_graphs} molecules, {batch.num_nodes} atoms ({source})")
    print(f"hidden={args.hidden} layers={args.layers} threads={args.threads}, fully connected")
    results = {}
    for label, name, hp in MODELS:
        torch.manual_seed(0)
        # relaxed_e3nn's hidden counts copies of 0e and of 0o, plus hidden // 4 of each l > 0
        # irrep; hidden // 4 keeps its size comparable (see the parameter counts)
        hidden = args.hidden // 4 if name == "relaxed_e3nn" else args.hidden
        model = build(name, hidden=hidden, layers=args.layers, **hp)
        if name == "sann":
            t0 = time.perf_counter()
            with torch.no_grad():
                model(batch)
            print(f"sann first forward incl. frame detection: {time.perf_counter() - t0:.3f} s")
        times = step_times(model, batch, args.steps, args.warmup)
        params = sum(p.numel() for p in model.parameters())
        results[label] = (statistics.median(times), params)
    base = results["schnet"][0]
    print(f"\n{'model':<28}{'params':>10}{'ms/step':>12}{'vs schnet':>12}")
    for label, (t, params) in results.items():
        print(f"{label:<28}{params:>10}{1e3 * t:>12.1f}{t / base:>11.2f}x")
    relaxed = results["relaxed_e3nn l_relaxed=2"][0] / results["relaxed_e3nn l_relaxed=0"][0]
    print(f"\nrelaxed weights cost: l_relaxed=2 / l_relaxed=0 = {relaxed:.2f}x")


if __name__ == "__main__":
    main()
