"""Leaderboard CSVs: submit, reject without touching the file, concurrent submits, ranking."""

import copy
import csv
import hashlib
import io
import json
import multiprocessing as mp
import re

import numpy as np
import pandas as pd
import pytest
import torch

from sbbench.leaderboard import (
    GROUP_COLUMNS,
    RANK_COLUMN,
    ROW_SCHEMA,
    SubmissionRejected,
    content_hash,
    dataset_sha256,
    format_leaderboard,
    leaderboard_path,
    rank_rows,
    read_leaderboard,
    row_columns,
    row_from_results,
    submit,
    write_results,
)
from sbbench.leaderboard._schema import check
from tests.results._factory import (
    C2V,
    act,
    build_results,
    make_fold,
    prediction,
    toy_dataset,
    toy_sample,
)

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
    for score in ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper"):
        assert df[f"test_{score}_mean"].tolist() == [
            r["summary"][f"test_{score}"]["mean"] for r in runs[:2]
        ]
    assert df["val_sbmse_mean"].tolist() == [r["summary"]["val_sbmse"]["mean"] for r in runs[:2]]
    assert df["test_collapsed"].tolist() == [0, 0] and df["test_predictions"].tolist() == [18, 18]
    assert df["dataset_sha256"].tolist() == [r["dataset"]["sha256"] for r in runs[:2]]
    assert "cd_convention" not in df.columns and "val_sbcd_mean" not in df.columns


def test_explicit_leaderboard_file(tmp_path, toy_known, runs):
    sub = submit(runs[2], tmp_path / "mine.csv")
    assert sub.path == tmp_path / "mine.csv" and len(read_leaderboard(sub.path)) == 1


def _tampered(results):
    bad = copy.deepcopy(results)
    bad["folds"][0]["predictions"][0]["pred"][0][0] += 0.5  # scores no longer match
    bad["content_hash"] = content_hash(bad)
    return bad


def _hidden_collapse(results):
    """A collapsed prediction whose count was set to 0, summary and hash made consistent."""
    from sbbench.results._results import _summary

    bad = copy.deepcopy(results)
    bad["folds"][0]["predictions"][0]["pred"] = [bad["folds"][0]["predictions"][0]["target"][0]] * 4
    bad["summary"] = _summary(bad["folds"])
    bad["content_hash"] = content_hash(bad)
    return bad


