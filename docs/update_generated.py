"""Copy the ranked leaderboards into README.md (between the ``leaderboards`` markers).

The block is exactly what ``sbbench leaderboard --format markdown`` prints, so the
README never shows hand-typed numbers; ``tests/leaderboard/test_readme.py`` fails when
the README is out of date. Run after submitting: ``python leaderboards/update_readme.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

from sbbench.cli import main

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- leaderboards:begin -->", "<!-- leaderboards:end -->"


def rendered() -> str:
    """``sbbench leaderboard --format markdown`` over this checkout's leaderboards/."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["leaderboard", "--format", "markdown", "--dir", str(ROOT / "leaderboards")])
    if code != 0:
        raise RuntimeError(f"sbbench leaderboard exited with {code}")
    return buf.getvalue()


def block(readme: str) -> str:
    """The text between the markers of ``readme``."""
    m = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), readme, re.S)
    if m is None:
        raise ValueError(f"README.md has no {BEGIN} ... {END} block")
    return m.group(1)


def update(path: Path = ROOT / "README.md") -> bool:
    """Rewrite the block in place (atomically); return whether it changed."""
    text = path.read_text(encoding="utf-8")
    new = text.replace(BEGIN + "\n" + block(text), BEGIN + "\n" + rendered(), 1)
    if new == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".README.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)
    return True


if __name__ == "__main__":
    print("README.md updated" if update() else "README.md already up to date")
