"""Every committed leaderboard row: schema, pinned data, and a command that parses.

Reads each ``leaderboards/*.csv`` of the checkout as plain CSV and checks every row

* against the row schema twice: the library's reader and validator
  (``read_leaderboard``, ``ROW_SCHEMA``) and, independently, ``jsonschema`` on the
  committed ``leaderboards/schema.json``; plus the bookkeeping the schema cannot
  express (file = dataset, seeds x folds = runs, unique submission ids);
* against the pinned data (``sbbench/results/_pins.py``): the dataset version is
  the current one and the sha256 is the pin of that version whose options agree with
  the row's task and with the dataset options its command sets;
* its ``command``: parsed (never run) by the ``sbbench`` CLI's argument parser, and
  what it names (model, dataset, task, loss, seeds, folds, epochs, split) is the row.
"""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import pytest

from sbbench.cli import build_parser
from sbbench.datasets import get_class, names
from sbbench.leaderboard import ROW_SCHEMA, read_leaderboard, row_columns
from sbbench.results._pins import PINS

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ROOT / "leaderboards"
CSVS = sorted(BOARDS.glob("*.csv"))


def _raw_rows() -> list[tuple[str, dict[str, str]]]:
    out = []
    for path in CSVS:
        with path.open(encoding="utf-8", newline="") as f:
            for line_no, row in enumerate(csv.DictReader(f), start=2):
                out.append((f"{path.name}:{line_no}", row))
    return out


RAW = _raw_rows()
TYPED = {path.name: read_leaderboard(path) for path in CSVS}
ROWS = []  # (file:line, typed row)
for path in CSVS:
    for line_no, row in enumerate(TYPED[path.name], start=2):
        ROWS.append((f"{path.name}:{line_no}", row))
IDS = [where for where, _ in ROWS]


def test_there_are_committed_rows():
    assert CSVS, "no leaderboards/*.csv"
    for path in CSVS:
        assert path.stem in names(), f"{path.name} is not the leaderboard of a dataset"
    assert len(ROWS) == len(RAW) > 0


@pytest.mark.parametrize("path", CSVS, ids=[p.name for p in CSVS])
def test_header_is_the_committed_schema(path):
    schema = json.loads((BOARDS / "schema.json").read_text(encoding="utf-8"))
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == list(schema["properties"]) == row_columns()
    assert sorted(schema["required"]) == sorted(header)
    assert schema["properties"] == ROW_SCHEMA["properties"]  # the file is the code's schema


