"""The leaderboard CSV row format (:data:`ROW_SCHEMA`) and the schema files of ``leaderboards/``.

The ``results.json`` format and the validator :func:`check` are in :mod:`sbbench.results`;
``leaderboards/schema.json`` (rows) and ``results.schema.json`` are generated from both with
``python -c "from sbbench.leaderboard import write_schema_files as w; w('leaderboards')"``
and a test checks that they are in sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._io import atomic_write_bytes
from ..results._schema import _HEX64, _SCORES, RESULTS_SCHEMA, check, schema_text

__all__ = [
    "ROW_SCHEMA",
    "RESULTS_SCHEMA",
    "check",
    "row_columns",
    "schema_text",
    "write_schema_files",
]

_SCORE_COL = {"type": "number", "minimum": 0}
_STD_COL = {"type": "number", "minimum": 0}
_JSON_COL = {"type": "string", "contentMediaType": "application/json"}

#: One row of ``leaderboards/<dataset>.csv``. The order of ``properties`` is the column
#: order. Columns holding structured data are JSON text (``contentMediaType``).
ROW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://sbbench.example/leaderboard-row.schema.json",
    "title": "sbbench leaderboard row",
    "description": (
        "One row of leaderboards/<dataset>.csv, written by `sbbench submit` from a validated "
        "results.json. Values are as parsed from the CSV (numbers as numbers, JSON columns as "
        "JSON text). Ranking: ascending test_sbmse_mean among rows with the same dataset, "
        "dataset_version, dataset_sha256, task and split_protocol."
    ),
    "type": "object",
    "additionalProperties": False,
    "required": [],  # filled below: every column is required
    "properties": {
        # identity
        "submission_id": {"type": "string", "pattern": "^[0-9a-f]{12}$"},
        "dataset": {"type": "string", "minLength": 1},
        "dataset_version": {"type": "string", "minLength": 1},
        "dataset_sha256": {"type": "string", "pattern": _HEX64},
        "task": {"type": "string", "minLength": 1},
        "model": {"type": "string", "minLength": 1},
        # scores
        **{
            f"test_{k}_{stat}": col
            for k in _SCORES
            for stat, col in (("mean", _SCORE_COL), ("std", _STD_COL))
        },
        "val_sbmse_mean": _SCORE_COL,
        "val_sbmse_std": _STD_COL,
        "test_collapsed": {"type": "integer", "minimum": 0},
        "test_predictions": {"type": "integer", "minimum": 1},
        "equivariance_error_mean": {"type": ["number", "null"], "minimum": 0},
        # method
        "symmetry_class": {"type": "string", "minLength": 1},
        "loss": {"type": "string", "minLength": 1},
        "loss_chamfer": _JSON_COL,
        "n_params": {"type": "integer", "minimum": 0},
        "hyperparameters": _JSON_COL,
        "hparam_selection": {"type": "string", "minLength": 1},
        # provenance
        "seeds": _JSON_COL,
        "n_seeds": {"type": "integer", "minimum": 1},
        "n_folds": {"type": "integer", "minimum": 1},
        "n_runs": {"type": "integer", "minimum": 1},
        "split_protocol": {"enum": ["random", "grouped", "same"]},
        "benchmark_version": {"type": "string", "minLength": 1},
        "sbbench_version": {"type": ["string", "null"]},
        "git_commit": {"type": ["string", "null"]},
        "date": {"type": "string", "minLength": 1},
        "hardware": {"type": "string"},
        "train_time_s": {"type": "number", "minimum": 0},
        "content_hash": {"type": "string", "pattern": _HEX64},
        # reproduce
        "command": {"type": "string", "minLength": 1},
    },
}
ROW_SCHEMA["required"] = list(ROW_SCHEMA["properties"])


def row_columns() -> list[str]:
    """Column names of a leaderboard CSV, in order."""
    return list(ROW_SCHEMA["properties"])


def write_schema_files(folder: str | Path) -> None:
    """Write ``schema.json`` (rows) and ``results.schema.json`` into ``folder``."""
    folder = Path(folder)
    for name, schema in (("schema.json", ROW_SCHEMA), ("results.schema.json", RESULTS_SCHEMA)):
        atomic_write_bytes(folder / name, schema_text(schema).encode("utf-8"))
