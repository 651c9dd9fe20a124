"""Bad input to run, curie, reproduce, demo and fetch: exit 2 and one line naming the
problem, before any work or file; Ctrl-C through the CLI is exit 130 (issue 20, hygiene).

Each case goes through ``sbbench.cli.main`` as a user would type it. fetch runs against
a local HTTP server on 127.0.0.1 that ignores Range headers or drops the connection.
"""

import hashlib
import http.server
import math
import threading

import pytest
import torch

import sbbench.cli as cli
from sbbench.datasets.qm7x import OFFICIAL_MD5
from sbbench.training import _experiment as experiment

torch.set_num_threads(1)


def _one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sbbench: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, err)


# --------------------------------------------------------------------------- run


@pytest.fixture
def tiny(tmp_path):
    """A config that makes `sbbench run ... --quick` train in about a second."""
    path = tmp_path / "tiny.yaml"
    path.write_text("model_hparams: {hidden: 8, layers: 1}\nequivariance_samples: 1\n")
    return ["--model", "egnn", "--dataset", "square", "--quick", "--quiet", "--config", path]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--seeds", "0,a"], "seeds must be comma-separated integers"),
        (["--seeds", ","], "no seed in ','"),  # was: silently the default seeds
        (["--seeds", "1,1"], "given twice"),  # was: trained every fold, then rejected
        (["--threads", "0"], "--threads: must be >= 1"),
        (["--threads", "-1"], "--threads: must be >= 1"),  # was: a torch RuntimeError
    ],
)
def test_run_bad_flags_are_usage_errors(tiny, tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", *map(str, tiny), "--out", str(out), *flags])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_run_cuda_without_a_gpu(sbbench, tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "out"
    code, stdout, err = sbbench("run", *tiny, "--out", out, "--device", "cuda")
    assert code == 2
    _one_line_error(err, "--device cuda", "no CUDA device")
    assert not out.exists() and "Curie" not in stdout


def test_run_split_that_cannot_work_fails_before_the_output_folder(sbbench, tiny, tmp_path):
    out = tmp_path / "out"
    code, _, err = sbbench("run", *tiny, "--out", out, "--split", "grouped")  # 2 folds
    assert code == 2
    _one_line_error(err, "grouped", "k >= 3")
    assert not out.exists()  # was: config.yaml, run.log and an empty checkpoints/


def test_run_ctrl_c_through_the_cli_is_exit_130(sbbench, tiny, tmp_path, monkeypatch):
    real = experiment.train_fold
    calls = {"n": 0}

    def interrupt_at(k):
        def train(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == k:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        return train

    monkeypatch.setattr(experiment, "train_fold", interrupt_at(1))  # before any fold finished
    code, _, err = sbbench("run", *tiny, "--out", tmp_path / "first")
    assert code == 130 and err.strip() == "sbbench: interrupted"
    assert not (tmp_path / "first").exists()  # nothing half-made is left

    calls["n"] = 0
    monkeypatch.setattr(experiment, "train_fold", interrupt_at(2))  # after the first fold
    code, out, _ = sbbench("run", *tiny, "--out", tmp_path / "second")
    assert code == 130
    assert "interrupted: the finished folds above were kept" in out
    import json

    results = json.loads((tmp_path / "second" / "results.json").read_text())
    assert [(f["seed"], f["fold"]) for f in results["folds"]] == [(0, 0)]


# ------------------------------------------------------------------------- curie


@pytest.mark.parametrize(
    "args, needles",
    [
        (["sqare"], ["unknown dataset 'sqare'", "Did you mean 'square'?"]),
        (["h2o_modes:nope"], ["unknown task 'nope'", "sym, bend, asym"]),
        (["square", "--option", "side"], ["--option must be KEY=VALUE", "'side'"]),
        (["square", "--option", "nope=1"], ["unknown option(s) ['nope']", "side"]),
        (["square", "--option", "side=abc"], ["option 'side' must be float"]),
        (["square", "--target-tol", "0"], ["--target-tol must be > 0"]),
        (["square", "--target-tol", "nan"], ["--target-tol must be > 0"]),
    ],
)
def test_curie_bad_input(sbbench, args, needles):
    code, out, err = sbbench("curie", *args)
    assert code == 2 and out == ""
    _one_line_error(err, *needles)


def test_curie_square(sbbench):
    code, out, err = sbbench("curie", "square")
    assert code == 0, err
    assert out.startswith("Curie check of square: 2 of 2 samples") and "D4h -> D2h" in out


# --------------------------------------------------------------------- reproduce


@pytest.fixture
def no_training(monkeypatch):
    import sbbench.training

    def boom(*args, **kwargs):
        raise AssertionError("bad input reached training")

    monkeypatch.setattr(sbbench.training, "run_experiment", boom)


@pytest.mark.parametrize(
    "args, needles",
    [
        (["nope"], ["unknown table 'nope'", "sann-table1"]),
        (["sann-table1", "--only", "nope@x/y"], ["no row 'nope@x/y' in sann-table1"]),
        (["sann-table1", "--summary", "--leaderboards", "{tmp}/none"], ["no such folder"]),
    ],
)
def test_reproduce_bad_input(sbbench, no_training, tmp_path, args, needles):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "out"
    code, stdout, err = sbbench("reproduce", *args, "--out", out, "--no-submit")
    assert code == 2 and stdout == ""
    _one_line_error(err, *needles)
    assert not out.exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--seeds", "0,x"], "seeds must be comma-separated integers"),
        (["--seeds", "1,1"], "given twice"),
        (["--folds", "0"], "--folds: must be >= 1"),  # was: exit 2 after making --out
        (["--epochs", "-3"], "--epochs: must be >= 1"),
    ],
)
def test_reproduce_bad_flags(no_training, tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        cli.main(["reproduce", "sann-table1", "--no-submit", "--out", str(out), *flags])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not out.exists()


# -------------------------------------------------------------------------- demo


@pytest.mark.parametrize("stretch", ["0", "-0.5", "1", "2", "nan", "inf"])
def test_demo_bad_stretch(sbbench, stretch):
    code, out, err = sbbench("demo", "--stretch", stretch)  # was: nan or flipped sides
    assert code == 2 and out == ""
    _one_line_error(err, "--stretch must be between 0 and 1")


def test_demo_scores(sbbench):
    code, out, _ = sbbench("demo", "--stretch", "0.25")
    assert code == 0
    rows = {ln[:22].strip(): ln[22:].split() for ln in out.splitlines()[2:5]}
    cd_y, sbcd_y = map(float, rows["rectangle along y"])
    assert sbcd_y == 0.0 and cd_y > 0  # the other valid outcome: only SBCD forgives it
    assert list(map(float, rows["rectangle along x"])) == [0.0, 0.0]
    assert not any(math.isnan(float(v)) for r in rows.values() for v in r)


# ------------------------------------------------------------------------- fetch

PAYLOAD = bytes(range(256)) * 64  # 16 KiB stands in for DupMols.dat


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /DupMols.dat. ``server.mode``: 'ignore-range' answers 200 with the
    whole file whatever the Range header; 'drop' sends half the bytes of the first response
    (Content-Length says all of them) and closes; later requests honour Range."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        if self.path != "/DupMols.dat":
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and srv.mode != "ignore-range":
            start = int(rng.removeprefix("bytes=").split("-")[0])
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.mode == "drop" and len(srv.requests) == 1:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setitem(OFFICIAL_MD5, "DupMols.dat", hashlib.md5(PAYLOAD).hexdigest())
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.requests, httpd.mode = [], "ok"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    httpd.url = f"http://{host}:{port}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _fetch(sbbench, server, dest):
    return sbbench(
        "fetch", "qm7x", "--dest", dest, "--files", "DupMols", "--url-base", server.url,
        "--no-progress",
    )  # fmt: skip


def test_fetch_from_a_server_that_ignores_range(sbbench, server, tmp_path):
    server.mode = "ignore-range"
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "DupMols.dat.part").write_bytes(PAYLOAD[:1000])  # an earlier partial download
    code, out, err = _fetch(sbbench, server, dest)
    assert code == 0, err
    assert server.requests == [("/DupMols.dat", "bytes=1000-")]
    assert (dest / "DupMols.dat").read_bytes() == PAYLOAD  # started over, not appended
    assert sorted(p.name for p in dest.iterdir()) == ["DupMols.dat"]
    assert out.strip() == str(dest / "DupMols.dat")


