"""Leaderboard CSV files: submit a results file, read and rank the rows.

A leaderboard is ``<dir>/<dataset>.csv`` with the columns of
:data:`~sbbench.leaderboard.ROW_SCHEMA`. :func:`submit` appends one row per accepted
results file. Concurrent submitters are serialised by a lock file next to the CSV
(``<dataset>.csv.lock``, :mod:`filelock`); under the lock the CSV is read, the new row
appended to its bytes, and the result written to a temporary file that replaces the CSV
(``os.replace``). Existing bytes are never rewritten, and a rejected submission never
reaches the write, so it leaves the file byte-for-byte unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from sbbench.errors import InputError

from .._io import atomic_write_bytes
from .._vocabulary import ChamferConvention
from ..errors import RejectedResult
from ..results import (
    SCORES,
    check_dataset_version,
    check_predictions,
    load_results,
    validate_results,
)
from ..results._schema import check
from ._schema import ROW_SCHEMA, row_columns

__all__ = [
    "SubmissionRejected",
    "Submission",
    "default_leaderboard_dir",
    "leaderboard_path",
    "row_from_results",
    "submit",
    "read_leaderboard",
    "group_key",
    "GROUP_COLUMNS",
    "RANK_COLUMN",
    "rank_rows",
    "config_key",
    "one_per_configuration",
    "format_leaderboard",
]

_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
_LOCK_TIMEOUT_S = 120.0
#: Significant digits at which two mean scores count as a tie (the shown precision).
TIE_DIGITS = 4


class SubmissionRejected(RejectedResult):
    """A results file that may not enter a leaderboard (the message says why).

    A :class:`~sbbench.errors.RejectedResult` (exit 1 on the command line), and so still a
    :class:`ValueError`.
    """


@dataclass
class Submission:
    """An accepted submission: the row written, the CSV it went to, and any warnings."""

    row: dict[str, Any]
    path: Path
    warnings: list[str] = field(default_factory=list)


def default_leaderboard_dir() -> Path:
    """The leaderboard folder.

    ``$SBBENCH_LEADERBOARDS`` if set, else ``leaderboards/`` of the source checkout, else
    ``./leaderboards``.
    """
    env = os.environ.get("SBBENCH_LEADERBOARDS")
    if env:
        return Path(env)
    from sbbench._paths import repo_root

    root = repo_root()
    return (root / "leaderboards") if root is not None else Path("leaderboards")


def leaderboard_path(dataset: str, directory: str | os.PathLike | None = None) -> Path:
    """Path of the CSV of ``dataset`` in ``directory`` (default :func:`default_leaderboard_dir`)."""
    if not _NAME.match(dataset):
        raise InputError(f"dataset name {dataset!r} may not be used as a file name")
    base = Path(directory) if directory is not None else default_leaderboard_dir()
    return base / f"{dataset}.csv"


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def row_from_results(results: Mapping[str, Any]) -> dict[str, Any]:
    """The leaderboard row of a validated results dict (typed values, see ``ROW_SCHEMA``)."""
    s = results["summary"]
    prov = results["provenance"]
    hw = prov["hardware"]
    hardware = f"{hw['device']}; {hw.get('accelerator') or hw['cpu']}; {hw['n_cpus']} cpus"
    eq = s["equivariance_error"]
    folds = results["folds"]
    row = {
        "submission_id": results["content_hash"][:12],
        "dataset": results["dataset"]["name"],
        "dataset_version": results["dataset"]["version"],
        "dataset_sha256": results["dataset"]["sha256"],
        "task": results["task"],
        "model": results["model"],
        **{f"test_{k}_{stat}": s[f"test_{k}"][stat] for k in SCORES for stat in ("mean", "std")},
        "val_sbmse_mean": s["val_sbmse"]["mean"],
        "val_sbmse_std": s["val_sbmse"]["std"],
        "test_collapsed": s["test_collapsed"]["count"],
        "test_predictions": s["test_collapsed"]["n"],
        "equivariance_error_mean": None if eq is None else eq["mean"],
        "symmetry_class": results["symmetry_class"],
        "loss": results["loss"],
        "loss_chamfer": _json_text(results["loss_chamfer"]),
        "n_params": results["n_params"],
        "hyperparameters": _json_text(results["hyperparameters"]),
        "hparam_selection": results["hparam_selection"],
        "seeds": _json_text(results["seeds"]),
        "n_seeds": len(results["seeds"]),
        "n_folds": len({f["fold"] for f in folds}),
        "n_runs": len(folds),
        "split_protocol": results["split"]["protocol"],
        "benchmark_version": results["benchmark_version"],
        "sbbench_version": prov["versions"]["sbbench"],
        "git_commit": prov["git_commit"],
        "date": prov["date"],
        "hardware": hardware,
        "train_time_s": results["train_time_s"],
        "content_hash": results["content_hash"],
        "command": results["command"],
    }
    check(row, ROW_SCHEMA)
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_text(rows: Sequence[Mapping[str, Any]], header: bool) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(row_columns())
    for row in rows:
        writer.writerow([_cell(row[c]) for c in row_columns()])
    return buf.getvalue()


def _parse_cell(text: str, schema: Mapping[str, Any], where: str) -> Any:
    types = schema.get("type", "string")
    types = types if isinstance(types, list) else [types]
    if text == "" and "null" in types:
        return None
    try:
        if "integer" in types:
            return int(text)
        if "number" in types:
            return float(text)
    except ValueError:
        raise InputError(f"{where}: {text!r} is not a number") from None
    return text


def _parse(text: str, path: Path) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    if header != row_columns():
        raise InputError(
            f"{path}: columns {header} differ from leaderboards/schema.json {row_columns()}"
        )
    props = ROW_SCHEMA["properties"]
    rows = []
    for line_no, cells in enumerate(reader, start=2):
        where = f"{path}, line {line_no}"
        if len(cells) != len(header):
            raise InputError(f"{where}: {len(cells)} cells, expected {len(header)}")
        row = {
            c: _parse_cell(v, props[c], f"{where}, column {c}")
            for c, v in zip(header, cells, strict=True)
        }
        try:
            check(row, ROW_SCHEMA)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
        rows.append(row)
    return rows


def read_leaderboard(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a leaderboard CSV, typed and checked against ``ROW_SCHEMA``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Naming the file, line and column of a malformed cell or a wrong header.
    """
    path = Path(path)
    return _parse(path.read_text(encoding="utf-8"), path)


