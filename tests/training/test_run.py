"""The training harness: config resolution, determinism, outputs, Ctrl-C, CLI errors."""

import json

import pytest
import torch

from sbbench.cli import main
from sbbench.leaderboard import load_results, validate_results
from sbbench.training import RunConfig, resolve_config, run_experiment
from sbbench.training import _experiment as experiment

TINY = {"hidden": 8, "layers": 1}


def _cfg(**kw) -> RunConfig:
    base = dict(
        model="egnn",
        dataset="square",
        folds=2,
        epochs=2,
        batch_size=2,
        lr=1e-3,
        model_hparams=TINY,
        threads=1,
        equivariance_samples=1,
    )
    base.update(kw)
    cfg = RunConfig(**base)
    cfg.validate()
    return cfg


def test_resolve_precedence(tmp_path):
    cfg = resolve_config("egnn+mlp", "h2o_modes:asym", overrides={"epochs": 7})
    assert (cfg.model, cfg.dataset, cfg.task, cfg.epochs) == ("egnn+mlp", "h2o_modes", "asym", 7)
    assert cfg.lr == 1e-4 and cfg.optimizer == "adamw" and cfg.loss == "sbmse"
    extra = tmp_path / "c.yaml"
    extra.write_text("epochs: 5\nmodel_hparams: {hidden: 16}\n")
    cfg = resolve_config("egnn", "square", config_file=extra, quick=True)
    assert cfg.epochs == 3 and cfg.folds == 2  # --quick wins over the file
    assert cfg.model_hparams["hidden"] == 16


@pytest.mark.parametrize(
    "text, match",
    [("epoch: 5\n", "unknown config key 'epoch'.*'epochs'"), ("[1, 2]\n", "expected a mapping")],
)
def test_bad_config_file(tmp_path, text, match):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ValueError, match=match):
        resolve_config("egnn", "square", config_file=bad)


def test_none_overrides_are_applied(tmp_path):
    """An override of None is a value (e.g. split: None = the dataset's protocol), not 'unset'."""
    file = tmp_path / "c.yaml"
    file.write_text("split: random\nthreads: 1\n")
    assert resolve_config("egnn", "qm7x", config_file=file).split == "random"
    cfg = resolve_config(
        "egnn", "qm7x", config_file=file, overrides={"split": None, "threads": None}
    )
    assert cfg.split is None and cfg.threads is None
    with pytest.raises(ValueError, match="lr may not be null"):
        resolve_config("egnn", "square", overrides={"lr": None})
    with pytest.raises(ValueError, match="split must be one of same, random, grouped"):
        resolve_config("egnn", "square", overrides={"split": "molecule"})
    with pytest.raises(ValueError, match="unknown config key 'split_group'"):
        resolve_config("egnn", "square", overrides={"split_group": None})


def test_bad_values():
    with pytest.raises(ValueError, match="loss must be one of.*'sbcd'"):
        resolve_config("egnn", "square", overrides={"loss": "sbdc"})
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        resolve_config("egnn", "square", overrides={"epochs": 0})


@pytest.fixture
def umask022():
    import os

    old = os.umask(0o022)
    yield
    os.umask(old)


