"""The detector says up front that it compiles, once, and only when numba's cache is cold
(issue 18 item 1): whatever triggers the compilation (run, curie, datasets, the API)."""

import logging
import os
import subprocess
import sys

from numba.core import event

from sbbench.symmetry import _kernels

SNIPPET = (
    "import numpy as np\n"
    "from sbbench.symmetry import _kernels as k\n"
    "assert k._det3(np.eye(3)) == 1.0\n"  # the smallest kernel: compiles in about a second
)


def _python(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, timeout=120
    )


def test_cold_cache_says_so_once_warm_cache_is_silent(tmp_path):
    cold = _python(tmp_path)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count("compiling the point-group detector") == 1, cold.stderr
    assert any(tmp_path.rglob("*.nbi")), "numba wrote no cache"
    warm = _python(tmp_path)  # the kernel now loads from the cache: no notice
    assert warm.returncode == 0 and "compiling" not in warm.stderr, warm.stderr


def test_notice_is_logged_once_and_only_for_the_detectors_kernels(caplog, monkeypatch):
    monkeypatch.setattr(_kernels.compile_notice, "said", False)
    caplog.set_level(logging.WARNING, logger="sbbench.symmetry")

    def other(x):  # a numba function of another module does not trigger the notice
        return x

    other.py_func = other
    with event.trigger_event("numba:compile", data={"dispatcher": other}):
        pass
    assert not caplog.records
    for _ in range(2):  # two kernels compile: one notice
        with event.trigger_event("numba:compile", data={"dispatcher": _kernels._dot}):
            pass
    assert [r.getMessage() for r in caplog.records] == [_kernels.COMPILE_NOTICE]
    assert caplog.records[0].name == "sbbench.symmetry"
