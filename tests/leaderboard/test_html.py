"""The leaderboard page (``sbbench leaderboard --format html``), checked in headless Chromium.

The page is rendered from small real leaderboards built here (results files of
tests/results/_factory.py on the shipped square and h2o_modes data and on the toy
dataset, accepted by :func:`sbbench.leaderboard.submit`), and once from the committed
leaderboards/ (with SBBENCH_WRITE_SCREENSHOT=1 that check also writes
docs/leaderboard/screenshot.png).

Chromium (Debian package ``chromium``; .ci/run installs it) is driven over the Chrome
DevTools protocol on a pipe (``--remote-debugging-pipe``: commands on fd 3, replies and
events on fd 4, NUL-separated JSON), so neither an extra package nor a port is needed.
One browser serves the module; each check opens one tab and loads the page once, clicks
with real mouse events (``Input.dispatchMouseEvent``) and fails on any console error,
uncaught exception or failed load (``Runtime``/``Log`` events). Without Chromium the
browser checks are skipped, unless ``SBBENCH_REQUIRE_BROWSER=1`` (set by .ci/run).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sbbench.leaderboard import rank_rows, read_leaderboard, submit
from sbbench.leaderboard._html import equivariant_floor, render_html, row_status
from tests.results._factory import (
    CD_PAPER,
    build_results,
    dataset_entry,
    register_toy,
    samples_of,
)

ROOT = Path(__file__).resolve().parents[2]
#: Where the docs' screenshot goes: only when asked (SBBENCH_WRITE_SCREENSHOT=1), so a test
#: run leaves the checkout unchanged; otherwise a temporary file is checked.
DOCS_SCREENSHOT = ROOT / "docs" / "leaderboard" / "screenshot.png"
CHROMIUM = os.environ.get("SBBENCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)
REQUIRE = os.environ.get("SBBENCH_REQUIRE_BROWSER") == "1"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
)
WIDTH, HEIGHT = 1280, 1000

browser_only = pytest.mark.skipif(
    not HAVE_CHROMIUM and not REQUIRE,
    reason=f"needs headless Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
    "or set SBBENCH_CHROMIUM)",
)


# ----------------------------------------------------------------------------- browser


class CDPError(RuntimeError):
    pass


class Browser:
    """Chromium over ``--remote-debugging-pipe`` (a minimal DevTools protocol client)."""

    def __init__(self, user_data_dir: Path, log: Path):
        cmd_r, self._cmd_w = os.pipe()  # we write commands; Chromium reads fd 3
        self._evt_r, evt_w = os.pipe()  # Chromium writes fd 4; we read
        # A fresh Python (no threads, unlike pytest's) puts the two pipe ends on fds 3
        # and 4 and execs Chromium: subprocess keeps fd numbers, it cannot move them.
        remap = (
            "import fcntl, os, sys; a, b = (fcntl.fcntl(int(f), fcntl.F_DUPFD_CLOEXEC, 10) "
            "for f in sys.argv[1:3]); os.dup2(a, 3); os.dup2(b, 4); "
            "[os.close(int(f)) for f in sys.argv[1:3] if int(f) > 4]; "
            "os.execv(sys.argv[3], sys.argv[3:])"
        )
        self._log = open(log, "wb")  # closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", remap, str(cmd_r), str(evt_w), CHROMIUM, *FLAGS,
             f"--user-data-dir={user_data_dir}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            pass_fds=(cmd_r, evt_w),
        )  # fmt: skip
        os.close(cmd_r)
        os.close(evt_w)
        self._next_id = 0
        self._inbox: queue.Queue = queue.Queue()
        self._pending: list[dict] = []  # messages read but not yet consumed
        threading.Thread(target=self._read, daemon=True).start()
        self.call("Browser.getVersion", timeout=60)  # the browser is up

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._evt_r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._inbox.put(None)
                return
            buf += chunk
            *msgs, buf = buf.split(b"\0")
            for m in msgs:
                self._inbox.put(json.loads(m))

    def _take(self, match, timeout: float) -> dict:
        for i, msg in enumerate(self._pending):
            if match(msg):
                return self._pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from Chromium")
            try:
                msg = self._inbox.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise CDPError(f"Chromium exited (code {self.proc.poll()})")
            if match(msg):
                return msg
            self._pending.append(msg)

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params):
        self._next_id += 1
        msg_id = self._next_id
        msg = {"id": msg_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        reply = self._take(lambda m: m.get("id") == msg_id, timeout)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def events(self, session: str) -> list[dict]:
        """Every event of ``session`` received so far (consumed)."""
        while True:
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                break
            if msg is not None:
                self._pending.append(msg)
        mine = [m for m in self._pending if m.get("sessionId") == session and "method" in m]
        self._pending = [m for m in self._pending if m not in mine]
        return mine

    def wait_event(self, session: str, method: str, timeout: float = 30) -> dict:
        return self._take(
            lambda m: m.get("sessionId") == session and m.get("method") == method, timeout
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("Browser.close", timeout=10)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._cmd_w, self._evt_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()


class Page:
    """One tab with one loaded page; collects console errors while it lives."""

    def __init__(self, browser: Browser, url: str):
        self.b = browser
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        self.target = target
        self.s = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.errors: list[str] = []
        self.call("Page.navigate", url=url)
        browser.wait_event(self.s, "Page.loadEventFired", timeout=60)

    def call(self, method: str, **params):
        return self.b.call(method, self.s, **params)

    def js(self, expression: str):
        """Value of a JS expression (promises awaited); raise on a JS exception."""
        res = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in res:
            raise CDPError(f"{expression[:80]}...: {res['exceptionDetails']}")
        return res["result"].get("value")

    def click(self, selector: str) -> None:
        """A real left click (mouse events) at the centre of the element."""
        x, y = self.js(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            " el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        self.js("new Promise(r => requestAnimationFrame(() => r(true)))")

    def console_errors(self) -> list[str]:
        for ev in self.b.events(self.s):
            p = ev.get("params", {})
            if ev["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                self.errors.append(f"exception: {d.get('exception', {}).get('description', d)}")
            elif ev["method"] == "Runtime.consoleAPICalled" and p.get("type") in (
                "error",
                "assert",
            ):
                self.errors.append(f"console.{p['type']}: {[a.get('value') for a in p['args']]}")
            elif ev["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                e = p["entry"]
                self.errors.append(f"log: {e.get('text')} {e.get('url', '')}")
        return self.errors

    def screenshot(self, path: Path, top: str | None = None) -> None:
        """PNG of the viewport, scrolled to the element ``top`` (else the page top)."""
        self.js(
            f"(() => {{ const el = {json.dumps(top)} && document.querySelector({json.dumps(top)});"
            " window.scrollTo(0, el ? el.getBoundingClientRect().top + window.scrollY - 8 : 0);"
            " return new Promise(r => requestAnimationFrame(() => r(true))); })()"
        )
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".png.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.b.call("Target.closeTarget", targetId=self.target)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not HAVE_CHROMIUM:
        pytest.fail(f"SBBENCH_REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("chromium")
    b = Browser(tmp / "profile", tmp / "chromium.log")
    yield b
    b.close()


@contextlib.contextmanager
def open_page(browser: Browser, path: Path):
    page = Page(browser, path.resolve().as_uri())
    try:
        yield page
        assert page.console_errors() == [], "console errors on the page"
    finally:
        page.close()


# ----------------------------------------------------------------------------- boards

#: Rows of the test leaderboards: (dataset[:task], load options, build_results kwargs).
SPECS = (
    ("square", {}, dict(model="schnet", symmetry_class="invariant", noise=0.05,
                        command="sbbench reproduce sann-table1 --only schnet@square/sbmse "
                        "--folds 1 --seeds 0,1,2")),
    ("square", {}, dict(model="egnn", symmetry_class="equivariant", loss="cd",
                        loss_chamfer={"symmetric": True, "reduction": "mean"}, noise=0.3)),
    ("square", {}, dict(model="sann", symmetry_class="relaxed-equivariant", loss="sbcd",
                        loss_chamfer=CD_PAPER, noise=0.01)),
    ("square", {}, dict(model="egnn+mlp", symmetry_class="symmetry-breaking", noise=0.1,
                        collapse=True)),
    # made on other data than the pinned square v2 (side 2): accepted, never ranked
    ("square", {"side": 2.0}, dict(model="painn", symmetry_class="equivariant", noise=0.02)),
    ("h2o_modes:asym", {}, dict(model="painn", symmetry_class="equivariant", noise=0.2)),
    ("h2o_modes:asym", {}, dict(model="schnet+mlp", symmetry_class="symmetry-breaking",
                                noise=0.02)),
    ("h2o_modes:bend", {}, dict(model="egnn", symmetry_class="equivariant", noise=0.05)),
)  # fmt: skip


def _build(directory: Path) -> None:
    from sbbench.datasets import load

    for i, (name, opts, kw) in enumerate(SPECS):
        kw = dict(kw)
        ds = load(name, **opts)
        samples = samples_of(ds)
        if kw.pop("collapse", False):
            kw["collapse_ids"] = {samples[0]["id"]}
        task = name.partition(":")[2] or "default"
        res = build_results(
            data=samples, dataset=dataset_entry(ds), task=task, protocol="same", n_folds=1,
            n_test=len(samples), tag=i, **kw,
        )  # fmt: skip
        submit(res, directory=directory)
    # toy (any content accepted): two ranking groups (random and same splits), no floor
    for tag, protocol, noise in ((20, "random", 0.05), (21, "random", 0.2), (22, "same", 0.1)):
        res = build_results(protocol=protocol, noise=noise, tag=tag, model=f"toy{tag}")
        submit(res, directory=directory)


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    """(leaderboard folder, page folder) of the test leaderboards, page rendered."""
    mp = pytest.MonkeyPatch()
    register_toy(mp)
    try:
        tmp = tmp_path_factory.mktemp("boards")
        folder, out = tmp / "leaderboards", tmp / "site"
        _build(folder)
        code = _cli("leaderboard", "--format", "html", "--out", str(out), "--dir", str(folder))
        assert code == 0
        yield folder, out
    finally:
        mp.undo()


def _cli(*argv: str) -> int:
    from sbbench.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        return main(list(argv))


def _expected(folder: Path) -> dict[tuple[str, str], dict]:
    """(dataset, task) -> ranked ids in rank order, ranks, stale ids, rows by id."""
    out: dict[tuple[str, str], dict] = {}
    for csv in sorted(folder.glob("*.csv")):
        for row in read_leaderboard(csv):
            e = out.setdefault((row["dataset"], row["task"]), {"rows": [], "stale": []})
            e["rows"].append(row)
    for e in out.values():
        current = [r for r in e["rows"] if row_status(r)[0]]
        e["stale"] = sorted(r["submission_id"] for r in e["rows"] if not row_status(r)[0])
        e["ranked"] = [(rk, r["submission_id"]) for rk, r in rank_rows(current)]
        e["by_id"] = {r["submission_id"]: r for r in e["rows"]}
    return out


# ----------------------------------------------------------------------------- no browser


def test_page_is_deterministic_and_ranks_like_the_cli(boards, tmp_path):
    folder, out = boards
    text = (out / "index.html").read_text(encoding="utf-8")
    rows = {p.stem: read_leaderboard(p) for p in sorted(folder.glob("*.csv"))}
    assert render_html(rows, out) == text  # no timestamps, nothing random
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "<link" not in text and 'src="http' not in text
    # the stale square row is the only one not ranked, with its reason
    exp = _expected(folder)
    assert [len(e["stale"]) for e in exp.values()].count(1) == 1
    stale_id = exp[("square", "default")]["stale"][0]
    ok, why = row_status(exp[("square", "default")]["by_id"][stale_id])
    assert not ok and "not the pinned data of square v2" in why
    # same ranking as `sbbench leaderboard` (csv view: rank + submission id)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        from sbbench.cli import main

        assert main(["leaderboard", "square", "--format", "csv", "--dir", str(folder)]) == 0
    cli = [line.split(",")[:2] for line in buf.getvalue().splitlines()[1:]]
    cli_ranked = [(int(rk), sid) for rk, sid in cli if sid != stale_id]
    assert cli_ranked == exp[("square", "default")]["ranked"]


def test_cli_html_needs_out_and_out_needs_html(tmp_path, capsys):
    assert _cli("leaderboard", "--format", "html") == 2
    assert _cli("leaderboard", "--out", str(tmp_path)) == 2
    assert not any(tmp_path.iterdir())


# ----------------------------------------------------------------------------- browser

_SECTIONS_JS = """
(() => Array.from(document.querySelectorAll('section.task')).map(sec => {
  const svg = sec.querySelector('svg.figure');
  const sr = svg.getBoundingClientRect();
  const plot = svg.querySelector('rect.plot').getBoundingClientRect();
  const pts = Array.from(svg.querySelectorAll('g.point')).map(g => {
    const c = g.querySelector('circle.pt'), r = c.getBoundingClientRect();
    return {id: g.dataset.id, cls: g.dataset.class, fill: getComputedStyle(c).fill,
            x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width,
            inside: r.x >= plot.x && r.right <= plot.right && r.y >= plot.y - 6
                    && r.bottom <= plot.bottom + 6};
  });
  const floor = svg.querySelector('g.floor');
  return {
    dataset: sec.dataset.dataset, task: sec.dataset.task,
    visible: sr.width > 300 && sr.height > 200 && getComputedStyle(svg).visibility === 'visible',
    points: pts,
    legend: Array.from(svg.querySelectorAll('g.legend')).map(g => g.dataset.class),
    floor: floor ? Number(floor.dataset.value) : null,
    floorY: floor ? floor.querySelector('line').getBoundingClientRect().y : null,
    tables: Array.from(sec.querySelectorAll('table.board')).map(t =>
      Array.from(t.tBodies[0].rows).map(tr => [Number(tr.dataset.rank), tr.dataset.id])),
    stale: Array.from(sec.querySelectorAll('table.stale-rows tbody tr')).map(tr => tr.dataset.id),
    text: sec.innerText,
  };
}))()
"""

_HIT_JS = """
(async (ids) => {
  const out = {};
  for (const id of ids) {
    const c = document.querySelector(`svg.figure g.point[data-id="${id}"] circle.pt`);
    c.scrollIntoView({block: 'center'});
    await new Promise(r => requestAnimationFrame(r));
    const r = c.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    out[id] = hit === c;
  }
  return out;
})
"""


def _check_sections(page: Page, expected: dict) -> list[dict]:
    sections = page.js(_SECTIONS_JS)
    assert sorted((s["dataset"], s["task"]) for s in sections) == sorted(expected)
    datasets = page.js(
        "Array.from(document.querySelectorAll('section.dataset')).map(s => s.dataset.dataset)"
    )
    assert datasets == sorted({d for d, _ in expected})
    for s in sections:
        e = expected[(s["dataset"], s["task"])]
        where = f"{s['dataset']}:{s['task']}"
        ranked_ids = [sid for _, sid in e["ranked"]]
        assert s["visible"], f"{where}: figure not visible"
        # the figure shows every ranked row, and nothing else
        assert sorted(p["id"] for p in s["points"]) == sorted(ranked_ids), where
        assert all(p["inside"] and p["w"] > 5 for p in s["points"]), f"{where}: point off the plot"
        by_id = e["by_id"]
        classes = {by_id[i]["symmetry_class"] for i in ranked_ids}
        assert sorted(s["legend"]) == sorted(classes), where
        fills = {p["cls"]: p["fill"] for p in s["points"]}
        assert len(set(fills.values())) == len(fills), f"{where}: classes share a colour"
        # log scale: a lower mean is drawn lower on the screen (larger y)
        order = sorted(s["points"], key=lambda p: by_id[p["id"]]["test_sbmse_mean"])
        for a, b in zip(order, order[1:]):
            if by_id[b["id"]]["test_sbmse_mean"] > 1.01 * by_id[a["id"]]["test_sbmse_mean"]:
                assert b["y"] < a["y"], f"{where}: points not ordered by score"
        # the tables: exactly the ranked rows, in `sbbench leaderboard` order and ranks
        assert [tuple(x) for t in s["tables"] for x in t] == [tuple(x) for x in e["ranked"]]
        assert sorted(s["stale"]) == e["stale"], where
        floor = equivariant_floor(s["dataset"], s["task"])
        if floor is None or floor[0] <= 1e-9:
            assert s["floor"] is None, where
        else:
            assert s["floor"] == pytest.approx(floor[0], rel=1e-12), where
    if any(s["points"] for s in sections):
        ids = [p["id"] for s in sections for p in s["points"]]
        hits = page.js(f"({_HIT_JS})({json.dumps(ids)})")
        assert all(hits.values()), f"points hidden under something: {hits}"
    return sections


@browser_only
def test_every_section_and_figure_is_shown(browser, boards):
    folder, out = boards
    expected = _expected(folder)
    assert len(expected) == 4  # square, h2o_modes:asym, h2o_modes:bend, toy
    with open_page(browser, out / "index.html") as page:
        sections = {(s["dataset"], s["task"]): s for s in _check_sections(page, expected)}
        square = sections[("square", "default")]
        assert square["floor"] == pytest.approx(0.0625, rel=1e-6)
        assert len(square["points"]) == 4 and len(square["stale"]) == 1
        assert "not ranked: stale data" in square["text"]
        # the paper value beside ours, for the row made by `sbbench reproduce`
        schnet = page.js(
            "Array.from(document.querySelectorAll('#square--default table.board tbody tr'))"
            ".map(tr => tr.innerText).filter(t => t.includes('schnet'))[0]"
        )
        assert "0.250" in schnet and "sann-table1" in schnet and "sbcd_paper" in schnet
        assert "sbbench reproduce sann-table1 --only schnet@square/sbmse" in schnet
        mlp = next(r for r in expected[("square", "default")]["rows"] if r["model"] == "egnn+mlp")
        cells = page.js(
            "Array.from(document.querySelectorAll("
            f"'#square--default tr[data-id=\"{mlp['submission_id']}\"] td'))"
            ".map(td => td.innerText.trim())"
        )
        assert mlp["test_collapsed"] == 3  # one of the 2 samples in each of 3 seeds
        assert "3/6" in cells and "3 x 1" in cells and "same" in cells
        assert "symmetry-breaking" in cells and mlp["command"] in cells
        assert "sbcd (one-sided)" in square["text"]
        # h2o_modes: asym has a floor (1/3), bend's is 0 and says so
        assert sections[("h2o_modes", "asym")]["floor"] == pytest.approx(1 / 3, rel=1e-6)
        assert "equivariant floor 0" in page.js(
            "document.querySelector('#h2o_modes--bend svg').textContent"
        )
        toy = sections[("toy", "default")]
        assert len(toy["tables"]) == 2 and toy["floor"] is None  # two split protocols
        links = page.js(
            "Array.from(document.querySelectorAll('a[href$=\"README.md\"]')).map(a => a.href)"
        )
        assert any(h.endswith("/datasets/square/README.md") for h in links)
        assert all(Path(h.removeprefix("file://")).is_file() for h in links)


def _order(page: Page, table: str) -> list[str]:
    return page.js(
        f"Array.from(document.querySelectorAll({json.dumps(table + ' tbody tr')}))"
        ".map(tr => tr.dataset.id)"
    )


@browser_only
def test_clicking_a_header_sorts_the_rows(browser, boards):
    folder, out = boards
    e = _expected(folder)[("square", "default")]
    rows = e["by_id"]
    ranked = [sid for _, sid in e["ranked"]]
    by_model = sorted(ranked, key=lambda i: rows[i]["model"])
    table = "#square--default table.board"
    head = table + " thead th:nth-child({}) button"
    with open_page(browser, out / "index.html") as page:
        cols = page.js(
            f"Array.from(document.querySelectorAll({json.dumps(table + ' thead th')}))"
            ".map(th => th.innerText.trim())"
        )
        model_col, cd_col, rank_col = cols.index("model") + 1, cols.index("test CD") + 1, 1
        assert _order(page, table) == ranked
        assert by_model != ranked  # else the click could not show anything
        page.click(head.format(model_col))
        assert _order(page, table) == by_model
        assert page.js(
            f"document.querySelector({json.dumps(table)}).tHead.rows[0]"
            f".cells[{model_col - 1}].getAttribute('aria-sort')"
        ) == "ascending"  # fmt: skip
        page.click(head.format(model_col))
        assert _order(page, table) == by_model[::-1]
        page.click(head.format(cd_col))  # numeric, not lexicographic
        assert _order(page, table) == sorted(ranked, key=lambda i: rows[i]["test_cd_mean"])
        page.click(head.format(rank_col))
        assert _order(page, table) == ranked


@browser_only
def test_console_errors_are_caught(browser, tmp_path):
    """The harness sees what would break the page: a failed load and a script error."""
    page_file = tmp_path / "broken.html"
    page_file.write_text(
        '<!DOCTYPE html><img src="missing.png"><script>console.error("boom"); nope();</script>'
    )
    page = Page(browser, page_file.as_uri())
    try:
        page.js("new Promise(r => setTimeout(() => r(true), 100))")
        errors = "\n".join(page.console_errors())
    finally:
        page.close()
    assert "missing.png" in errors and "boom" in errors and "nope" in errors


@pytest.mark.slow  # ~8 s: the page of every committed row in Chromium
@browser_only
def test_committed_leaderboards_page_and_screenshot(browser, tmp_path):
    committed = sorted((ROOT / "leaderboards").glob("*.csv"))
    if not committed:
        pytest.skip("no leaderboards/*.csv yet")
    boards_dir = tmp_path / "leaderboards"  # a snapshot: rows may be appended meanwhile
    boards_dir.mkdir()
    for csv in committed:
        shutil.copyfile(csv, boards_dir / csv.name)
    out = tmp_path / "site"
    assert _cli("leaderboard", "--format", "html", "--out", str(out), "--dir", str(boards_dir)) == 0
    expected = _expected(boards_dir)
    with open_page(browser, out / "index.html") as page:
        _check_sections(page, expected)
        images = page.js(
            "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, "
            "i.naturalWidth])"
        )
        for src, complete, width in images:
            assert complete and width > 0, f"image {src} did not load"
        # the first task whose figure has a floor line: who breaks the symmetry, who is stuck
        floor_task = page.js(
            "(() => { const s = Array.from(document.querySelectorAll('section.task'))"
            ".find(s => s.querySelector('svg.figure g.floor')); return s ? '#' + s.id : null; })()"
        )
        write = os.environ.get("SBBENCH_WRITE_SCREENSHOT") == "1"
        shot = DOCS_SCREENSHOT if write else tmp_path / "screenshot.png"
        page.screenshot(shot, top=floor_task)
    assert shot.stat().st_size > 10_000


def test_figure_labels_name_what_tells_complete_hyperparameters_apart():
    """Rows record every hyperparameter (issue 18 item 11): the labels skip unset (None)
    options and those implied by another (the Hessian head's, set only with
    variant=hessian), but keep whatever is needed to tell two configurations apart."""
    from sbbench.leaderboard._html import _labels
    from sbbench.models._registry import defaults

    def row(**hp):
        model = defaults("painn", **hp)
        return {"model": "painn", "loss": "sbmse", "loss_chamfer": "null",
                "hyperparameters": json.dumps({"model": model, "training": {}})}  # fmt: skip

    rows = [
        row(),
        row(variant="vector"),
        row(variant="hessian", normalize="total"),
        row(variant="hessian", normalize="atom"),
    ]
    assert _labels(rows) == [
        "painn variant=tensor",
        "painn variant=vector",
        "painn variant=hessian normalize=total",
        "painn variant=hessian normalize=atom",
    ]
    # cutoff is None (fully connected) or 5: set to one value where set, but nothing else
    # tells the two apart
    assert _labels([row(), row(cutoff=5.0)]) == ["painn", "painn cutoff=5.0"]
