"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file sbbench writes goes through here (results, leaderboards, configs, checkpoints,
figures, dataset caches): :func:`atomic_write_bytes` / :func:`atomic_write_text` for
content in memory, :func:`atomic_path` for writers that want a path (``savefig``,
``torch.save``). The file gets the mode a plain ``open(path, "w")`` would leave: an
existing file keeps its mode, a new one gets ``0o666 & ~umask`` (``mkstemp`` alone makes
every file 0600).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_path"]


def _mode_for(path: Path) -> int:
    """The mode a plain ``open(path, "w")`` would leave: the existing file's, else
    0o666 minus the umask (``mkstemp`` alone would make every file 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``.

    The temporary name keeps ``path``'s suffix (``savefig`` picks the format from it).
    Whatever the writer leaves there is fsynced, given ``path``'s mode (see the module
    docstring; also when the writer itself made a 0600 temporary file) and moved into
    place with ``os.replace``. If the block raises (Ctrl-C included), ``path`` is
    untouched and the temporary file removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=path.suffix or ".tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    The temporary file is flushed and fsynced before the rename, so after a crash the
    path holds either the previous content or ``data`` in full. The file keeps its
    mode (or gets the umask-derived one if new), as with a plain write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))
