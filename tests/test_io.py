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


def test_atomic_path_keeps_the_suffix_and_gives_the_usual_mode(tmp_path):
    """A writer that wants a path (savefig, torch.save) gets a temporary one with the same
    suffix; even a writer that makes its own 0600 temporary file and moves it onto that
    path (relaxed_e3nn.describe) leaves the umask mode."""
    import tempfile

    from sbbench._io import atomic_path

    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "theta.png") as tmp:
            assert tmp.suffix == ".png" and tmp.parent == tmp_path and tmp.name.startswith(".")
            fd, own = tempfile.mkstemp(suffix=".png", dir=tmp_path)  # 0600
            os.write(fd, b"png")
            os.close(fd)
            os.replace(own, tmp)
        assert (tmp_path / "theta.png").read_bytes() == b"png"
        assert _mode(tmp_path / "theta.png") == 0o644
        path = tmp_path / "ckpt.pt"
        path.write_bytes(b"old")
        path.chmod(0o640)
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"new")
        assert path.read_bytes() == b"new" and _mode(path) == 0o640
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt", "theta.png"]
    finally:
        os.umask(old)


def test_atomic_path_leaves_the_old_file_when_the_writer_fails(tmp_path):
    from sbbench._io import atomic_path

    path = tmp_path / "curves.png"
    path.write_bytes(b"old")
    for exc in (RuntimeError("plot failed"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with atomic_path(path) as tmp:
                tmp.write_bytes(b"half")
                raise exc
        assert path.read_bytes() == b"old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]


def test_atomic_write_text_is_utf8(tmp_path):
    from sbbench._io import atomic_write_text

    atomic_write_text(tmp_path / "a.yaml", "Å: 1\n")
    assert (tmp_path / "a.yaml").read_bytes() == "Å: 1\n".encode()