def submit(
    results: str | os.PathLike | Mapping[str, Any],
    leaderboard: str | os.PathLike | None = None,
    *,
    directory: str | os.PathLike | None = None,
) -> Submission:
    """Validate a results file and append its row to the dataset's leaderboard.

    Parameters
    ----------
    results
        Path of a ``results.json`` (or ``.json.gz``), or the loaded dict.
    leaderboard
        CSV to append to; default ``<directory>/<dataset>.csv``.
    directory
        Leaderboard folder (default :func:`default_leaderboard_dir`).

    Returns
    -------
    Submission
        The row, the CSV path and the validation warnings.

    Raises
    ------
    SubmissionRejected
        Schema error, hash mismatch, a recomputed score or collapse count that differs
        from the stored one, NaN/inf, an unknown dataset version, data that differ from
        what the current code builds (stale sha256), or the same ``content_hash`` already
        on the leaderboard. The CSV is then left unchanged.
    FileNotFoundError, ValueError
        The results file cannot be read, or the leaderboard CSV is malformed
        (:class:`~sbbench.errors.InputError` for the CSV).
    TimeoutError
        Another submitter held the lock of the CSV for too long.
    """
    if not isinstance(results, Mapping):
        results = load_results(results)
    try:
        warnings = validate_results(results)  # includes the dataset version and sha256
        ds = results["dataset"]
        check_dataset_version(ds["name"], ds["version"], ds["sha256"], ds.get("options"))
        check_predictions(results)
        row = row_from_results(results)
    except ValueError as exc:
        raise SubmissionRejected(str(exc)) from None
    warnings = [w for w in warnings if "submit will reject" not in w]
    path = (
        Path(leaderboard)
        if leaderboard is not None
        else leaderboard_path(row["dataset"], directory)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock", timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            old = path.read_bytes() if path.exists() else b""
            existing = _parse(old.decode("utf-8"), path)
            for r in existing:
                if r["content_hash"] == row["content_hash"]:
                    raise SubmissionRejected(
                        f"duplicate: {path} already has this results file "
                        f"(submission {r['submission_id']}, {r['date']})"
                    )
            if old and not old.endswith(b"\n"):
                old += b"\n"
            new = old + _csv_text([row], header=not old).encode("utf-8")
            atomic_write_bytes(path, new)
    except Timeout:  # another submitter holds the lock: an OSError, not a bug
        raise TimeoutError(
            f"{path}: could not lock {lock.lock_file} in {_LOCK_TIMEOUT_S:g} s"
        ) from None
    return Submission(row=row, path=path, warnings=warnings)


def _sig(x: float) -> float:
    return float(f"{x:.{TIE_DIGITS}g}")


#: The columns that define a ranking group; every view shows them.
GROUP_COLUMNS = ("dataset", "dataset_version", "dataset_sha256", "task", "split_protocol")
#: The ranking key: test SBMSE (correspondence-aware; a collapsed prediction cannot game it).
RANK_COLUMN = "test_sbmse_mean"


def group_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """Rows are ranked against each other only if they agree on this key.

    :data:`GROUP_COLUMNS`: scores on other data (another version, or the same version
    built differently: the sha256), another task, or under another split protocol (a
    random split lets conformers of a test molecule into training) are not comparable.
    """
    return tuple(row[c] for c in GROUP_COLUMNS)


def _parsed(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def config_key(row: Mapping[str, Any]) -> tuple:
    """Rows with one key are one configuration run on the same seeds and folds.

    :func:`group_key` (the data, task and split) plus the model, every hyperparameter
    (model and training, as recorded: ``sbbench run`` records the complete set,
    :func:`sbbench.models._registry.defaults`, so one configuration has one spelling), the loss and
    its Chamfer convention, the seeds and the number of folds; not the provenance
    (command, date, hardware, how the hyperparameters were chosen).
    """
    return (
        *group_key(row),
        row["model"],
        _json_text(_parsed(row["hyperparameters"])),
        row["loss"],
        _convention(row["loss_chamfer"]),
        _json_text(_parsed(row["seeds"])),
        row["n_folds"],
    )


def rank_rows(rows: Sequence[Mapping[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Rank rows by ascending test SBMSE (:data:`RANK_COLUMN`) within each :func:`group_key`.

    Competition ranking ("1224") of configurations: rows whose means agree to
    :data:`TIE_DIGITS` significant digits share a rank. A row that repeats an earlier
    row's configuration (:func:`config_key`) with a tying score (the same run submitted
    twice, e.g. by two tables) is that configuration again: it gets its rank and does not
    push the rows after it down. Every row is returned; groups come in order of first
    appearance; within a group, ties keep submission order.
    """
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(group_key(row), []).append(dict(row))
    out = []
    for members in groups.values():
        members.sort(key=lambda r: _sig(r[RANK_COLUMN]))
        prev, rank, n_configs = None, 0, 0
        seen: dict[tuple, int] = {}
        for row in members:
            score = _sig(row[RANK_COLUMN])
            key = (config_key(row), score)
            if key in seen:
                out.append((seen[key], row))
                continue
            if score != prev:
                rank, prev = n_configs + 1, score
            n_configs += 1
            seen[key] = rank
            out.append((rank, row))
    return out


def one_per_configuration(
    ranked: Sequence[tuple[int, Mapping[str, Any]]],
) -> list[tuple[int, Mapping[str, Any], list[str]]]:
    """``(rank, row, submission ids)`` of :func:`rank_rows` output with the repeats of a
    configuration (same :func:`config_key` and tying score) folded into its first row."""
    out: list[tuple[int, Mapping[str, Any], list[str]]] = []
    where: dict[tuple, int] = {}
    for rank, row in ranked:
        key = (config_key(row), _sig(row[RANK_COLUMN]))
        if key in where:
            out[where[key]][2].append(row["submission_id"])
        else:
            where[key] = len(out)
            out.append((rank, row, [row["submission_id"]]))
    return out


def _pm(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "-"
    if std is None or math.isnan(std):
        return f"{mean:.{TIE_DIGITS}g}"
    return f"{mean:.{TIE_DIGITS}g} ± {std:.2g}"


def _model_hparams(row: Mapping[str, Any]) -> str:
    """``k=v`` of the model's hyperparameters, sorted: every recorded one but
    ``out_vectors`` (the task fixes it) and those that are ``None`` (not set: the model's
    own choice, e.g. ``cutoff=None`` = fully connected). Rows record the complete set
    (:func:`sbbench.models._registry.defaults`), so one configuration reads the same on
    every row."""
    hp = _parsed(row["hyperparameters"])
    model = hp.get("model", {}) if isinstance(hp, Mapping) else {}
    return (
        " ".join(
            f"{k}={v}" for k, v in sorted(model.items()) if k != "out_vectors" and v is not None
        )
        or "-"
    )


def _loss(row: Mapping[str, Any]) -> str:
    """The training loss, marked where it is the paper's one-sided Chamfer convention."""
    convention = _convention(row["loss_chamfer"])
    if convention is not None and convention.one_sided:
        return f"{row['loss']} (one-sided)"
    return row["loss"]


def _convention(value: Any) -> ChamferConvention | None:
    """A row's ``loss_chamfer`` (JSON text or mapping) as a convention, None for null:
    spellings of one convention (``squared`` omitted or given) are one configuration."""
    value = _parsed(value)
    return None if value is None else ChamferConvention.from_dict(value, what="loss_chamfer")


def _data(row: Mapping[str, Any]) -> str:
    return f"v{row['dataset_version']} {row['dataset_sha256'][:8]}"


_VIEW = (
    ("rank", lambda rk, r: str(rk)),
    ("task", lambda rk, r: r["task"]),
    ("split", lambda rk, r: r["split_protocol"]),
    ("data", lambda rk, r: _data(r)),
    ("model", lambda rk, r: r["model"]),
    ("test SBMSE", lambda rk, r: _pm(r["test_sbmse_mean"], r["test_sbmse_std"])),
    ("test CD", lambda rk, r: _pm(r["test_cd_mean"], r["test_cd_std"])),
    ("test SBCD", lambda rk, r: _pm(r["test_sbcd_mean"], r["test_sbcd_std"])),
    ("collapsed", lambda rk, r: f"{r['test_collapsed']}/{r['test_predictions']}"),
    ("loss", lambda rk, r: _loss(r)),
    ("symmetry", lambda rk, r: r["symmetry_class"]),
    ("model hparams", lambda rk, r: _model_hparams(r)),
    ("seeds x folds", lambda rk, r: f"{r['n_seeds']} x {r['n_folds']}"),
)
"""Columns of the table/markdown views, then ``id``: the submission ids of the row's
configuration (:func:`one_per_configuration`; one line per configuration). ``task``,
``split`` and ``data`` (version and sha256 prefix) are the ranking group
(:data:`GROUP_COLUMNS`); CD and SBCD are in the sbbench convention (symmetric, mean); the
paper-convention columns are in the CSV view and in docs/reproduction.md, next to the
paper's numbers."""


def format_leaderboard(rows: Sequence[Mapping[str, Any]], fmt: str = "table") -> str:
    """Ranked rows as ``table`` (aligned text), ``markdown`` (both one line per
    configuration, :func:`one_per_configuration`) or ``csv`` (every row, all columns +
    rank)."""
    ranked = rank_rows(rows)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["rank", *row_columns()])
        for rk, r in ranked:
            writer.writerow([rk, *(_cell(r[c]) for c in row_columns())])
        return buf.getvalue()
    header = [name for name, _ in _VIEW] + ["id"]
    body = [
        [*(f(rk, r) for _, f in _VIEW), ", ".join(ids)]
        for rk, r, ids in one_per_configuration(ranked)
    ]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in body]
        return "\n".join(lines) + "\n"
    if fmt == "table":
        widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
        fmt_line = lambda cells: "  ".join(
            c.ljust(w) for c, w in zip(cells, widths, strict=True)
        ).rstrip()
        lines = [fmt_line(header), fmt_line(["-" * w for w in widths])]
        lines += [fmt_line(line) for line in body]
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}; use table, markdown or csv")
