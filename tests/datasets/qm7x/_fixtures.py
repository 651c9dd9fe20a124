"""Small QM7-X-layout fixtures with known symmetry breaking, a Range-capable HTTP server,
and the data card's generated numbers blocks."""

from __future__ import annotations

import http.server
import re
import threading
from pathlib import Path

import numpy as np

from sbbench.datasets.qm7x import conformer_name, write_qm7x_file

CARD = Path(__file__).resolve().parents[3] / "datasets" / "qm7x" / "README.md"
#: the generated numbers block of each reference-set version (make_reference*.py assemble)
BLOCKS = {1: "numbers", 2: "numbers-v2"}


def card_block(version: int) -> str:
    """The numbers block the card carries for a reference-set version."""
    tag = BLOCKS[version]
    m = re.search(rf"<!-- {tag}:begin .*?-->(.*?)<!-- {tag}:end -->", CARD.read_text(), re.S)
    assert m, f"numbers block {tag!r} missing: run its make_reference script's assemble"
    return m.group(1)


WATER_Z = np.array([8, 1, 1])
WATER_XYZ = np.array([[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]])
# C2v-symmetric Hirshfeld-like dipoles (e·bohr): O along the axis, H mirror images
WATER_DIP = np.array([[0.0, 0.0, -0.175], [0.0, 0.162, -0.133], [0.0, -0.162, -0.133]])
NH3_Z = np.array([7, 1, 1, 1])
_ang = np.deg2rad([90.0, 210.0, 330.0])
NH3_XYZ = np.r_[
    [[0.0, 0.0, 0.0]], np.c_[0.94 * np.cos(_ang), 0.94 * np.sin(_ang), -0.38 * np.ones(3)]
]
NH3_DIP = np.r_[
    [[0.0, 0.0, -0.25]], np.c_[0.16 * np.cos(_ang), 0.16 * np.sin(_ang), -0.07 * np.ones(3)]
]
BREAK = np.array([[0.0, 0.0, 0.0], [0.0, 0.05, 0.0], [0.0, 0.0, 0.0]])


def _conf(z, xyz, dip):
    return {"atNUM": z, "atXYZ": xyz, "hVDIP": dip, "hCHG": np.zeros(len(z)), "vDIP": np.zeros(3)}


def file_1000() -> dict:
    """Molecules of the fixture '1000.hdf5' and what curation must do with them.

    m1: water, two symmetric conformers            -> dropped (no breaking)
    m2: water, one symmetric + one broken field    -> kept with both conformers
    m3: 6 heavy atoms, broken                      -> dropped by --max-heavy 5
    m4: water, broken, but listed in DupMols.dat   -> dropped as duplicate
    """
    ring = np.c_[np.cos(np.arange(6) * np.pi / 3), np.sin(np.arange(6) * np.pi / 3), np.zeros(6)]
    ring_dip = np.zeros((6, 3))
    ring_dip[0, 2] = 0.1
    return {
        "1": {
            conformer_name(1): _conf(WATER_Z, WATER_XYZ, WATER_DIP),
            conformer_name(1, step=1): _conf(WATER_Z, WATER_XYZ + 0.01, WATER_DIP),
        },
        "2": {
            conformer_name(2): _conf(WATER_Z, WATER_XYZ, WATER_DIP),
            conformer_name(2, step=1): _conf(WATER_Z, WATER_XYZ, WATER_DIP + BREAK),
        },
        "3": {conformer_name(3): _conf(np.full(6, 6), 1.4 * ring, ring_dip)},
        "4": {
            conformer_name(4): _conf(WATER_Z, WATER_XYZ, WATER_DIP),
            conformer_name(4, step=3): _conf(WATER_Z, WATER_XYZ, WATER_DIP + BREAK),
        },
    }


def file_2000() -> dict:
    """m1001: ammonia with a broken dipole field (kept); m1002: symmetric (dropped)."""
    broken = NH3_DIP.copy()
    broken[1] += [0.03, 0.0, 0.0]
    return {
        "1001": {conformer_name(1001): _conf(NH3_Z, NH3_XYZ, broken)},
        "1002": {conformer_name(1002): _conf(NH3_Z, NH3_XYZ, NH3_DIP)},
    }


DUPMOLS = "Geom-m4-i1-c1-opt\n"


def write_fixture_files(folder: Path) -> dict[str, Path]:
    """Write 1000.hdf5, 2000.hdf5 and DupMols.dat into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "1000": write_qm7x_file(folder / "1000.hdf5", file_1000()),
        "2000": write_qm7x_file(folder / "2000.hdf5", file_2000()),
    }
    (folder / "DupMols.dat").write_text(DUPMOLS)
    out["DupMols"] = folder / "DupMols.dat"
    return out


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serve files of ``server.root`` with ``Range: bytes=N-`` support; log requests."""

    def do_GET(self):  # noqa: N802 (http.server API)
        path = Path(self.server.root) / self.path.lstrip("/")
        self.server.requests.append((self.path, self.headers.get("Range")))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output quiet
        pass


class LocalServer:
    """``with LocalServer(root) as url:`` serves ``root`` on 127.0.0.1 in a thread."""

    def __init__(self, root: Path):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
        self.httpd.root = str(root)
        self.httpd.requests = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list:
        return self.httpd.requests

    def __enter__(self) -> str:
        self.thread.start()
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
