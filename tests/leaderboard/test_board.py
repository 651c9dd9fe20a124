"""Leaderboard CSVs: submit, reject without touching the file, concurrent submits, ranking."""

import copy
import csv
import io
import multiprocessing as mp

import pandas as pd
import pytest
import torch

from sbbench.leaderboard import (
    SubmissionRejected,
    content_hash,
    format_leaderboard,
    leaderboard_path,
    rank_rows,
    read_leaderboard,
    row_columns,
    row_from_results,
    submit,
    write_results,
)
from tests.leaderboard._factory import build_results

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def runs():
    """Three distinct real results files (different seeds of the toy model)."""
    return [build_results(tag=t) for t in range(3)]


def test_submit_appends_rows(tmp_path, toy_known, runs):
    board = tmp_path / "boards"
    first = submit(runs[0], directory=board)
    assert first.path == leaderboard_path("toy", board) == board / "toy.csv"
    assert first.warnings == []
    path = write_results(tmp_path / "r1.json", runs[1])
    second = submit(path, directory=board)  # from a file
    rows = read_leaderboard(first.path)
    assert rows == [row_from_results(runs[0]), row_from_results(runs[1])]
    assert rows[1] == second.row
    assert rows[0]["submission_id"] == runs[0]["content_hash"][:12]
    assert rows[0]["n_seeds"] == 3 and rows[0]["n_folds"] == 2 and rows[0]["n_runs"] == 6
    # pandas reads it with the schema's columns and the exact scores.
    df = pd.read_csv(first.path)
    assert list(df.columns) == row_columns()
    assert df["test_sbcd_mean"].tolist() == [r["summary"]["test_sbcd"]["mean"] for r in runs[:2]]


def test_explicit_leaderboard_file(tmp_path, toy_known, runs):
    sub = submit(runs[2], tmp_path / "mine.csv")
    assert sub.path == tmp_path / "mine.csv" and len(read_leaderboard(sub.path)) == 1


def _tampered(results):
    bad = copy.deepcopy(results)
    bad["folds"][0]["predictions"][0]["pred"][0][0] += 0.5  # scores no longer match
    bad["content_hash"] = content_hash(bad)
    return bad


@pytest.mark.parametrize(
    "make_bad, match",
    [
        (lambda r: r, "duplicate"),
        (_tampered, r"folds\[0\]\.test\.(cd|sbcd): stored"),
        (lambda r: {**r, "content_hash": "f" * 64}, "content_hash"),
        (lambda r: {**r, "dataset": {**r["dataset"], "version": "9"}}, "unknown version '9'"),
    ],
)
def test_rejected_submission_leaves_csv_unchanged(tmp_path, toy_known, runs, make_bad, match):
    path = tmp_path / "toy.csv"
    submit(runs[0], path)
    submit(runs[1], path)
    before = path.read_bytes()
    bad = make_bad(copy.deepcopy(runs[0]))
    if "version" in match:  # keep the hash intact so the version check is what fails
        bad["content_hash"] = content_hash(bad)
    with pytest.raises(SubmissionRejected, match=match):
        submit(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.csv", "toy.csv.lock"]


def test_unknown_dataset_is_rejected(tmp_path, runs):
    # 'toy' is not registered in this test: the first submission cannot create a file.
    with pytest.raises(SubmissionRejected, match="unknown dataset 'toy'"):
        submit(runs[0], tmp_path / "toy.csv")
    assert not (tmp_path / "toy.csv").exists()


def test_pinned_sha256_is_enforced(tmp_path, monkeypatch, runs):
    from sbbench.leaderboard import _versions

    monkeypatch.setitem(_versions.DATASET_VERSIONS, "toy", {"1": "cd" * 32})
    with pytest.raises(SubmissionRejected, match="dataset.sha256"):
        submit(runs[0], tmp_path / "toy.csv")
    monkeypatch.setitem(_versions.DATASET_VERSIONS, "toy", {"1": "ab" * 32})
    submit(runs[0], tmp_path / "toy.csv")


def test_malformed_leaderboard_is_reported_not_overwritten(tmp_path, toy_known, runs):
    path = tmp_path / "toy.csv"
    submit(runs[0], path)
    text = path.read_text().replace(repr(runs[0]["summary"]["test_cd"]["mean"]), "oops", 1)
    path.write_text(text)
    with pytest.raises(ValueError, match="line 2, column test_cd_mean: 'oops' is not a number"):
        submit(runs[1], path)
    assert path.read_text() == text


def test_bad_dataset_file_name():
    with pytest.raises(ValueError, match="file name"):
        leaderboard_path("../evil")


def _submit_one(results, path, start, out):
    start.wait()
    try:
        submit(results, path)
        out.put("ok")
    except Exception as exc:  # report to the parent instead of dying silently
        out.put(f"{type(exc).__name__}: {exc}")


def test_concurrent_submits_from_16_processes(tmp_path, toy_known):
    """16 processes submit at once: 16 rows, none lost, the CSV parses."""
    path = tmp_path / "toy.csv"
    many = [build_results(tag=100 + i, seeds=(0, 1, 2), n_folds=2, n_test=1) for i in range(16)]
    ctx = mp.get_context("fork")  # children inherit the registered 'toy' dataset
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_submit_one, args=(r, path, start, out)) for r in many]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=120)
    outcomes = [out.get(timeout=5) for _ in procs]
    assert outcomes == ["ok"] * 16
    assert all(p.exitcode == 0 for p in procs)
    rows = read_leaderboard(path)
    assert sorted(r["content_hash"] for r in rows) == sorted(r["content_hash"] for r in many)
    assert len(pd.read_csv(path)) == 16
    assert path.read_text().count("\n") == 17


