"""CLI: sbbench submit / validate / leaderboard / ls (exit codes, one-line errors, help)."""

import copy
import sys
from pathlib import Path

import pytest
import torch

import sbbench.cli as cli
from sbbench.leaderboard import content_hash, write_results
from tests.results._factory import build_results, register_toy

torch.set_num_threads(1)

MINE = ("submit", "validate", "leaderboard", "ls")


@pytest.fixture
def sbbench(sbbench, monkeypatch):
    """tests/cli/conftest.py's runner with only this file's subcommands registered, so
    the tests do not depend on the state of other subcommands."""
    monkeypatch.setattr(cli, "COMMANDS", {k: v for k, v in cli.COMMANDS.items() if k in MINE})
    return sbbench


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    good = [build_results(tag=t) for t in range(2)]
    one_seed = build_results(tag=5, seeds=(4,))
    bad = copy.deepcopy(good[0])
    bad["folds"][2]["predictions"][1]["pred"][3][1] -= 0.3
    bad["content_hash"] = content_hash(bad)
    return {
        "good0": write_results(d / "good0.json", good[0]),
        "good1": write_results(d / "good1.json", good[1]),
        "one_seed": write_results(d / "one_seed.json", one_seed),
        "bad": write_results(d / "bad.json", bad),
    }


def test_submit_then_leaderboard(sbbench, files, tmp_path, monkeypatch):
    register_toy(monkeypatch)
    code, out, err = sbbench("submit", files["good0"], "--dir", tmp_path)
    assert code == 0, err
    assert out.startswith("accepted: submission ") and "rank 1 of 1" in out
    assert (tmp_path / "toy.csv").is_file()
    code, out, err = sbbench("submit", files["one_seed"], "--dir", tmp_path)
    assert code == 0 and "warning: only 1 seed(s)" in err and "of 2" in out

    code, out, _ = sbbench("leaderboard", "toy", "--dir", tmp_path)
    lines = out.splitlines()
    assert code == 0 and lines[0] == "toy (2 submissions)"
    assert lines[2].split()[:5] == ["rank", "task", "split", "data", "model"]  # group columns
    assert [ln.split()[0] for ln in lines[4:]] == ["1", "2"] and "±" in lines[4]
    code, md, _ = sbbench("leaderboard", "--dir", tmp_path, "--format", "markdown")
    assert code == 0 and md.startswith("### toy (2 submissions)") and "| rank |" in md
    code, csv_out, _ = sbbench("leaderboard", "toy", "--dir", tmp_path, "--format", "csv")
    assert code == 0 and csv_out.startswith("rank,submission_id,") and csv_out.count("\n") == 3
    code, out, _ = sbbench("leaderboard", "toy", "--dir", tmp_path, "--task", "nope")
    assert code == 0 and "(no rows)" in out
    code, out, _ = sbbench("leaderboard", "toy:default", "--dir", tmp_path)
    assert code == 0 and out.count("\n1 ") + out.count("\n2 ") == 2
    code, _, err = sbbench("leaderboard", "toy:default", "--task", "x", "--dir", tmp_path)
    assert code == 2 and "conflicting tasks" in err


def test_rejections_exit_1_and_leave_the_csv(sbbench, files, tmp_path, monkeypatch):
    register_toy(monkeypatch)
    assert sbbench("submit", files["good1"], "--dir", tmp_path)[0] == 0
    before = (tmp_path / "toy.csv").read_bytes()
    for name, why in (("good1", "duplicate"), ("bad", "folds[2].test.")):
        code, out, err = sbbench("submit", files[name], "--dir", tmp_path)
        assert code == 1 and out == ""
        assert err.startswith(f"sbbench: error: rejected {files[name]}: ") and why in err
        assert err.count("\n") == 1  # one line, no traceback
    assert (tmp_path / "toy.csv").read_bytes() == before


def test_unknown_dataset_rejected(sbbench, files, tmp_path):
    code, _, err = sbbench("submit", files["good0"], "--leaderboard", tmp_path / "x.csv")
    assert code == 1 and "unknown dataset 'toy'" in err
    assert not (tmp_path / "x.csv").exists()


def test_bad_input_exits_2(sbbench, tmp_path):
    code, _, err = sbbench("submit", tmp_path / "missing.json")
    assert code == 2 and "no such results file" in err
    (tmp_path / "broken.json").write_text("{")
    code, _, err = sbbench("validate", tmp_path / "broken.json")
    assert code == 2 and "not valid JSON" in err and err.count("\n") == 1
    code, _, err = sbbench("leaderboard", "tyo", "--dir", tmp_path)
    assert code == 2 and "no leaderboard for 'tyo'" in err
    code, out, _ = sbbench("leaderboard", "--dir", tmp_path / "empty")
    assert code == 0 and "no leaderboards yet" in out


def test_leaderboard_suggests_close_name(sbbench, files, tmp_path, monkeypatch):
    register_toy(monkeypatch)
    sbbench("submit", files["good0"], "--dir", tmp_path)
    code, _, err = sbbench("leaderboard", "tyo", "--dir", tmp_path)
    assert code == 2 and "Did you mean 'toy'?" in err


def test_debug_shows_traceback(sbbench, tmp_path):
    with pytest.raises(FileNotFoundError):
        sbbench("--debug", "submit", tmp_path / "missing.json")


