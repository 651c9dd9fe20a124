"""sbbench._io.atomic_write_bytes: whole files only, with the mode a plain write gives."""

import os
import stat

import pytest

from sbbench._io import atomic_write_bytes


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.csv", b"x\n")
        assert _mode(tmp_path / "a.csv") == 0o644  # not mkstemp's 0600
        os.umask(0o077)
        atomic_write_bytes(tmp_path / "b.csv", b"x\n")
        assert _mode(tmp_path / "b.csv") == 0o600
    finally:
        os.umask(old)


def test_existing_file_keeps_its_mode_and_no_temp_is_left(tmp_path):
    path = tmp_path / "board.csv"
    path.write_bytes(b"old\n")
    path.chmod(0o640)
    atomic_write_bytes(path, b"new\n")
    assert path.read_bytes() == b"new\n" and _mode(path) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.csv"]


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "board.csv"
    path.write_bytes(b"old\n")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"new\n")
    assert path.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.csv"]
