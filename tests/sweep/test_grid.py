"""Grid files, their expansion into tasks, the summary and the missing-Ray error (no Ray)."""

import inspect
import itertools
import json
import sys
from pathlib import Path

import pytest
import yaml

from sbbench.cli import main
from sbbench.sweep import SELECTION, Grid, expand, format_summary, load_grid, summarize
from sbbench.training import resolve_config

GRIDS = Path(__file__).resolve().parents[2] / "baselines" / "grids"


def _write(tmp_path, data, name="g.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_table5_egnn_grid():
    grid = load_grid(GRIDS / "egnn_synthetic.yaml")
    assert grid.model == "egnn" and grid.axes == {
        "layers": [1, 2, 3, 5, 7],
        "hidden": [32, 64, 128],
    }
    tasks = expand(grid)
    assert len(tasks) == 15 == len({t.point.id for t in tasks})
    got = {(t.config.model_hparams["layers"], t.config.model_hparams["hidden"]) for t in tasks}
    assert got == set(itertools.product([1, 2, 3, 5, 7], [32, 64, 128]))
    assert all(t.config.threads == 1 and t.config.seeds == [0] for t in tasks)
    assert tasks[0].rel_dir == Path("layers-1_hidden-32") / "seed0"


def test_table6_sann_grid():
    """Table 6's axes, restricted to those our sann model has (see the grid file)."""
    pytest.importorskip("sbbench.models.sann")
    from sbbench.models import model_class

    accepted = inspect.signature(model_class("sann").__init__).parameters
    table6 = {"layers": [1, 2, 3], "num_spherical": [3, 4, 6], "num_radial": [3, 4, 6]}
    grid = load_grid(GRIDS / "sann.yaml")  # every key is accepted by the sann model
    assert grid.model == "sann"
    assert grid.axes == {k: v for k, v in table6.items() if k in accepted}
    assert len(expand(grid)) == len(grid.points())


def test_expand_overrides_and_training_axes(tmp_path):
    path = _write(
        tmp_path,
        {
            "model": "egnn+noise",
            "dataset": "square",
            "seeds": [3, 4],
            "base": {"epochs": 7, "model_hparams": {"layers": 2}},
            "grid": {"lr": [1.0e-3, 0.01], "noise_std": [0.01]},
        },
    )
    grid = load_grid(path)
    assert grid.name == "g"
    tasks = expand(grid)
    assert [(t.point.id, t.seed) for t in tasks] == [
        ("lr-0.001_noise_std-0.01", 3),
        ("lr-0.001_noise_std-0.01", 4),
        ("lr-0.01_noise_std-0.01", 3),
        ("lr-0.01_noise_std-0.01", 4),
    ]
    cfg = tasks[2].config
    assert cfg.lr == 0.01 and cfg.epochs == 7 and cfg.seeds == [3]
    # baseline YAML < grid base < grid point, merged key by key
    baseline = resolve_config("egnn+noise", "square").model_hparams
    assert cfg.model_hparams == {**baseline, "layers": 2, "noise_std": 0.01}
    assert "lr-0.01_noise_std-0.01" in cfg.hparam_selection
    quick = expand(grid, dataset="h2o_modes:asym", seeds=[9], quick=True)
    assert len(quick) == 2 and {t.seed for t in quick} == {9}
    assert (quick[0].config.dataset, quick[0].config.task) == ("h2o_modes", "asym")
    assert (quick[0].config.epochs, quick[0].config.folds) == (3, 2)


BASE = {"model": "egnn", "dataset": "square", "grid": {"hidden": [8]}}


@pytest.mark.parametrize(
    "change, match",
    [
        ({"gird": {}}, r"unknown key 'gird' \(did you mean 'grid'\?\)"),
        ({"model": ""}, "'model' must be a non-empty string"),
        ({"model": "egn"}, "unknown model 'egn'"),
        ({"model": "egnn+mpl"}, r"unknown modifier '\+mpl' \(did you mean 'mlp'\?\)"),
        ({"seeds": [0, 0]}, "repeats a seed"),
        ({"seeds": "0"}, "non-empty list of integers"),
        ({"base": {"epoch": 3}}, r"base: unknown config key 'epoch' \(did you mean 'epochs'\?\)"),
        ({"base": {"seeds": [1]}}, "base: unknown config key 'seeds'"),
        ({"grid": {"hiden": [8]}}, r"'hiden' is neither.*did you mean 'hidden'"),
        ({"grid": {"hidden": []}}, "'hidden' must be a non-empty list"),
        ({"grid": {"hidden": 8}}, "'hidden' must be a non-empty list"),
        ({"grid": {"seeds": [1, 2]}}, "'seeds' cannot be a grid axis"),
        ({"grid": {}}, "'grid' must be a non-empty mapping"),
    ],
)
def test_bad_grid_files(tmp_path, change, match):
    path = _write(tmp_path, {**BASE, **change})
    with pytest.raises(ValueError, match=match) as err:
        load_grid(path)
    assert str(path) in str(err.value)  # the error names the file


def test_bad_grid_file_format(tmp_path):
    with pytest.raises(ValueError, match="expected a mapping"):
        load_grid(_write(tmp_path, "- 1\n- 2\n"))
    with pytest.raises(ValueError, match="missing required key 'dataset'"):
        load_grid(_write(tmp_path, {"model": "egnn", "grid": {"hidden": [8]}}))
    with pytest.raises(ValueError, match="not valid YAML"):
        load_grid(_write(tmp_path, "grid: [1, 2\n"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_grid(tmp_path / "missing.yaml")
    # two values that map to the same directory name
    grid = load_grid(_write(tmp_path, {**BASE, "grid": {"loss": ["sbcd", "sb/cd"]}}))
    with pytest.raises(ValueError, match="share the directory name 'loss-sbcd'"):
        grid.points()


def _fake_results(val: list[float], test: list[float]) -> dict:
    return {
        "folds": [
            {"val": {"sbmse": v, "sbcd": v + 5}, "test": {"sbmse": t, "sbcd": t + 1}}
            for v, t in zip(val, test)
        ]
    }


def test_summary_selects_on_validation_only():
    grid = Grid(
        name="g",
        model="egnn",
        dataset="square",
        seeds=[0, 1],
        base={"folds": 2, "epochs": 1},
        axes={"hidden": [8, 16, 32]},
    )
    tasks = expand(grid)
    by = {(t.point.id, t.seed): str(t.rel_dir) for t in tasks}
    results = {
        # lowest test SBMSE, but higher validation SBMSE: must not be chosen
        by["hidden-8", 0]: _fake_results([0.5, 0.7], [0.01, 0.01]),
        by["hidden-8", 1]: _fake_results([0.6, 0.6], [0.01, 0.01]),
        by["hidden-16", 0]: _fake_results([0.2, 0.4], [0.9, 0.9]),
        by["hidden-16", 1]: _fake_results([0.3, 0.3], [0.8, 0.8]),
        # best validation, but seed 1 failed: an incomplete point is not selected
        by["hidden-32", 0]: _fake_results([0.01, 0.01], [0.01, 0.01]),
    }
    failure = {"point": "hidden-32", "seed": 1, "attempts": 2, "error": "ValueError: boom"}
    counts = {"total": 6, "skipped": 0, "ran": 5, "failed": 1}
    s = summarize(grid, tasks, results, [failure], out_dir="o", counts=counts, wall_s=1.0)
    assert s["best"] == "hidden-16" and s["best_params"] == {"hidden": 16}
    assert s["selection"] == SELECTION and s["seeds"] == [0, 1] and s["folds"] == 2
    p16 = next(p for p in s["points"] if p["id"] == "hidden-16")
    assert p16["val_sbmse"]["mean"] == pytest.approx(0.3) and p16["val_sbmse"]["n"] == 4
    assert p16["test_sbmse"]["mean"] == pytest.approx(0.85)
    assert p16["test_sbcd"]["mean"] == pytest.approx(1.85)
    p32 = next(p for p in s["points"] if p["id"] == "hidden-32")
    assert (p32["finished"], p32["tasks"]) == (1, 2)
    json.dumps(s, allow_nan=False)  # the summary is plain JSON
    table = format_summary(s)
    assert "* hidden-16" in table and "FAILED hidden-32 seed 1 after 2 attempts" in table


def test_missing_ray_is_one_line_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    code = main(["sweep", "--grid", str(GRIDS / "tiny.yaml"), "--out", "unused"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "sbbench: error: sbbench sweep needs Ray: pip install 'sbbench[ray]'"
