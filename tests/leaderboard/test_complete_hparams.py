"""leaderboards/complete_hparams.py: fills in the model hyperparameters of committed rows
only with the defaults of the code each row ran on, and only the hyperparameters cells."""

import csv
import importlib.util
import io
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSVS = sorted((ROOT / "leaderboards").glob("*.csv"))


@pytest.fixture(scope="module")
def script():
    path = ROOT / "leaderboards" / "complete_hparams.py"
    spec = importlib.util.spec_from_file_location("_complete_hparams", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _has_commit(commit: str) -> bool:
    done = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT)
    return done.returncode == 0


@pytest.mark.parametrize("path", CSVS, ids=[p.name for p in CSVS])
def test_committed_boards_have_nothing_left_to_complete(script, path):
    text, changed = script.complete_csv(path)
    assert (text, changed) == (path.read_text(encoding="utf-8"), 0)


def _painn_row(variant_hessian: bool = False) -> dict[str, str]:
    """A committed painn row (skips where its git_commit is not in this clone)."""
    rows = _rows(ROOT / "leaderboards" / "h2o_modes.csv")
    for row in rows:
        model = json.loads(row["hyperparameters"])["model"]
        if row["model"] == "painn" and (model["variant"] == "hessian") == variant_hessian:
            if not _has_commit(row["git_commit"]):
                pytest.skip(f"the row's git_commit {row['git_commit'][:12]} is not in this clone")
            return row
    raise AssertionError("no painn row in h2o_modes.csv")


@pytest.mark.parametrize("hessian", [False, True], ids=["tensor-or-vector", "hessian"])
def test_a_row_as_first_recorded_is_completed_to_its_committed_cell(script, hessian):
    row = _painn_row(hessian)
    hp = json.loads(row["hyperparameters"])
    keep = ("hidden", "layers", "out_vectors", "mode_rank", "normalize")
    if hp["model"]["variant"] == "hessian":
        keep += ("variant",)
    first = {k: v for k, v in hp["model"].items() if k in keep and v is not None}
    stripped = {**row, "hyperparameters": json.dumps({**hp, "model": first})}
    assert script.complete_row(stripped, "h2o_modes.csv:?") == row["hyperparameters"]
    assert script.complete_row(row, "h2o_modes.csv:?") is None  # complete already


def test_a_default_that_changed_since_the_row_ran_is_refused(script, monkeypatch):
    row = _painn_row()
    hp = json.loads(row["hyperparameters"])
    stripped = {**row, "hyperparameters": json.dumps({**hp, "model": {"out_vectors": 1}})}
    real = script._signature_at

    def older(commit, module, cls):  # as if PaiNN's num_rbf default had been 16 then
        sig = dict(real(commit, module, cls) or {})
        return {**sig, "num_rbf": 16} if cls == "PaiNN" else sig

    monkeypatch.setattr(script, "_signature_at", older)
    with pytest.raises(ValueError, match=r"num_rbf=20 was 16 at the row's git_commit"):
        script.complete_row(stripped, "h2o_modes.csv:?")
    monkeypatch.setattr(script, "_signature_at", lambda *a: None)
    with pytest.raises(ValueError, match="cannot read PaiNN"):
        script.complete_row(stripped, "h2o_modes.csv:?")


def test_a_parameter_the_row_did_not_have_is_filled_only_with_none(script, monkeypatch):
    row = _painn_row()
    hp = json.loads(row["hyperparameters"])
    stripped = {**row, "hyperparameters": json.dumps({**hp, "model": {"out_vectors": 1}})}
    real = script._signature_at

    def without(name):
        def sig(commit, module, cls):
            out = dict(real(commit, module, cls) or {})
            return {k: v for k, v in out.items() if k != name} if cls == "PaiNN" else out

        return sig

    monkeypatch.setattr(script, "_signature_at", without("num_rbf"))
    with pytest.raises(ValueError, match="num_rbf=20 is not a parameter of painn"):
        script.complete_row(stripped, "h2o_modes.csv:?")
    monkeypatch.setattr(script, "_signature_at", without("mode_rank"))  # None: not set
    assert (
        json.loads(script.complete_row(stripped, "h2o_modes.csv:?"))["model"]["mode_rank"] is None
    )
