"""The symmetry benchmark script runs end to end (tiny workload, no timing asserts)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_symmetry.py"


def test_bench_symmetry_runs(capsys):
    spec = importlib.util.spec_from_file_location("bench_symmetry", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--n", "20", "--no-pymatgen"]) == 0
    out = capsys.readouterr().out
    assert "same as clean: 162/162" in out
    assert "projected full QM7-X scan" in out and "molecules/s" in out
