"""CLI: the exit code of each kind of error (sbbench.errors): bad input 2, a rejected
result 1, anything else a bug (70, with its traceback), Ctrl-C 130."""

import json

import pytest

import sbbench.cli as cli
import sbbench.datasets as datasets
from sbbench.errors import EXIT_BUG, EXIT_INPUT, EXIT_REJECTED


@pytest.fixture
def sbbench(capsys, monkeypatch):
    monkeypatch.delenv("SBBENCH_LEADERBOARDS", raising=False)

    def run(*args):
        code = cli.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


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
