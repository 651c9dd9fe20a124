"""Suite-wide test configuration: deterministic hypothesis runs, a private cache.

Hypothesis profiles (tests/README.md): ``ci`` (the default) is derandomized, so
every run draws the same examples; ``dev`` explores new random examples on every
run. Select one with ``HYPOTHESIS_PROFILE=dev pytest ...`` or
``pytest --hypothesis-profile=dev ...``.

Caches: the tests never write to ``~/.cache/sbbench``. Unless set by the user,
``$SBBENCH_CACHE`` (processed datasets) and ``$SBBENCH_DATA`` (downloaded official
data) point at a fresh temporary folder for the session, removed at its end; the
subprocesses that tests start inherit them.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,  # examples drawn from a hash of the test, the same on every run
    database=None,  # no .hypothesis/ example database replaying earlier failures
    deadline=None,  # no timing assertions (numba compilation, loaded CI machines)
    print_blob=True,  # a failure prints the @reproduce_failure blob
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: The environment variables behind sbbench's default folders under ~/.cache/sbbench
#: (sbbench.datasets._base.default_root, sbbench.datasets.qm7x._fetch.default_data_dir).
CACHE_VARIABLES = {"SBBENCH_CACHE": "cache", "SBBENCH_DATA": "data"}

_session_dir: Path | None = None
_set_here: list[str] = []


def pytest_configure(config):
    global _session_dir
    missing = [name for name in CACHE_VARIABLES if not os.environ.get(name)]
    if not missing:
        return
    _session_dir = Path(tempfile.mkdtemp(prefix="sbbench-tests-"))
    for name in missing:
        folder = _session_dir / CACHE_VARIABLES[name]
        folder.mkdir()
        os.environ[name] = str(folder)
        _set_here.append(name)


def pytest_unconfigure(config):
    global _session_dir
    for name in _set_here:
        os.environ.pop(name, None)
    _set_here.clear()
    if _session_dir is not None:
        shutil.rmtree(_session_dir, ignore_errors=True)
        _session_dir = None


def pytest_report_header(config):
    return "sbbench folders: " + ", ".join(
        f"{name}={os.environ.get(name, '(unset)')}" for name in CACHE_VARIABLES
    )


@pytest.fixture
def toy_known(monkeypatch):
    """Dataset 'toy' version '1' is known to the leaderboard during the test (results and
    leaderboard tests; tests/results/_factory.py)."""
    from tests.results._factory import register_toy

    return register_toy(monkeypatch)
