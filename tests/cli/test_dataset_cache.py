"""A failed dataset build leaves no cache behind, and a damaged cache is one line in the
CLI, not a raw UserWarning with a source path (issue 18 item 6)."""

import numpy as np
import pytest

import sbbench.cli as cli
from sbbench.datasets import _registry
from sbbench.datasets._base import SBDataset, make_sample


class Flaky(SBDataset):
    """Two atoms; build() fails while ``fail`` is set."""

    version = 1
    fail = False

    def build(self):
        if type(self).fail:
            raise RuntimeError("the generator crashed")
        pos = np.array([[0.0, 0.0, 0.0], [1.2, 0.0, 0.0]])
        return [make_sample([1, 8], pos, np.eye(3)[:2], idx=0, tol=0.1)]


@pytest.fixture
def flaky(monkeypatch, tmp_path):
    monkeypatch.setitem(_registry._CLASSES, "flaky", Flaky)
    monkeypatch.setattr(Flaky, "name", "flaky")
    monkeypatch.setattr(Flaky, "fail", False)
    monkeypatch.setenv("SBBENCH_CACHE", str(tmp_path))
    return tmp_path


def _processed(root):
    return [p for p in root.rglob("processed")]


def test_failed_build_leaves_no_cache_and_the_next_load_is_clean(flaky, recwarn):
    Flaky.fail = True
    with pytest.raises(RuntimeError, match="the generator crashed"):
        _registry.load("flaky")
    assert _processed(flaky) == []  # nothing half-built to trip over
    Flaky.fail = False
    ds = _registry.load("flaky")
    assert len(ds) == 1 and ds[0].z.tolist() == [1, 8]
    assert not [w for w in recwarn if "processed cache" in str(w.message)]


def test_interrupted_build_leaves_no_cache(flaky, monkeypatch):
    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Flaky, "build", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _registry.load("flaky")
    assert _processed(flaky) == []


def test_damaged_cache_is_one_line_in_the_cli(flaky, capsys):
    ds = _registry.load("flaky")
    (_processed(flaky)[0] / "meta.json").unlink()  # e.g. killed between data.pt and meta.json
    code = cli.main(["curie", "flaky"])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = [line for line in err.splitlines() if "processed cache" in line]
    assert lines == [
        f"sbbench: warning: flaky: processed cache {_processed(flaky)[0]} is incomplete; "
        "rebuilding it"
    ], err
    assert "UserWarning" not in err and ".py:" not in err  # no source path
    assert len(_registry.load("flaky")) == len(ds)
