"""CLI: the exit code of each kind of error (sbbench.errors): bad input 2, a rejected
result 1, anything else a bug (70, with its traceback), Ctrl-C 130."""

import json

import pytest

import sbbench.cli as cli
import sbbench.datasets as datasets
from sbbench.errors import EXIT_BUG, EXIT_INPUT, EXIT_REJECTED


def _one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sbbench: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["curie", "sqare"], "unknown dataset 'sqare'"),  # NotFound
        (["curie", "square", "--option", "side=abc"], "option 'side' must be float"),
        (["curie", "square", "--target-tol", "0"], "--target-tol must be > 0"),  # CLIError
        (["validate", "{tmp}/none.json"], "no such results file"),
    ],
)
def test_bad_input_is_exit_2_in_one_line(sbbench, tmp_path, args, needle):
    code, out, err = sbbench(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == EXIT_INPUT == 2 and out == ""
    _one_line_error(err, needle)


def test_an_unparsable_results_file_is_bad_input(sbbench, tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{not json")
    for command in ("validate", "submit"):
        code, _, err = sbbench(command, path, *(["--dir", tmp_path] if command == "submit" else []))
        assert code == 2, (command, err)
        _one_line_error(err, "not valid JSON")


def test_a_rejected_results_file_is_exit_1(sbbench, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"model": "egnn"}))  # JSON, but not a results file
    code, out, err = sbbench("validate", path)
    assert code == EXIT_REJECTED == 1 and out == ""
    _one_line_error(err, f"invalid {path}")
    code, out, err = sbbench("submit", path, "--dir", tmp_path / "boards", "--no-docs")
    assert code == 1 and out == ""
    _one_line_error(err, f"rejected {path}")
    assert not (tmp_path / "boards").exists()


@pytest.mark.parametrize(
    "error",
    [
        ZeroDivisionError("float division by zero"),
        ValueError("an internal invariant broke"),  # a plain ValueError is not bad input
        KeyError("internal_key"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_internal_error_is_a_bug_with_its_traceback(sbbench, monkeypatch, error):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(datasets, "load", broken)  # `sbbench curie` calls it
    code, out, err = sbbench("curie", "square")
    assert code == EXIT_BUG == 70 and out == ""
    assert err.startswith("Traceback (most recent call last):")
    assert f"in broken\n    raise error\n{type(error).__name__}" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sbbench: internal error: this is a bug in sbbench")
    assert "please report it" in last


def test_debug_reraises(sbbench, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(datasets, "load", broken)
    with pytest.raises(ZeroDivisionError, match="boom"):
        sbbench("--debug", "curie", "square")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="unknown dataset"):
        sbbench("--debug", "curie", "sqare")


def test_usage_errors_are_exit_2(sbbench):
    with pytest.raises(SystemExit) as exc:  # argparse
        cli.main(["curie"])
    assert exc.value.code == 2
    code, _, err = sbbench("nope")
    assert code == 2 and "unknown command 'nope'" in err


# ------------------------------------------------- errors the library raises (no shims)
# The CLI passes these through sbbench.cli.main unchanged: without the library's
# InputError/RejectedResult they would be plain ValueErrors, i.e. exit 70.


@pytest.mark.parametrize(
    "text, needles",
    [
        ("epochz: 3\n", ["unknown config key 'epochz'", "'epochs'"]),
        ("[1, 2]\n", ["expected a mapping of config keys"]),
        ("epochs: ten\n", ["epochs must be an integer"]),
        ("lr: -1.0\n", ["lr must be > 0"]),  # RunConfig.validate: the file still named
        ("split: molecule\n", ["split must be one of"]),
        ("seeds: [1, 1]\n", ["seed 1 is given twice"]),  # check_run
        ("model_hparams: {num_atom_types: 0}\n", ["num_atom_types must be >= 1"]),  # a model
        ("loss_chamfer: {symmetric: 1}\n", ["loss_chamfer: symmetric must be true or false"]),
    ],
)
def test_a_bad_config_file_is_exit_2_naming_the_file(sbbench, tmp_path, text, needles):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    code, stdout, err = sbbench(
        "run", "--model", "egnn", "--dataset", "square", "--config", config, "--out", out
    )
    assert code == EXIT_INPUT and stdout == ""
    file_named = "seeds" in text or "model_hparams" in text  # checked after the merge
    _one_line_error(err, *needles, *([] if file_named else [str(config)]))
    assert not out.exists()


def test_a_missing_config_file_is_exit_2(sbbench, tmp_path):
    code, _, err = sbbench(
        "run", "--model", "egnn", "--dataset", "square", "--config", tmp_path / "none.yaml"
    )
    assert code == EXIT_INPUT
    _one_line_error(err, "none.yaml does not exist")


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"[1, 2]", "expected a JSON object"),
        (b"\x1f\x8bnot gzip", "unreadable results file"),
        (b"\xff\xfe", "unreadable results file"),
    ],
)
def test_a_malformed_results_file_is_exit_2(sbbench, tmp_path, content, needle):
    path = tmp_path / "results.json"
    path.write_bytes(content)
    for command in ("validate", "submit"):
        extra = ["--dir", tmp_path / "boards", "--no-docs"] if command == "submit" else []
        code, out, err = sbbench(command, path, *extra)
        assert code == EXIT_INPUT and out == "", (command, err)
        _one_line_error(err, str(path), needle)
    assert not (tmp_path / "boards").exists()


def test_a_well_formed_results_file_the_board_rejects_is_exit_1(sbbench, tmp_path):
    from sbbench.leaderboard import content_hash, write_results
    from tests.results._factory import build_results

    path = write_results(tmp_path / "results.json", build_results())  # dataset 'toy'
    code, out, err = sbbench("validate", path)
    assert code == 0 and "unknown dataset 'toy'" in err  # valid, with a warning
    code, out, err = sbbench("submit", path, "--dir", tmp_path / "boards", "--no-docs")
    assert code == EXIT_REJECTED and out == ""
    _one_line_error(err, f"rejected {path}", "dataset.name: unknown dataset 'toy'")
    assert not (tmp_path / "boards").exists()

    results = build_results()
    results["folds"][0]["test"]["sbmse"] *= 1.5  # a stored score the summary disowns
    results["content_hash"] = content_hash(results)
    path = write_results(tmp_path / "tampered.json", results)
    for command in ("validate", "submit"):
        extra = ["--dir", tmp_path / "boards", "--no-docs"] if command == "submit" else []
        code, out, err = sbbench(command, path, *extra)
        assert code == EXIT_REJECTED and out == "", (command, err)
        _one_line_error(err, str(path), "summary.test_sbmse.mean:", "but the folds give")
    assert not (tmp_path / "boards").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["nope"], "unknown table 'nope'"),
        (["sann-tabel1"], "Did you mean 'sann-table1'?"),
        (["nope", "--summary"], "unknown table 'nope'"),
        (["sann-table1", "--only", "nope@x/y"], "no row 'nope@x/y' in sann-table1"),
    ],
)
def test_an_unknown_reproduce_table_or_row_is_exit_2(sbbench, tmp_path, monkeypatch, args, needle):
    import sbbench.training as training

    def boom(*args, **kwargs):
        raise AssertionError("bad input reached training")

    monkeypatch.setattr(training, "run_experiment", boom)
    out = tmp_path / "out"
    code, stdout, err = sbbench("reproduce", *args, "--out", out, "--no-submit")
    assert code == EXIT_INPUT and stdout == ""
    _one_line_error(err, needle)
    assert not out.exists()
