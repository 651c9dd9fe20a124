"""Refresh the generated blocks of README.md and docs/reproduction.md from leaderboards/.

* README.md, between ``<!-- leaderboards:begin -->`` and ``<!-- leaderboards:end -->``:
  exactly what ``sbbench leaderboard --format markdown`` prints.
* docs/reproduction.md, between ``<!-- reproduce:TABLE:begin -->`` and
  ``<!-- reproduce:TABLE:end -->``: exactly what ``sbbench reproduce TABLE --summary``
  prints (paper value vs. the leaderboard rows that table submitted).
* docs/leaderboard/index.html: exactly the page ``sbbench leaderboard --format html
  --out docs/leaderboard`` writes (the same generator, :func:`render_html`).

So no number in these files is hand-typed; ``tests/leaderboard/test_generated_docs.py``
fails while one is stale. ``sbbench submit`` into a checkout's leaderboards/ runs
:func:`update_all` itself; after editing a CSV by hand: ``python docs/update_generated.py``.
(docs/leaderboard/screenshot.png is written by tests/leaderboard/test_html.py.)
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from sbbench._io import atomic_write_bytes
from sbbench.cli import main

ROOT = Path(__file__).resolve().parent.parent
BOARDS = str(ROOT / "leaderboards")


def cli_output(*argv: str) -> str:
    """stdout of ``sbbench ARGV`` (raises if it fails)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(list(argv))
    if code != 0:
        raise RuntimeError(f"sbbench {' '.join(argv)} exited with {code}")
    return buf.getvalue()


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def block(text: str, name: str) -> str:
    """The text between the ``name`` markers of ``text``."""
    begin, end = markers(name)
    m = re.search(re.escape(begin) + r"\n(.*?)" + re.escape(end), text, re.S)
    if m is None:
        raise ValueError(f"no {begin} ... {end} block")
    return m.group(1)


def blocks(text: str) -> list[str]:
    """Names of all generated blocks in ``text``, in order."""
    return re.findall(r"<!-- ([\w:.+-]+):begin -->", text)


def render(name: str) -> str:
    """What the block ``name`` should contain."""
    if name == "leaderboards":
        return cli_output("leaderboard", "--format", "markdown", "--dir", BOARDS)
    kind, _, table = name.partition(":")
    if kind == "reproduce" and table:
        return cli_output("reproduce", table, "--summary", "--leaderboards", BOARDS)
    raise ValueError(f"unknown generated block {name!r}")


def update(path: Path) -> bool:
    """Rewrite every generated block of ``path`` in place (atomically); return if it changed."""
    old = path.read_text(encoding="utf-8")
    new = old
    for name in blocks(old):
        begin, _ = markers(name)
        new = new.replace(begin + "\n" + block(new, name), begin + "\n" + render(name), 1)
    if new == old:
        return False
    atomic_write_bytes(path, new.encode("utf-8"))
    return True


FILES = (ROOT / "README.md", ROOT / "docs" / "reproduction.md")
PAGE = ROOT / "docs" / "leaderboard" / "index.html"


def render_html() -> str:
    """What docs/leaderboard/index.html should contain (the page of every leaderboard)."""
    from sbbench.leaderboard import read_leaderboard
    from sbbench.leaderboard._html import render_html as page

    boards = {p.stem: read_leaderboard(p) for p in sorted(Path(BOARDS).glob("*.csv"))}
    return page(boards, PAGE.parent)


def update_html(path: Path = PAGE) -> bool:
    """Rewrite docs/leaderboard/index.html (atomically) if stale; return if it changed."""
    new = render_html()
    if path.is_file() and path.read_text(encoding="utf-8") == new:
        return False
    atomic_write_bytes(path, new.encode("utf-8"))  # keeps the file's mode (umask if new)
    return True


def update_all() -> dict[Path, bool]:
    """Refresh every generated file of this checkout that exists (README.md,
    docs/reproduction.md, docs/leaderboard/index.html); ``{path: changed}``."""
    out = {path: update(path) for path in FILES if path.is_file()}
    if PAGE.parent.is_dir():
        out[PAGE] = update_html()
    return out


if __name__ == "__main__":
    for path, changed in update_all().items():
        print(f"{path.relative_to(ROOT)}: {'updated' if changed else 'up to date'}")
