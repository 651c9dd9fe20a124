"""The format of ``results.json`` (:data:`RESULTS_SCHEMA`) and the validator of both file formats.

The leaderboard CSV row (``ROW_SCHEMA``) is in :mod:`sbbench.leaderboard._schema`. Both are
JSON Schemas (draft 2020-12) kept here as Python dicts, so they ship with
the package without package-data tricks. The copies in the top-level
``leaderboards/`` folder (``schema.json`` for rows, ``results.schema.json`` for
results) are generated from these dicts with
``python -c "from sbbench.leaderboard import write_schema_files as w; w('leaderboards')"``
and a test checks that they are in sync.

:func:`check` is a small validator for the subset of JSON Schema used here
(``type``, ``properties``, ``required``, ``additionalProperties``, ``items``,
``minItems``, ``enum``, ``const``, ``minimum``, ``pattern``, ``minLength``,
``$ref`` into ``$defs``). It exists so that errors name the offending field path
(``folds[2].test.sbcd``) and so that sbbench needs no ``jsonschema`` dependency;
the tests cross-check it against ``jsonschema`` where that is installed. Unlike
plain JSON Schema, ``"number"`` also rejects NaN and infinities (a leaderboard
score must be a real number).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sbbench.errors import InputError

__all__ = ["RESULTS_SCHEMA", "FORMAT_VERSION", "check", "schema_text"]

#: Version of the ``results.json`` format (bumped on incompatible changes).
FORMAT_VERSION = 2  # 2: SBMSE, both Chamfer conventions, collapse counts, sym_perms

_HEX64 = "^[0-9a-f]{64}$"
_ID = {"type": ["integer", "string"], "description": "sample id (the dataset's `idx`)"}
_SCORE = {"type": "number", "minimum": 0}
#: Per-sample scores stored per fold (means over the fold's samples).
_SCORES = ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper")
_SCORES_DOC = (
    "Means over the samples of: sbmse = sbbench.metrics.sbmse (min over g in Sym(x) of the "
    "per-atom squared error against g.y, mean over atoms); mse = its identity term; cd, sbcd = "
    "chamfer / sbcd with symmetric=true, reduction=mean, squared=true (sbbench default); "
    "cd_paper, sbcd_paper = the same with symmetric=false, reduction=sum (the SANN paper's "
    "one-sided m(X, Y); for comparison with its tables only)."
)
_STAT = {
    "type": "object",
    "required": ["mean", "std", "n"],
    "additionalProperties": False,
    "properties": {
        "mean": {"type": "number"},
        "std": {"type": "number", "minimum": 0, "description": "sample std (ddof=1); 0 if n=1"},
        "n": {"type": "integer", "minimum": 1, "description": "number of (fold, seed) runs"},
    },
}

RESULTS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://sbbench.example/results.schema.json",
    "title": "sbbench results.json",
    "description": (
        "One training/evaluation run of `sbbench run` (all folds and seeds), with the test "
        "predictions so that `sbbench submit` can recompute every score. `content_hash` is the "
        "sha256 of the canonical JSON of this object without the `content_hash` key "
        "(sorted keys, separators ',' and ':', ASCII)."
    ),
    "type": "object",
    "required": [
        "format_version",
        "benchmark_version",
        "dataset",
        "task",
        "model",
        "symmetry_class",
        "loss",
        "hyperparameters",
        "hparam_selection",
        "n_params",
        "seeds",
        "split",
        "loss_chamfer",
        "folds",
        "summary",
        "train_time_s",
        "command",
        "provenance",
        "content_hash",
    ],
    "additionalProperties": False,
    "properties": {
        "format_version": {"const": FORMAT_VERSION},
        "benchmark_version": {
            "type": "string",
            "minLength": 1,
            "description": "version of the benchmark protocol (the sbbench release defining it)",
        },
        "dataset": {
            "type": "object",
            "required": ["name", "version", "sha256"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "description": "e.g. 'qm7x'"},
                "version": {"type": "string", "minLength": 1},
                "sha256": {
                    "type": "string",
                    "pattern": _HEX64,
                    "description": "sbbench.leaderboard.dataset_sha256(dataset)",
                },
                "options": {"type": "object", "description": "options passed to datasets.load"},
            },
        },
        "task": {
            "type": "string",
            "minLength": 1,
            "description": "task within the dataset, e.g. 'asym' for h2o_modes; 'default' if one",
        },
        "model": {
            "type": "string",
            "minLength": 1,
            "description": "registry name, e.g. 'egnn+mlp'",
        },
        "symmetry_class": {
            "enum": [
                "invariant",
                "equivariant",
                "relaxed-equivariant",
                "symmetry-breaking",
                "unknown",
            ]
        },
        "loss": {"enum": ["sbmse", "sbcd", "cd", "mse"]},
        "hyperparameters": {
            "type": "object",
            "description": "resolved model and training hyperparameters, as data",
        },
        "hparam_selection": {
            "type": "string",
            "minLength": 1,
            "description": "how the hyperparameters were chosen (e.g. 'paper defaults', "
            "'grid search on inner validation SBCD over ...')",
        },
        "n_params": {"type": "integer", "minimum": 0},
        "seeds": {"type": "array", "minItems": 1, "items": {"type": "integer"}},
        "split": {
            "type": "object",
            "required": ["protocol", "n_folds"],
            "additionalProperties": False,
            "properties": {
                "protocol": {
                    "enum": ["random", "grouped", "same"],
                    "description": "random: samples shuffled; grouped: by `group_by` (no group "
                    "straddles train and test); same: train = val = test (toy tasks)",
                },
                "group_by": {"type": ["string", "null"], "description": "e.g. 'molecule'"},
                "n_folds": {"type": "integer", "minimum": 1},
                "fractions": {
                    "type": ["array", "null"],
                    "items": {"type": "number", "minimum": 0},
                    "description": "train/val/test fractions, e.g. [0.6, 0.2, 0.2]",
                },
            },
        },
        "loss_chamfer": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["symmetric", "reduction"],
                    "additionalProperties": False,
                    "properties": {
                        "symmetric": {"type": "boolean"},
                        "reduction": {"enum": ["mean", "sum"]},
                        "squared": {"type": "boolean"},
                    },
                },
                {"type": "null"},
            ],
            "description": "keyword arguments of sbbench.metrics.chamfer of a cd/sbcd training "
            "loss (symmetric=false: the SANN paper's one-sided m(X, Y)); null for sbmse/mse. "
            "Reported scores do not depend on it: they use fixed conventions (see $defs).",
        },
        "folds": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/fold"}},
        "summary": {
            "type": "object",
            "required": [
                *(f"test_{k}" for k in _SCORES),
                "val_sbmse",
                "val_sbcd",
                "test_collapsed",
                "equivariance_error",
            ],
            "additionalProperties": False,
            "description": "mean/std over all (fold, seed) runs; filled by make_results",
            "properties": {
                **{f"test_{k}": _STAT for k in _SCORES},
                "val_sbmse": _STAT,
                "val_sbcd": _STAT,
                "test_collapsed": {
                    "type": "object",
                    "required": ["count", "n"],
                    "additionalProperties": False,
                    "properties": {
                        "count": {"type": "integer", "minimum": 0},
                        "n": {"type": "integer", "minimum": 1},
                    },
                    "description": "collapsed test predictions / test predictions, all runs",
                },
                "equivariance_error": {"anyOf": [_STAT, {"type": "null"}]},
            },
        },
        "train_time_s": {"type": "number", "minimum": 0, "description": "total wall time"},
        "command": {"type": "string", "minLength": 1, "description": "command that reruns this"},
        "provenance": {
            "type": "object",
            "required": ["versions", "git_commit", "git_dirty", "hardware", "date"],
            "additionalProperties": False,
            "properties": {
                "versions": {
                    "type": "object",
                    "required": ["sbbench", "torch", "torch_geometric", "e3nn", "numpy", "python"],
                    "additionalProperties": {"type": ["string", "null"]},
                    "properties": {
                        k: {"type": ["string", "null"]}
                        for k in ("sbbench", "torch", "torch_geometric", "e3nn", "numpy", "python")
                    },
                },
                "git_commit": {"type": ["string", "null"]},
                "git_dirty": {"type": ["boolean", "null"]},
                "hardware": {
                    "type": "object",
                    "required": ["platform", "cpu", "n_cpus", "device"],
                    "properties": {
                        "platform": {"type": "string"},
                        "cpu": {"type": "string"},
                        "n_cpus": {"type": ["integer", "null"]},
                        "device": {"type": "string", "description": "'cpu', 'cuda', ..."},
                        "accelerator": {"type": ["string", "null"]},
                    },
                },
                "date": {
                    "type": "string",
                    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$",
                    "description": "UTC, ISO 8601",
                },
            },
        },
        "samples": {
            "type": "array",
            "description": "optional per-sample metadata for leak checks (sbbench validate)",
            "items": {
                "type": "object",
                "required": ["id"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "mol_id": {"type": ["integer", "string", "null"]},
                    "geometry_hash": {
                        "type": ["string", "null"],
                        "description": "sbbench.leaderboard.geometry_hash(z, pos)",
                    },
                },
            },
        },
        "content_hash": {"type": "string", "pattern": _HEX64},
    },
    "$defs": {
        "scores": {
            "type": "object",
            "required": list(_SCORES),
            "additionalProperties": False,
            "description": _SCORES_DOC,
            "properties": {k: _SCORE for k in _SCORES},
        },
        "test_scores": {
            "type": "object",
            "required": [*_SCORES, "collapsed"],
            "additionalProperties": False,
            "description": _SCORES_DOC
            + " collapsed: number of test predictions with sbbench.metrics.is_collapsed.",
            "properties": {
                **{k: _SCORE for k in _SCORES},
                "collapsed": {"type": "integer", "minimum": 0},
            },
        },
        "fold": {
            "type": "object",
            "required": [
                "fold",
                "seed",
                "val",
                "test",
                "train_time_s",
                "equivariance_error",
                "predictions",
            ],
            "additionalProperties": False,
            "properties": {
                "fold": {"type": "integer", "minimum": 0},
                "seed": {"type": "integer"},
                "val": {"$ref": "#/$defs/scores"},
                "test": {"$ref": "#/$defs/test_scores"},
                "best_epoch": {"type": ["integer", "null"], "minimum": 0},
                "epochs": {"type": "integer", "minimum": 0},
                "train_time_s": {"type": "number", "minimum": 0},
                "equivariance_error": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "description": "measured on the test set; null if not measured",
                },
                "split": {
                    "type": "object",
                    "required": ["train", "val", "test"],
                    "additionalProperties": False,
                    "properties": {
                        "train": {"type": "array", "items": _ID},
                        "val": {"type": "array", "items": _ID},
                        "test": {"type": "array", "items": _ID},
                    },
                },
                "predictions": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["id", "pred", "target", "sym_ops", "sym_perms"],
                        "additionalProperties": False,
                        "properties": {
                            "id": _ID,
                            "pred": {"type": "array", "description": "(N, 3k) model output"},
                            "target": {"type": "array", "description": "(N, 3k) label"},
                            "sym_ops": {"type": "array", "description": "(G, 3, 3) Sym(input)"},
                            "sym_perms": {
                                "type": "array",
                                "description": "(G, N) atom permutations of sym_ops: R_g x_i ~ "
                                "x_j with j = sym_perms[g][i]",
                            },
                        },
                    },
                },
            },
        },
    },
}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def check(value: Any, schema: dict, path: str = "", root: dict | None = None) -> None:
    """Validate ``value`` against ``schema``; raise ValueError naming the field path.

    Parameters
    ----------
    value
        Parsed JSON data.
    schema
        A (sub)schema of :data:`RESULTS_SCHEMA` or :data:`ROW_SCHEMA`.
    path
        Path of ``value`` in the document, used in error messages.
    root
        The document schema that ``$ref`` resolves against (defaults to ``schema``).
    """
    root = schema if root is None else root
    where = path or "<top level>"
    if "$ref" in schema:
        check(value, _resolve(schema["$ref"], root), path, root)
    if "anyOf" in schema:
        errors = []
        for sub in schema["anyOf"]:
            try:
                check(value, sub, path, root)
                break
            except ValueError as exc:
                errors.append(str(exc))
        else:
            raise InputError(f"{where}: matches none of the allowed forms ({'; '.join(errors)})")
    if "const" in schema and value != schema["const"]:
        raise InputError(f"{where}: expected {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise InputError(f"{where}: {value!r} is not one of {schema['enum']}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            raise InputError(f"{where}: expected {' or '.join(types)}, got {type(value).__name__}")
    if _TYPES["number"](value):
        if not math.isfinite(value):
            raise InputError(f"{where}: {value} is not a finite number")
        if "minimum" in schema and value < schema["minimum"]:
            raise InputError(f"{where}: {value} is below the minimum {schema['minimum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise InputError(f"{where}: must not be empty")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise InputError(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise InputError(f"{where}: needs at least {schema['minItems']} item(s)")
        if "items" in schema:
            for i, item in enumerate(value):
                check(item, schema["items"], _join(path, i), root)
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                raise InputError(f"{where}: missing required field {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                check(item, props[key], _join(path, key), root)
            elif extra is False:
                raise InputError(f"{where}: unknown field {key!r} (allowed: {', '.join(props)})")
            elif isinstance(extra, dict):
                check(item, extra, _join(path, key), root)


def schema_text(schema: dict) -> str:
    """The text of a schema file as written to ``leaderboards/``."""
    return json.dumps(schema, indent=2) + "\n"
