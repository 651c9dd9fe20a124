"""QM7-X files the package writes get the umask's mode, like any file (issue 18 item 3)."""

from __future__ import annotations

import lzma
import os
import stat

import pytest

from sbbench.datasets.qm7x import curate
from sbbench.datasets.qm7x._fetch import _decompress

from ._fixtures import write_fixture_files


@pytest.fixture
def umask_002():
    old = os.umask(0o002)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_curated_and_decompressed_files_follow_the_umask(tmp_path, umask_002):
    raw = write_fixture_files(tmp_path / "raw")
    assert _mode(raw["1000"]) == 0o664  # was a hard-coded 0644
    out = tmp_path / "curated.hdf5"
    curate([raw["1000"]], out, progress=False)
    assert _mode(out) == 0o664
    archive = tmp_path / "1000.xz"
    archive.write_bytes(lzma.compress(raw["1000"].read_bytes()))
    _decompress(archive, tmp_path / "1000.hdf5")
    assert _mode(tmp_path / "1000.hdf5") == 0o664
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
