"""sbbench.errors: the error classes, their exit codes, and the library raising them for
bad user input (while a plain ValueError stays a caller's or an internal error)."""

import pickle

import numpy as np
import pytest

from sbbench.errors import (
    EXIT_BUG,
    EXIT_INPUT,
    EXIT_REJECTED,
    InputError,
    NotFound,
    RejectedResult,
    SbbenchError,
)


def test_exit_codes():
    assert (EXIT_INPUT, EXIT_REJECTED, EXIT_BUG) == (2, 1, 70)
    assert InputError.exit_code == NotFound.exit_code == 2
    assert RejectedResult.exit_code == 1


def test_compatible_with_the_builtin_errors_raised_before():
    for cls in (InputError, NotFound, RejectedResult):
        assert issubclass(cls, SbbenchError) and issubclass(cls, ValueError)
    assert issubclass(NotFound, FileNotFoundError) and issubclass(NotFound, KeyError)
    assert not issubclass(RejectedResult, InputError)
    assert not issubclass(InputError, RejectedResult)


def test_not_found_message_is_not_quoted_like_a_key_error():
    exc = NotFound("unknown dataset 'x'")
    assert str(exc) == "unknown dataset 'x'"
    assert str(KeyError("unknown dataset 'x'")) != str(exc)  # KeyError quotes it
    with pytest.raises(KeyError, match="unknown dataset 'x'"):
        raise exc


def test_picklable():  # errors cross process boundaries (Ray sweeps)
    for exc in (InputError("a"), NotFound("b"), RejectedResult("c")):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc)


def test_submission_rejected_is_a_rejected_result():
    from sbbench.leaderboard import SubmissionRejected

    assert issubclass(SubmissionRejected, RejectedResult)
    assert issubclass(SubmissionRejected, ValueError)  # callers that catch ValueError


def test_cli_error_is_input_error():
    from sbbench.cli import CLIError

    assert issubclass(CLIError, InputError) and CLIError("x").exit_code == 2
    assert CLIError("x", code=1).code == 1


# representative bad input from each layer: an InputError, the message unchanged


def test_unknown_names_are_not_found():
    from sbbench.datasets import get_class
    from sbbench.models import build

    with pytest.raises(NotFound, match="unknown dataset 'sqare'"):
        get_class("sqare")
    with pytest.raises(NotFound, match="unknown model 'egn'"):
        build("egn")
    with pytest.raises(NotFound, match="unknown modifier"):
        build("egnn+nope")


def test_bad_options_and_hyperparameters_are_input_errors():
    from sbbench.datasets import get_class
    from sbbench.models import build

    with pytest.raises(InputError, match="unknown option"):
        get_class("square").check_options(nope=1)
    with pytest.raises(InputError, match="does not accept hyperparameter"):
        build("egnn", out_vectors=1, nope=3)
    with pytest.raises(InputError, match="need layers >= 0 and hidden >= 1"):
        build("egnn", out_vectors=1, hidden=0)


def test_bad_structures_are_input_errors():
    from sbbench.symmetry import CloseAtomsError, detect

    assert issubclass(CloseAtomsError, InputError)
    with pytest.raises(InputError, match="non-finite"):
        detect(np.array([[0.0, 0, np.nan]]), [1])
    with pytest.raises(CloseAtomsError):
        detect(np.zeros((2, 3)), [1, 1])


def test_missing_files_are_not_found(tmp_path):
    from sbbench.datasets import from_ase
    from sbbench.sweep import load_grid

    with pytest.raises(NotFound, match="no such file"):
        from_ase(tmp_path / "none.xyz", target="forces")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_grid(tmp_path / "none.yaml")