def _row(
    model, mean, std=0.01, task="default", convention='{"reduction":"mean"}', protocol="random"
):
    r = {c: None for c in row_columns()}
    r.update(
        dataset_version="1",
        model=model,
        dataset="toy",
        task=task,
        cd_convention=convention,
        test_sbcd_mean=mean,
        test_sbcd_std=std,
        test_cd_mean=2 * mean,
        test_cd_std=std,
        loss="sbcd",
        symmetry_class="equivariant",
        n_seeds=3,
        n_folds=10,
        split_protocol=protocol,
        submission_id=model[:12].ljust(12, "0"),
    )
    return r


def test_ranking_with_ties_and_groups():
    rows = [
        _row("c", 0.30),
        _row("a", 0.10),
        _row("b", 0.100004),  # equal to 4 significant digits: ties with a
        _row("d", 0.2),
        _row("x", 0.5, task="asym"),  # another task: ranked separately
        _row("y", 0.05, convention='{"reduction":"sum"}'),  # another CD convention
        _row("z", 0.01, protocol="grouped"),  # another split protocol
        _row("e", 0.2),  # ties with d, listed after it
    ]
    ranked = [(rank, r["model"]) for rank, r in rank_rows(rows)]
    assert ranked == [
        (1, "a"),
        (1, "b"),
        (3, "d"),
        (3, "e"),
        (5, "c"),
        (1, "x"),
        (1, "y"),
        (1, "z"),
    ]


def test_formats_show_rank_and_std():
    rows = [_row("egnn", 0.1234567, 0.0123), _row("sann", 0.05, 0.002)]
    table = format_leaderboard(rows, "table")
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["rank", "task", "model"]
    assert lines[2].split()[:3] == ["1", "default", "sann"]
    assert "0.1235 ± 0.012" in lines[3]
    md = format_leaderboard(rows, "markdown").splitlines()
    assert md[0].startswith("| rank | task | model | test SBCD") and md[1].startswith("|---|")
    assert md[2].startswith("| 1 | default | sann | 0.05 ± 0.002 |")
    parsed = list(csv.DictReader(io.StringIO(format_leaderboard(rows, "csv"))))
    assert [(p["rank"], p["model"]) for p in parsed] == [("1", "sann"), ("2", "egnn")]
    assert float(parsed[1]["test_sbcd_mean"]) == 0.1234567
    with pytest.raises(ValueError, match="unknown format"):
        format_leaderboard(rows, "html")


def test_default_leaderboard_dir(monkeypatch, tmp_path):
    from sbbench.leaderboard import default_leaderboard_dir

    monkeypatch.setenv("SBBENCH_LEADERBOARDS", str(tmp_path))
    assert leaderboard_path("qm7x") == tmp_path / "qm7x.csv"
    monkeypatch.delenv("SBBENCH_LEADERBOARDS")
    # In a source checkout: the top-level leaderboards/ folder holding schema.json.
    assert (default_leaderboard_dir() / "schema.json").is_file()