@pytest.mark.parametrize(
    "make_bad, match",
    [
        (lambda r: r, "duplicate"),
        (_tampered, r"folds\[0\]\.test\.sbmse: stored"),
        (_hidden_collapse, r"folds\[0\]\.test\.collapsed: stored 0 but the predictions give 1"),
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
    from sbbench.results import _versions

    path = tmp_path / "toy.csv"
    sha = runs[0]["dataset"]["sha256"]
    # 'toy' has no options: its pin is under the options key '{}'.
    monkeypatch.setitem(_versions.DATASET_VERSIONS, "toy", {"1": {"{}": "cd" * 32}})
    with pytest.raises(SubmissionRejected, match=r"dataset\.sha256: .*stale"):
        submit(runs[0], path)
    assert not path.exists()
    monkeypatch.setitem(_versions.DATASET_VERSIONS, "toy", {"1": {"{}": sha}})
    submit(runs[0], path)
    before = path.read_bytes()
    monkeypatch.setitem(_versions.DATASET_VERSIONS, "toy", {"1": {"{}": "cd" * 32}})
    with pytest.raises(SubmissionRejected, match="stale"):
        submit(runs[1], path)
    assert path.read_bytes() == before


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


SHA_A, SHA_B = "a" * 64, "b" * 64


def _row(
    model,
    sbmse,
    std=0.01,
    *,
    sbcd=None,
    task="default",
    sha=SHA_A,
    version="1",
    protocol="random",
    collapsed=0,
    loss="sbmse",
    loss_chamfer=None,
):
    """A schema-valid row with the given scores (ranking/view unit tests only)."""
    sbcd = 2 * sbmse if sbcd is None else sbcd
    r = {c: None for c in row_columns()}
    for k in ("sbmse", "mse", "cd", "sbcd", "cd_paper", "sbcd_paper"):
        r[f"test_{k}_mean"], r[f"test_{k}_std"] = 3 * sbmse, std
    r.update(
        submission_id=hashlib.sha256(model.encode()).hexdigest()[:12],
        dataset="toy",
        dataset_version=version,
        dataset_sha256=sha,
        task=task,
        model=model,
        test_sbmse_mean=sbmse,
        test_sbcd_mean=sbcd,
        test_cd_mean=2 * sbcd,
        val_sbmse_mean=sbmse,
        val_sbmse_std=std,
        test_collapsed=collapsed,
        test_predictions=30,
        symmetry_class="equivariant",
        loss=loss,
        loss_chamfer=json.dumps(loss_chamfer),
        n_params=10,
        hyperparameters="{}",
        hparam_selection="fixed",
        seeds="[0,1,2]",
        n_seeds=3,
        n_folds=10,
        n_runs=30,
        split_protocol=protocol,
        benchmark_version="0",
        date="2026-01-01T00:00:00Z",
        hardware="cpu",
        train_time_s=1.0,
        content_hash=hashlib.sha256(model.encode()).hexdigest(),
        command="sbbench run",
    )
    check(r, ROW_SCHEMA)
    return r


def test_ranking_with_ties_and_groups():
    rows = [
        _row("c", 0.30),
        _row("a", 0.10),
        _row("b", 0.100004),  # equal to 4 significant digits: ties with a
        _row("d", 0.2),
        _row("x", 0.5, task="asym"),  # another task: ranked separately
        _row("y", 0.05, sha=SHA_B),  # other data under the same version
        _row("w", 0.04, version="2", sha=SHA_A),  # another version (same sha, e.g. a relabel)
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
        (1, "w"),
        (1, "z"),
    ]
    assert GROUP_COLUMNS == (
        "dataset",
        "dataset_version",
        "dataset_sha256",
        "task",
        "split_protocol",
    )
    assert RANK_COLUMN == "test_sbmse_mean"


def test_rank_by_sbmse_not_sbcd():
    # SBCD order: good_cloud < good_atoms; SBMSE order: good_atoms < good_cloud.
    rows = [_row("good_cloud", 0.5, sbcd=0.001), _row("good_atoms", 0.02, sbcd=0.05)]
    assert [(rk, r["model"]) for rk, r in rank_rows(rows)] == [(1, "good_atoms"), (2, "good_cloud")]
    table = format_leaderboard(rows, "table").splitlines()
    assert table[2].split()[:5] == ["1", "default", "random", "v1", "aaaaaaaa"]
    assert "good_atoms" in table[2] and "good_cloud" in table[3]


def test_rows_on_other_data_are_never_ranked_together():
    # Same dataset, version, task and split; only the data (sha256) differ. Each group is
    # ranked on its own, and the views say which data a row was scored on.
    rows = [_row("p", 0.3, sha=SHA_A), _row("q", 0.1, sha=SHA_B), _row("r", 0.2, sha=SHA_A)]
    assert [(rk, r["model"]) for rk, r in rank_rows(rows)] == [(1, "r"), (2, "p"), (1, "q")]
    table = format_leaderboard(rows, "table").splitlines()
    assert table[0].split()[:6] == ["rank", "task", "split", "data", "model", "test"]
    cells = [line.split() for line in table[2:]]
    assert [c[:6] for c in cells] == [
        ["1", "default", "random", "v1", "aaaaaaaa", "r"],
        ["2", "default", "random", "v1", "aaaaaaaa", "p"],
        ["1", "default", "random", "v1", "bbbbbbbb", "q"],
    ]
    md = format_leaderboard(rows, "markdown").splitlines()
    assert md[0].startswith("| rank | task | split | data | model | test SBMSE | test CD |")
    assert md[4].startswith("| 1 | default | random | v1 bbbbbbbb | q | 0.1 ± 0.01 |")


def test_formats_show_rank_std_collapsed_and_loss():
    rows = [
        _row("egnn", 0.1234567, 0.0123, collapsed=4),
        _row(
            "sann", 0.05, 0.002, loss="sbcd", loss_chamfer={"symmetric": False, "reduction": "sum"}
        ),
        _row("painn", 0.07, loss="cd", loss_chamfer={"symmetric": True, "reduction": "mean"}),
    ]
    table = format_leaderboard(rows, "table")
    lines = table.splitlines()
    header = [h.strip() for h in re.split(r"\s{2,}", lines[0])]
    assert header == [
        "rank",
        "task",
        "split",
        "data",
        "model",
        "test SBMSE",
        "test CD",
        "test SBCD",
        "collapsed",
        "loss",
        "symmetry",
        "model hparams",
        "seeds x folds",
        "id",
    ]
    assert lines[2].split()[:6] == ["1", "default", "random", "v1", "aaaaaaaa", "sann"]
    assert "0.1235 ± 0.012" in lines[4] and " 4/30 " in lines[4]
    assert " 0/30 " in lines[2] and "sbcd (one-sided)" in lines[2]
    assert "cd (one-sided)" not in lines[3] and " cd " in lines[3]  # symmetric: not marked
    assert "one-sided" not in lines[4]
    md = format_leaderboard(rows, "markdown").splitlines()
    assert md[1].startswith("|---|")
    assert md[2].startswith("| 1 | default | random | v1 aaaaaaaa | sann | 0.05 ± 0.002 |")
    assert "| 0/30 | sbcd (one-sided) |" in md[2] and "| 4/30 | sbmse |" in md[4]
    parsed = list(csv.DictReader(io.StringIO(format_leaderboard(rows, "csv"))))
    assert [(p["rank"], p["model"]) for p in parsed] == [
        ("1", "sann"),
        ("2", "painn"),
        ("3", "egnn"),
    ]
    assert float(parsed[2]["test_sbmse_mean"]) == 0.1234567 and parsed[2]["test_collapsed"] == "4"
    with pytest.raises(ValueError, match="unknown format"):
        format_leaderboard(rows, "html")


def test_default_leaderboard_dir(monkeypatch, tmp_path):
    from sbbench.leaderboard import default_leaderboard_dir

    monkeypatch.setenv("SBBENCH_LEADERBOARDS", str(tmp_path))
    assert leaderboard_path("qm7x") == tmp_path / "qm7x.csv"
    monkeypatch.delenv("SBBENCH_LEADERBOARDS")
    # In a source checkout: the top-level leaderboards/ folder holding schema.json.
    assert (default_leaderboard_dir() / "schema.json").is_file()


# ------------------------------------------------------------- real submissions (format 2)


def _same_protocol_run(model, predict, seeds=(0, 1, 2)):
    """Results of ``predict(sample, g_index)`` on toy samples 0-2, protocol 'same'."""
    samples = [toy_sample(i) for i in range(3)]
    folds = [
        make_fold(
            0,
            seed,
            [prediction(s["id"], predict(s, (seed + s["id"]) % 3 + 1), s) for s in samples],
        )
        for seed in seeds
    ]
    return build_results(
        model=model,
        folds=folds,
        split={"protocol": "same", "n_folds": 1},
        samples=None,
        dataset={"name": "toy", "version": "1", "sha256": dataset_sha256(toy_dataset(3))},
    )


def test_submissions_rank_by_sbmse_not_sbcd(tmp_path, toy_known):
    # "cloud" rotates the target without moving the atoms: the right cloud (SBCD = 0) on
    # the wrong atoms. "atoms" predicts g.y (atoms moved) with noise: SBCD > 0, small SBMSE.
    cloud = _same_protocol_run("cloud", lambda s, g: np.asarray(s["y"], float) @ C2V[g].T)
    rng = np.random.default_rng(0)
    atoms = _same_protocol_run(
        "atoms", lambda s, g: act(C2V[g], s["sym_perms"][g], s["y"]) + rng.normal(0, 0.1, (4, 3))
    )
    sc, sa = cloud["summary"], atoms["summary"]
    assert sc["test_sbcd"]["mean"] < 1e-12 < sa["test_sbcd"]["mean"]  # SBCD prefers cloud
    assert sa["test_sbmse"]["mean"] < 0.1 < sc["test_sbmse"]["mean"]  # SBMSE prefers atoms
    path = tmp_path / "toy.csv"
    submit(cloud, path)
    submit(atoms, path)
    ranked = [(rk, r["model"]) for rk, r in rank_rows(read_leaderboard(path))]
    assert ranked == [(1, "atoms"), (2, "cloud")]
    assert format_leaderboard(read_leaderboard(path), "table").splitlines()[2].split()[5] == "atoms"


def test_submissions_on_other_data_are_ranked_apart(tmp_path, toy_known):
    # 4 toy samples are other data than 6 (another sha256) under the same version '1'.
    six = build_results(tag=7)
    four = build_results(tag=7, n_test=2, noise=0.2)
    assert six["dataset"]["version"] == four["dataset"]["version"] == "1"
    assert six["dataset"]["sha256"] != four["dataset"]["sha256"]
    assert four["summary"]["test_sbmse"]["mean"] > six["summary"]["test_sbmse"]["mean"]
    path = tmp_path / "toy.csv"
    submit(four, path)
    submit(six, path)
    rows = read_leaderboard(path)
    assert [rk for rk, _ in rank_rows(rows)] == [1, 1]
    table = format_leaderboard(rows, "table").splitlines()
    data = {line.split()[4] for line in table[2:]}
    assert data == {four["dataset"]["sha256"][:8], six["dataset"]["sha256"][:8]}
    md = format_leaderboard(rows, "markdown")
    for r in (four, six):
        assert f"| 1 | default | random | v1 {r['dataset']['sha256'][:8]} | toy_model |" in md


def test_collapsed_submission_is_counted_warned_and_shown(tmp_path, toy_known):
    r = build_results(collapse_ids=[0], tag=3)
    sub = submit(r, tmp_path / "toy.csv")
    assert any(w.startswith("3 of 18 test predictions are collapsed") for w in sub.warnings)
    (row,) = read_leaderboard(sub.path)
    assert (row["test_collapsed"], row["test_predictions"]) == (3, 18)
    line = format_leaderboard([row], "table").splitlines()[2]
    assert " 3/18 " in line
    assert "| 3/18 |" in format_leaderboard([row], "markdown")
    ok = submit(build_results(tag=4), tmp_path / "toy.csv")
    assert not any("collapsed" in w for w in ok.warnings)


@pytest.mark.parametrize(
    "loss, loss_chamfer, shown",
    [
        ("sbcd", {"symmetric": False, "reduction": "sum", "squared": True}, "sbcd (one-sided)"),
        ("cd", {"symmetric": False, "reduction": "sum"}, "cd (one-sided)"),
        ("sbcd", {"symmetric": True, "reduction": "mean", "squared": True}, "sbcd"),
        ("sbmse", None, "sbmse"),
    ],
)
def test_loss_convention_is_shown(tmp_path, toy_known, loss, loss_chamfer, shown):
    r = build_results(loss=loss, loss_chamfer=loss_chamfer, seeds=(0,), n_test=1)
    assert r["loss_chamfer"] == loss_chamfer
    (row,) = read_leaderboard(submit(r, tmp_path / "toy.csv").path)
    assert json.loads(row["loss_chamfer"]) == loss_chamfer
    header, _, line = format_leaderboard([row], "table").splitlines()
    loss_cell = line[header.index("loss") : header.index("symmetry")].strip()
    assert loss_cell == shown


# ----------------------------------------------------------------- one configuration


def _config_row(sid, sbmse, hp, *, seeds="[0,1,2]", command="sbbench run"):
    """A row of model painn with model hyperparameters ``hp`` and submission id ``sid``."""
    r = _row("painn", sbmse)
    hps = {"model": hp, "training": {"epochs": 100, "folds": 10}}
    r.update(
        submission_id=sid,
        content_hash=sid + "0" * 52,
        hyperparameters=json.dumps(hps, sort_keys=True, separators=(",", ":")),
        seeds=seeds,
        command=command,
    )
    return r


TENSOR = {"hidden": 64, "layers": 3, "out_vectors": 1, "variant": "tensor", "cutoff": None}


def test_one_configuration_submitted_twice_ranks_and_shows_once():
    # issue 18 item 11: Table 2's painn and Table 7's painn(tensor) rows are one run;
    # they ranked 8 and 8 and pushed the next configuration to 10, and showed twice
    rows = [
        _config_row("aaaaaaaaaaaa", 0.1, TENSOR, command="sbbench reproduce sann-table2"),
        _config_row("bbbbbbbbbbbb", 0.1, TENSOR, command="sbbench reproduce sann-table7"),
        _config_row("cccccccccccc", 0.2, {**TENSOR, "variant": "vector"}),
    ]
    ranked = [(rk, r["submission_id"]) for rk, r in rank_rows(rows)]
    assert ranked == [(1, "aaaaaaaaaaaa"), (1, "bbbbbbbbbbbb"), (2, "cccccccccccc")]
    md = format_leaderboard(rows, "markdown").splitlines()[2:]
    assert len(md) == 2
    assert md[0].startswith("| 1 |") and md[0].endswith("| aaaaaaaaaaaa, bbbbbbbbbbbb |")
    assert md[1].startswith("| 2 |") and md[1].endswith("| cccccccccccc |")
    table = format_leaderboard(rows, "table").splitlines()[2:]
    assert len(table) == 2 and table[0].endswith("aaaaaaaaaaaa, bbbbbbbbbbbb")
    parsed = list(csv.DictReader(io.StringIO(format_leaderboard(rows, "csv"))))
    assert [(p["rank"], p["submission_id"]) for p in parsed] == [
        ("1", "aaaaaaaaaaaa"),
        ("1", "bbbbbbbbbbbb"),
        ("2", "cccccccccccc"),
    ]  # the CSV view keeps every submission


def test_other_seeds_scores_or_hyperparameters_are_other_entries():
    rows = [
        _config_row("aaaaaaaaaaaa", 0.1, TENSOR),
        _config_row("bbbbbbbbbbbb", 0.1, {**TENSOR, "hidden": 32}),  # ties, other config
        _config_row("cccccccccccc", 0.1, TENSOR, seeds="[3,4,5]"),  # ties, other seeds
        _config_row("dddddddddddd", 0.15, TENSOR),  # the same configuration, another score
        _config_row("eeeeeeeeeeee", 0.3, {**TENSOR, "variant": "vector"}),
    ]
    ranked = [rk for rk, _ in rank_rows(rows)]
    assert ranked == [1, 1, 1, 4, 5]
    assert len(format_leaderboard(rows, "markdown").splitlines()) == 2 + 5


def test_model_hparams_view_is_every_set_hyperparameter():
    hp = {**TENSOR, "mode_rank": None, "num_rbf": 20}
    view = format_leaderboard([_config_row("aaaaaaaaaaaa", 0.1, hp)], "markdown")
    # sorted, out_vectors (fixed by the task) and unset (None) options left out
    assert "| hidden=64 layers=3 num_rbf=20 variant=tensor |" in view
    assert "| - |" in format_leaderboard([_config_row("aaaaaaaaaaaa", 0.1, {})], "markdown")