def test_fetch_when_the_server_drops_the_connection(sbbench, server, tmp_path):
    server.mode = "drop"
    dest = tmp_path / "dest"
    code, out, err = _fetch(sbbench, server, dest)
    assert code == 2 and out == ""
    _one_line_error(err, "DupMols.dat", "rerun")
    assert not (dest / "DupMols.dat").exists()  # nothing truncated under the final name
    code, out, err = _fetch(sbbench, server, dest)  # the rerun completes the file
    assert code == 0, err
    assert (dest / "DupMols.dat").read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.iterdir()) == ["DupMols.dat"]


def test_fetch_resumes_after_a_dropped_connection(sbbench, server, tmp_path):
    server.mode = "drop"
    dest = tmp_path / "dest"
    _fetch(sbbench, server, dest)
    assert (dest / "DupMols.dat.part").stat().st_size == len(PAYLOAD) // 2
    code, _, err = _fetch(sbbench, server, dest)
    assert code == 0, err
    assert server.requests[1] == ("/DupMols.dat", f"bytes={len(PAYLOAD) // 2}-")


@pytest.mark.parametrize(
    "args, needles",
    [
        (["qm9"], ["unknown dataset 'qm9' to fetch", "qm7x"]),
        (["qm7x", "--files", "9000"], ["unknown QM7-X file(s) ['9000']", "DupMols"]),
    ],
)
def test_fetch_bad_input(sbbench, tmp_path, args, needles):
    code, out, err = sbbench("fetch", *args, "--dest", tmp_path / "d", "--no-progress")
    assert code == 2 and out == ""
    _one_line_error(err, *needles)


def test_fetch_unreachable_server(sbbench, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = sbbench(
        "fetch", "qm7x", "--files", "DupMols", "--dest", tmp_path / "d",
        "--url-base", f"http://127.0.0.1:{port}", "--no-progress",
    )  # fmt: skip
    assert code == 2
    _one_line_error(err, "download of", "DupMols.dat failed")