def test_validate(sbbench, files, monkeypatch):
    code, out, err = sbbench("validate", files["good0"])
    assert code == 0 and out.startswith("valid: ") and "recomputed scores OK" in out
    assert "unknown dataset 'toy'" in err  # a warning here, a rejection in submit
    code, _, err = sbbench("validate", files["bad"])
    assert code == 1 and err.startswith("sbbench: error: invalid ") and "folds[2].test." in err
    code, out, _ = sbbench("validate", files["bad"], "--no-recompute")
    assert code == 0 and "schema and hash OK" in out
    register_toy(monkeypatch)
    assert sbbench("validate", files["good0"], "--strict")[0] == 0
    code, _, err = sbbench("validate", files["one_seed"], "--strict")
    assert code == 1 and "only 1 seed" in err


@pytest.mark.parametrize("command", MINE)
def test_help_has_examples(sbbench, command, capsys):
    with pytest.raises(SystemExit) as exc:
        sbbench(command, "--help")
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"sbbench {command}" in text
    if command != "ls":
        assert "exit codes" in text


def test_ls_lists_metrics_and_a_missing_registry_is_a_bug(sbbench, monkeypatch):
    code, out, _ = sbbench("ls", "metrics")
    assert code == 0 and out.startswith("metrics:") and "chamfer" in out and "sbcd" in out
    # models need only sbbench's own dependencies: one that cannot be imported is a broken
    # installation or a bug, reported as such (was: listed as "cannot be imported", exit 0)
    from sbbench import models

    def broken(name):
        raise ModuleNotFoundError("No module named 'torch_geometric'")

    monkeypatch.setattr(models, "model_class", broken)
    code, out, err = sbbench("ls", "models")
    assert code == 70 and out == ""
    assert "Traceback" in err and "torch_geometric" in err and "this is a bug" in err


def test_ls_models_from_registry(sbbench):
    pytest.importorskip("sbbench.models")
    from sbbench.models import names

    code, out, _ = sbbench("ls", "models")
    assert code == 0
    for name in names():
        if "+" not in name:  # bases under their listed names (dimenetpp, not dimenet++)
            assert f"\n  {name} " in out
    assert "(also accepted as dimenet++)" in out and "\n  dimenet++ " not in out
    assert "+mlp" in out and "+noise" in out


def test_separate_process_cli(files, tmp_path, monkeypatch):
    """The entry point in a fresh interpreter rejects a tampered file: exit 1, one line."""
    import os
    import subprocess

    from sbbench.leaderboard import submit

    register_toy(monkeypatch)
    board = tmp_path / "toy.csv"
    submit(files["good0"], board)
    before = board.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "sbbench", "submit", str(files["bad"]), "--leaderboard", board],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("sbbench: error: rejected ") and proc.stderr.count("\n") == 1
    assert board.read_bytes() == before


def _fake_checkout(root):
    """A checkout with the real docs/update_generated.py, a README with a stale
    leaderboard block, an empty leaderboards/ and a docs/leaderboard/ page folder."""
    import shutil

    (root / "docs" / "leaderboard").mkdir(parents=True)
    (root / "leaderboards").mkdir()
    here = Path(__file__).resolve().parents[2]
    shutil.copy(here / "docs" / "update_generated.py", root / "docs" / "update_generated.py")
    (root / "README.md").write_text(
        "intro\n<!-- leaderboards:begin -->\nold\n<!-- leaderboards:end -->\noutro\n"
    )
    return root


def _staleness_check(root):
    """What tests/leaderboard/test_generated_docs.py asserts, on ``root``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_fake", root / "docs/update_generated.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = (root / "README.md").read_text()
    return gen.block(text, "leaderboards") == gen.render("leaderboards")


def test_submit_into_a_checkout_regenerates_its_docs(sbbench, files, tmp_path, monkeypatch):
    """Following run's 'next: sbbench submit ...' hint inside a checkout keeps README's
    generated block current (issue 18 item 8); --no-docs says what to run instead."""
    register_toy(monkeypatch)
    root = _fake_checkout(tmp_path / "checkout")
    code, out, err = sbbench("submit", files["good0"], "--dir", root / "leaderboards")
    assert code == 0, err
    assert "regenerated: README.md, docs/leaderboard/index.html" in out
    assert _staleness_check(root)
    assert (root / "README.md").read_text().startswith("intro\n<!-- leaderboards:begin -->\n")
    assert "### toy (1 submission" in (root / "README.md").read_text()
    assert "<html" in (root / "docs/leaderboard/index.html").read_text().lower()

    code, out, err = sbbench("submit", files["good1"], "--dir", root / "leaderboards", "--no-docs")
    assert code == 0, err
    assert "run python docs/update_generated.py" in out
    assert not _staleness_check(root)  # the second row is not in the README yet


def test_submit_elsewhere_touches_no_docs(sbbench, files, tmp_path, monkeypatch):
    register_toy(monkeypatch)
    code, out, err = sbbench("submit", files["good0"], "--dir", tmp_path / "boards")
    assert code == 0, err
    assert "regenerated" not in out and "update_generated" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boards"]


def test_submit_keeps_the_board_mode(sbbench, files, tmp_path, monkeypatch):
    """submit rewrites the CSV atomically but leaves its mode as it was (it turned 0644
    into mkstemp's 0600); a new board gets 0666 & ~umask (issue 18 item 3)."""
    import os
    import stat

    register_toy(monkeypatch)
    old = os.umask(0o022)
    try:
        code, _, err = sbbench("submit", files["good0"], "--dir", tmp_path)
        assert code == 0, err
        board = tmp_path / "toy.csv"
        assert stat.S_IMODE(board.stat().st_mode) == 0o644
        board.chmod(0o664)
        code, _, err = sbbench("submit", files["good1"], "--dir", tmp_path)
        assert code == 0, err
        assert stat.S_IMODE(board.stat().st_mode) == 0o664
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp
    finally:
        os.umask(old)