@pytest.mark.parametrize("path", CSVS, ids=[p.name for p in CSVS])
def test_rows_validate_against_the_schema_file(path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((BOARDS / "schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    rows = TYPED[path.name]
    for line_no, row in enumerate(rows, start=2):
        errors = sorted(validator.iter_errors(row), key=lambda e: list(e.path))
        assert not errors, f"{path.name}:{line_no}: {errors[0].message}"
    ids = [r["submission_id"] for r in rows]
    assert len(set(ids)) == len(ids), f"{path.name}: duplicate submission ids"


@pytest.mark.parametrize("where, row", ROWS, ids=IDS)
def test_row_bookkeeping(where, row):
    assert row["dataset"] == where.split(".csv")[0]
    assert row["content_hash"].startswith(row["submission_id"])
    seeds = json.loads(row["seeds"])
    assert len(seeds) == len(set(seeds)) == row["n_seeds"]
    assert row["n_runs"] == row["n_seeds"] * row["n_folds"]
    assert 0 <= row["test_collapsed"] <= row["test_predictions"]
    for json_column in ("hyperparameters", "loss_chamfer", "seeds"):
        json.loads(row[json_column])


# --------------------------------------------------------------------------- commands


def parse_command(command: str):
    """The argparse namespace of a recorded command (parsed, never run)."""
    argv = shlex.split(command)
    assert argv[0] == "sbbench", command
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit as exc:  # argparse reports bad arguments by exiting (code 2)
        pytest.fail(f"command does not parse (exit {exc.code}): {command}")


def named_run(row) -> dict:
    """What the row's command runs: model, dataset[:task], loss, options, split, ..."""
    from sbbench.reproduce import TABLES

    args = parse_command(row["command"])
    if args.command == "run":
        return {
            "model": args.model,
            "dataset": args.dataset,
            "loss": args.loss,
            "dataset_options": {},
            "split": args.split,
            "seeds": [args.seed] if args.seed is not None else args.seeds,
            "folds": args.folds,
            "epochs": args.epochs,
        }
    assert args.command == "reproduce", row["command"]
    assert args.table in TABLES, f"unknown table {args.table!r}"
    assert args.only and len(args.only) == 1, "a row's command reruns exactly one row"
    (spec,) = [s for s in TABLES[args.table] if s.key == args.only[0]] or [None]
    assert spec is not None, f"no row {args.only[0]!r} in {args.table}"
    overrides = dict(spec.overrides)
    return {
        "model": spec.model,
        "dataset": spec.dataset,
        "loss": spec.loss,
        "dataset_options": overrides.get("dataset_options", {}),
        "model_hparams": overrides.get("model_hparams", {}),
        "split": overrides.get("split"),
        "seeds": args.seeds,  # parsed by argparse (a list of ints)
        "folds": args.folds,
        "epochs": args.epochs,
    }


@pytest.mark.parametrize("where, row", ROWS, ids=IDS)
def test_command_parses_and_names_this_row(where, row):
    run = named_run(row)
    dataset, _, task = run["dataset"].partition(":")
    assert run["model"] == row["model"]
    assert dataset == row["dataset"]
    assert (task or "default") == row["task"]
    if run["loss"] is not None:
        assert run["loss"] == row["loss"]
    if run["split"] is not None:
        assert run["split"] == row["split_protocol"]
    if run["seeds"] is not None:
        assert run["seeds"] == json.loads(row["seeds"])
    hp = json.loads(row["hyperparameters"])
    if run["folds"] is not None:
        assert run["folds"] == row["n_folds"] == hp["training"]["folds"]
    if run["epochs"] is not None:
        assert run["epochs"] == hp["training"]["epochs"]
    for key, value in run.get("model_hparams", {}).items():
        assert hp["model"][key] == value, f"model hyperparameter {key}"


# --------------------------------------------------------------------------- pinned data


@pytest.mark.parametrize("where, row", ROWS, ids=IDS)
def test_row_is_on_the_pinned_data(where, row):
    """Every row is on pinned data: of the current version, or of a retired version whose
    pins are kept (such a row is not ranked, see the next test, and awaits a re-run)."""
    name, version = row["dataset"], str(row["dataset_version"])
    current = str(get_class(name).version)
    assert version == current or version in PINS[name], (
        f"dataset version {version} is neither the current version {current} nor pinned"
    )
    pins = PINS[name][version]
    run = named_run(row)
    wanted = dict(run["dataset_options"])
    if row["task"] != "default":
        wanted["task"] = row["task"]
    candidates = {
        key: sha
        for key, sha in pins.items()
        if all(json.loads(key).get(k) == v for k, v in wanted.items())
    }
    assert candidates, f"no pin of {name} v{version} has options {wanted}"
    assert row["dataset_sha256"] in candidates.values(), (
        f"sha256 {row['dataset_sha256'][:12]} is not the pinned data of {name} v{version} "
        f"with options {wanted}: pinned {sorted(s[:12] for s in candidates.values())}"
    )


@pytest.mark.parametrize("where, row", ROWS, ids=IDS)
def test_rows_on_current_data_are_ranked_and_retired_ones_not(where, row):
    from sbbench.leaderboard._html import row_status

    ranked, why = row_status(row)
    if str(row["dataset_version"]) == str(get_class(row["dataset"]).version):
        assert ranked, why
    else:
        assert not ranked and "retired" in why, why


# --------------------------------------------------------------------------- hyperparameters


@pytest.mark.parametrize("where, row", ROWS, ids=IDS)
def test_row_records_every_model_hyperparameter(where, row):
    """One configuration, one spelling (issue 18 item 11): the row's model hyperparameters
    are every constructor default of its model and modifiers, with what it set applied
    (``sbbench.models._registry.defaults``; rows from before:
    ``leaderboards/complete_hparams.py``)."""
    from sbbench.models._registry import defaults

    model = json.loads(row["hyperparameters"])["model"]
    assert set(defaults(row["model"])) <= set(model), "python leaderboards/complete_hparams.py"
    assert model == defaults(row["model"], **model)


def test_every_row_shows_its_model_hyperparameters():
    from sbbench.leaderboard._board import _model_hparams

    for where, row in ROWS:
        assert _model_hparams(row) != "-", where
    shown = {(row["model"], _model_hparams(row)) for _, row in ROWS}
    for model in ("sann", "dimenet+++mlp"):  # they showed '-' (recorded {"out_vectors": 1})
        views = {view for m, view in shown if m == model}
        assert views and all("hidden=64 layers=3" in view for view in views), model
