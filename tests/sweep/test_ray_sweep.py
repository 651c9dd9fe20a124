"""``sbbench sweep`` on a local Ray (2 CPUs): results, restart, retry, failure report.

Ray starts once for the module (it is slow to start); tasks reuse its workers.
"""

import json
from pathlib import Path

import pytest
import yaml

from sbbench.cli import main
from sbbench.leaderboard import load_results, validate_results
from sbbench.sweep import expand, load_grid, run_sweep
from sbbench.training import run_experiment

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow  # Ray starts in ~8 s; the grid test takes ~30 s

TINY = Path(__file__).resolve().parents[2] / "baselines" / "grids" / "tiny.yaml"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=100 * 1024**2,
    )
    yield
    ray.shutdown()


def _summary(out: Path) -> dict:
    return json.loads((out / "sweep_summary.json").read_text())


def test_tiny_grid_results_restart_and_resume(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "--grid", str(TINY), "--out", str(out), "--workers", "2", "--quiet"]
    assert main(args) == 0
    tasks = expand(load_grid(TINY))
    assert len(tasks) == 2
    s = _summary(out)
    assert s["counts"] == {"total": 2, "skipped": 0, "ran": 2, "failed": 0}
    assert s["failures"] == [] and not s["interrupted"]
    files = {}
    for task in tasks:
        path = out / task.rel_dir / "results.json"
        res = load_results(path)
        validate_results(res)  # same schema as sbbench run; scores recomputed from predictions
        assert res["hyperparameters"]["model"]["hidden"] == task.config.model_hparams["hidden"]
        assert res["seeds"] == [task.seed] and len(res["folds"]) == 2
        assert (out / task.rel_dir / "checkpoints" / "seed0_fold1.pt").is_file()
        assert res["command"].startswith("sbbench run --model egnn --dataset square --config ")
        files[path] = path.read_bytes()
    # the best point is the one with the lowest mean validation SBMSE
    vals = {p["id"]: p["val_sbmse"]["mean"] for p in s["points"]}
    assert s["best"] == min(vals, key=vals.get)
    # a sweep task gives exactly what `sbbench run` gives for that config
    direct = run_experiment(tasks[1].config, tmp_path / "direct", quiet=True).results
    swept = load_results(out / tasks[1].rel_dir / "results.json")
    assert [f["val"] for f in swept["folds"]] == [f["val"] for f in direct["folds"]]
    assert [f["test"] for f in swept["folds"]] == [f["test"] for f in direct["folds"]]

    # restart: nothing to do, nothing rewritten
    assert main(args) == 0
    assert _summary(out)["counts"] == {"total": 2, "skipped": 2, "ran": 0, "failed": 0}
    assert all(p.read_bytes() == data for p, data in files.items())

    # a damaged results.json is not a finished task: only that one runs again
    broken = out / tasks[0].rel_dir / "results.json"
    broken.write_bytes(files[broken][:100])
    assert main(args) == 0
    assert _summary(out)["counts"] == {"total": 2, "skipped": 1, "ran": 1, "failed": 0}
    validate_results(load_results(broken))
    capsys.readouterr()

    # a changed grid must not silently reuse (or overwrite) results of another config
    changed = tmp_path / "changed.yaml"
    data = yaml.safe_load(TINY.read_text())
    data["base"]["epochs"] = 4
    changed.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ValueError, match=r"different config \(differs in: epochs\)"):
        run_sweep(load_grid(changed), out, quiet=True)


def test_failing_task_is_retried_and_reported(tmp_path, capsys):
    data = yaml.safe_load(TINY.read_text())
    data["grid"] = {"hidden": [8], "layers": [1, -1]}  # EGNN rejects layers=-1 when built
    grid_file = tmp_path / "bad.yaml"
    grid_file.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "sweep"
    code = main(["sweep", "--grid", str(grid_file), "--out", str(out), "--workers", "2"])
    printed = capsys.readouterr().out
    assert code == 1  # ran, but a task failed
    assert "hidden-8_layers--1 seed 0: attempt 1 failed (InputError: need layers >= 0" in printed
    assert "FAILED hidden-8_layers--1 seed 0 after 2 attempts" in printed
    s = _summary(out)
    assert s["counts"] == {"total": 2, "skipped": 0, "ran": 1, "failed": 1}
    (failure,) = s["failures"]
    assert (failure["point"], failure["seed"], failure["attempts"]) == ("hidden-8_layers--1", 0, 2)
    assert failure["error"].startswith("InputError: need layers >= 0 and hidden >= 1, got -1, 8")
    log = (out / failure["log"]).read_text()
    assert 'File "' in log and "\x1b[" not in log  # the worker's traceback, no colour codes
    assert not (out / "hidden-8_layers--1" / "seed0" / "results.json").exists()
    # the other task was not lost, and is the best (only complete) point
    validate_results(load_results(out / "hidden-8_layers-1" / "seed0" / "results.json"))
    assert s["best"] == "hidden-8_layers-1"
