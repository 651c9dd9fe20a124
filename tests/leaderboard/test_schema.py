"""The results/row schemas: in sync with leaderboards/, valid JSON Schema, path-naming errors."""

import copy
import math
from pathlib import Path

import pytest

from sbbench.leaderboard import RESULTS_SCHEMA, ROW_SCHEMA, row_columns, row_from_results
from sbbench.leaderboard._schema import check, schema_text
from tests.results._factory import build_results

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results():
    return build_results()


@pytest.mark.parametrize(
    "name, schema", [("schema.json", ROW_SCHEMA), ("results.schema.json", RESULTS_SCHEMA)]
)
def test_shipped_schema_files_are_generated_from_the_package(name, schema):
    assert (ROOT / "leaderboards" / name).read_text(encoding="utf-8") == schema_text(schema)


def test_row_columns_follow_schema_order():
    cols = row_columns()
    assert cols[0] == "submission_id" and cols[-1] == "command"
    assert set(cols) == set(ROW_SCHEMA["required"])
    scores = ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper")
    for col in (
        *(f"test_{k}_{stat}" for k in scores for stat in ("mean", "std")),
        "val_sbmse_mean",
        "val_sbmse_std",
        "test_collapsed",
        "test_predictions",
        "loss_chamfer",
        "dataset_sha256",
        "split_protocol",
    ):
        assert col in cols, col
    assert "cd_convention" not in cols and "val_sbcd_mean" not in cols


def test_row_of_a_results_file(results):
    row = row_from_results(results)
    assert row["test_collapsed"] == 0 and row["test_predictions"] == 18
    assert row["loss_chamfer"] == "null" and row["loss"] == "sbmse"
    assert row["test_sbmse_mean"] == results["summary"]["test_sbmse"]["mean"]
    assert row["val_sbmse_mean"] == results["summary"]["val_sbmse"]["mean"]


def test_schemas_agree_with_jsonschema(results):
    import jsonschema  # in the test extra: a missing install fails here, never skips

    for schema in (RESULTS_SCHEMA, ROW_SCHEMA):
        jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(results, RESULTS_SCHEMA)
    jsonschema.validate(row_from_results(results), ROW_SCHEMA)
    # Both validators reject the same broken documents.
    broken = []
    for mutate in (
        lambda r: r.pop("seeds"),
        lambda r: r["folds"][0]["test"].update(sbcd="0.1"),
        lambda r: r.update(loss="l1"),
        lambda r: r["dataset"].update(sha256="xyz"),
        lambda r: r.update(unexpected=1),
        lambda r: r["split"].update(protocol="stratified"),
        lambda r: r["folds"][1].update(fold=-1),
        lambda r: r["folds"][0]["test"].pop("collapsed"),
        lambda r: r["folds"][0]["test"].update(collapsed=1.5),
        lambda r: r["folds"][0]["val"].update(collapsed=0),
        lambda r: r["folds"][0]["predictions"][0].pop("sym_perms"),
        lambda r: r.update(loss_chamfer={"symmetric": "no", "reduction": "mean"}),
        lambda r: r.update(loss_chamfer={"symmetric": False}),
        lambda r: r.update(metric={"symmetric": True, "reduction": "mean"}),
        lambda r: r.update(format_version=1),
        lambda r: r["summary"].pop("test_sbmse"),
        lambda r: r["summary"]["test_collapsed"].update(n=0),
    ):
        bad = copy.deepcopy(results)
        mutate(bad)
        broken.append(bad)
    for bad in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, RESULTS_SCHEMA)
        with pytest.raises(ValueError):
            check(bad, RESULTS_SCHEMA)


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda r: r["folds"][1]["test"].update(sbcd=math.nan), "folds[1].test.sbcd"),
        (lambda r: r["folds"][0]["val"].update(cd=math.inf), "folds[0].val.cd"),
        (lambda r: r["folds"][2]["predictions"][0].pop("sym_ops"), "folds[2].predictions[0]"),
        (lambda r: r["provenance"]["hardware"].update(n_cpus="two"), "provenance.hardware.n_cpus"),
        (lambda r: r.update(n_params=-3), "n_params"),
        (lambda r: r.update(task=""), "task"),
        (lambda r: r["folds"][0]["test"].update(collapsed=1.5), "folds[0].test.collapsed"),
        (lambda r: r["folds"][3]["test"].update(sbmse=-1.0), "folds[3].test.sbmse"),
        (lambda r: r["folds"][2]["val"].pop("mse"), "folds[2].val"),
        (lambda r: r["folds"][1]["predictions"][2].pop("sym_perms"), "folds[1].predictions[2]"),
        (lambda r: r.update(loss_chamfer={"reduction": "sum"}), "loss_chamfer"),
        (lambda r: r["summary"]["test_collapsed"].update(count=-1), "summary.test_collapsed.count"),
    ],
)
def test_errors_name_the_field_path(results, mutate, path):
    bad = copy.deepcopy(results)
    mutate(bad)
    with pytest.raises(ValueError, match=path.replace("[", r"\[").replace("]", r"\]")):
        check(bad, RESULTS_SCHEMA)


def test_booleans_are_not_numbers():
    with pytest.raises(ValueError, match="expected integer"):
        check(True, {"type": "integer"})