def _modes(folder):
    import stat

    return {
        str(p.relative_to(folder)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_run_is_deterministic_and_writes_everything(tmp_path, umask022):
    a = run_experiment(_cfg(), tmp_path / "a", quiet=True)
    # every file with the mode a plain write gives (0666 & ~umask), none left 0600 by a
    # temporary file (issue 18 item 3), and no temporary file left behind
    modes = _modes(a.out_dir)
    assert set(modes.values()) == {"0o644"}, modes
    assert not [name for name in modes if "/." in "/" + name], modes
    b = run_experiment(_cfg(), tmp_path / "b", quiet=True)
    fa, fb = a.results["folds"], b.results["folds"]
    assert [f["test"] for f in fa] == [f["test"] for f in fb]
    assert [f["val"] for f in fa] == [f["val"] for f in fb]
    assert fa[0]["predictions"][0]["pred"] == fb[0]["predictions"][0]["pred"]
    for name in ("results.json", "config.yaml", "run.log", "curves.png", "arrows.png"):
        assert (a.out_dir / name).stat().st_size > 0, name
    assert sorted(p.name for p in (a.out_dir / "checkpoints").iterdir()) == [
        "seed0_fold0.pt",
        "seed0_fold1.pt",
    ]
    res = load_results(a.out_dir / "results.json")
    validate_results(res)  # schema, hash and scores recomputed from the predictions
    assert res["model"] == "egnn" and res["symmetry_class"] == "equivariant"
    assert res["split"]["protocol"] == "same"
    # an equivariant model at float32: measured equivariance error is tiny
    assert all(f["equivariance_error"] < 1e-4 for f in res["folds"])
    # a different seed changes the numbers (the seed is really used)
    c = run_experiment(_cfg(seeds=[1], folds=1), tmp_path / "c", quiet=True)
    assert c.results["folds"][0]["test"] != fa[0]["test"]


def test_ctrl_c_keeps_finished_folds(tmp_path, monkeypatch):
    real = experiment.train_fold
    calls = {"n": 0}

    def interrupt_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(experiment, "train_fold", interrupt_second)
    out = run_experiment(_cfg(), tmp_path / "run", quiet=True)
    assert out.interrupted
    assert len(out.results["folds"]) == 1
    assert json.loads((tmp_path / "run" / "results.json").read_text())["folds"][0]["fold"] == 0


def test_regularization_is_added(tmp_path):
    """A model's regularization() enters the loss (relaxed_e3nn's L2 on relaxed weights)."""
    from sbbench.training._loop import train_fold

    class Reg(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, batch):
            return batch.pos * 0 + self.w * 0

        def regularization(self):
            return 10 * self.w.square().sum()

    from torch_geometric.loader import DataLoader

    from sbbench.datasets import load

    ds = load("square")
    model = Reg()
    fit = train_fold(model, DataLoader(ds, 2), DataLoader(ds, 2), _cfg(epochs=5, lr=0.1))
    assert fit.train_loss[-1] < fit.train_loss[0]
    assert float(model.w.detach().abs()) < 1


def test_cli_errors_are_one_line(capsys):
    assert main(["run", "--model", "egnm", "--dataset", "square", "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "egnm" in err and "egnn" in err
    assert main(["run", "--model", "egnn", "--dataset", "squar", "--quick"]) == 2
    assert "square" in capsys.readouterr().err


def test_cli_quick_run(tmp_path, capsys):
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("model_hparams: {hidden: 8, layers: 1}\nthreads: 1\nequivariance_samples: 1\n")
    code = main(
        [
            "run",
            "--model",
            "egnn",
            "--dataset",
            "square",
            "--quick",
            "--epochs",
            "1",
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == f"results: {tmp_path / 'o' / 'results.json'}"


def test_relaxed_weights_are_reported_and_plotted(tmp_path, umask022):
    """A relaxed_e3nn run logs what its relaxed weights say and writes theta.png; others do not.

    The logged report is describe() of the trained first (seed, fold) model, rebuilt
    here from its checkpoint, and its numbers are those of that model's theta.
    """
    from sbbench.models import build
    from sbbench.models.relaxed_e3nn import describe, theta_irreps

    hp = {"hidden": 4, "layers": 1, "lmax": 1, "l_relaxed": 2}
    cfg = _cfg(model="relaxed_e3nn", folds=1, model_hparams=hp)
    out = tmp_path / "relaxed"
    run_experiment(cfg, out, quiet=True)
    assert (out / "theta.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _modes(out)["theta.png"] == "0o644"  # not describe()'s mkstemp 0600 (item 3)
    header = "relaxed weights (first seed/fold; figure theta.png):\n"
    text = (out / "run.log").read_text()
    assert text.count(header) == 1
    logged = text.split(header)[1].splitlines()
    logged = logged[: next(i for i, line in enumerate(logged) if not line.startswith("layer "))]

    model = build("relaxed_e3nn", out_vectors=1, **hp)
    model.load_state_dict(torch.load(out / "checkpoints" / f"seed{cfg.seeds[0]}_fold0.pt"))
    theta = model.relaxed_weights()
    assert "\n".join(logged) == str(describe(theta))
    # what the log says, read against theta itself: every irrep of eq. 5 up to l_relaxed,
    # one line per convolution, the norms and the dominant non-scalar irrep
    assert list(theta) == [str(ir) for _, ir in theta_irreps(hp["l_relaxed"])]
    assert len(logged) == hp["layers"] + 1
    for layer, line in enumerate(logged):
        assert line.startswith(f"layer {layer}: |theta| ")
        cells = line.split("|theta| ")[1].split(";")[0].split(", ")
        norms = dict(cell.split("=") for cell in cells)
        assert list(norms) == list(theta)
        for k, v in theta.items():
            assert float(norms[k]) == pytest.approx(float(v[layer].norm()), rel=5e-3, abs=1e-12)
        nonscalar = {k: float(v[layer].norm()) for k, v in theta.items() if k != "0e"}
        assert f"dominant non-scalar {max(nonscalar, key=nonscalar.get)};" in line

    run_experiment(_cfg(folds=1), tmp_path / "egnn", quiet=True)
    assert not (tmp_path / "egnn" / "theta.png").exists()
    assert "relaxed weights" not in (tmp_path / "egnn" / "run.log").read_text()


def test_evaluate_scores_and_counts_collapse():
    """evaluate() on the H2O asym mode: the target itself scores 0 everywhere; a
    constant output is collapsed and sits at SBMSE = mean |y|^2 (here 1/3)."""
    from torch_geometric.loader import DataLoader

    from sbbench.datasets import load
    from sbbench.training import evaluate

    loader = DataLoader(load("h2o_modes:asym"), batch_size=2)

    class Echo(torch.nn.Module):
        def forward(self, batch):
            return batch.y.clone()

    class Constant(torch.nn.Module):
        def forward(self, batch):
            return torch.full_like(batch.y, 1e-3)

    exact = evaluate(Echo(), loader, keep_predictions=True)
    assert exact["n"] == 2 and exact["collapsed"] == 0
    for key in ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper"):
        assert exact[key] == pytest.approx(0.0, abs=1e-10), key
    p = exact["predictions"][0]
    assert p["sym_perms"].shape == (len(p["sym_ops"]), len(p["pred"]))
    flat = evaluate(Constant(), loader)
    assert flat["collapsed"] == 2
    assert flat["sbmse"] == pytest.approx(1 / 3, rel=1e-2)
    # the paper's one-sided score of the collapsed answer is 50x lower: why it is not ranked
    assert flat["sbcd_paper"] < flat["sbmse"] / 10


@pytest.mark.parametrize(
    "model, dataset, message",
    [
        ("foo", "square", r"unknown model 'foo'\. Valid: "),
        ("egnn", "sqare", r"unknown dataset 'sqare'\. Did you mean 'square'\?"),
        ("egnn", "h2o_modes:asymm", r"unknown task 'asymm'"),
    ],
)
def test_bad_names_fail_before_any_work_or_file(tmp_path, capsys, model, dataset, message):
    import re

    out = tmp_path / "run"
    code = main(["run", "--model", model, "--dataset", dataset, "--out", str(out)])
    err = capsys.readouterr()
    assert code == 2
    assert re.search(message, err.err), err.err
    assert "Curie check" not in err.out  # failed before the Curie paragraph
    assert not out.exists()  # and before any file
