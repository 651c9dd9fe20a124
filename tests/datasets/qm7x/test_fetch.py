"""End-to-end tests of `sbbench fetch qm7x` against a local HTTP server (127.0.0.1)."""

from __future__ import annotations

import hashlib
import lzma

import h5py
import numpy as np
import pytest

from sbbench.cli import main
from sbbench.datasets.qm7x import OFFICIAL_MD5, fetch, iter_conformers
from sbbench.datasets.qm7x._fetch import parse_file_list

from ._fixtures import LocalServer, write_fixture_files


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def served(tmp_path):
    """Fixture archives (1000.xz, 2000.xz, DupMols.dat) and their MD5 table."""
    raw = write_fixture_files(tmp_path / "raw")
    www = tmp_path / "www"
    www.mkdir()
    table = {}
    for short in ("1000", "2000"):
        blob = lzma.compress(raw[short].read_bytes())
        (www / f"{short}.xz").write_bytes(blob)
        table[f"{short}.xz"] = _md5(blob)
    dup = raw["DupMols"].read_bytes()
    (www / "DupMols.dat").write_bytes(dup)
    table["DupMols.dat"] = _md5(dup)
    return raw, www, table


def _valid_looking(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_cli_fetch_decompresses_and_verifies(served, tmp_path, monkeypatch, capsys):
    raw, www, table = served
    for name, digest in table.items():  # inject the fixtures' checksums
        monkeypatch.setitem(OFFICIAL_MD5, name, digest)
    dest = tmp_path / "dest"
    with LocalServer(www) as url:
        argv = ["fetch", "qm7x", "--dest", str(dest), "--files", "1000,2000,DupMols"]
        code = main([*argv, "--url-base", url, "--no-progress"])
    assert code == 0
    assert _valid_looking(dest) == ["1000.hdf5", "2000.hdf5", "DupMols.dat"]
    assert (dest / "1000.hdf5").read_bytes() == raw["1000"].read_bytes()
    assert (dest / "DupMols.dat").read_text() == raw["DupMols"].read_text()
    confs = list(iter_conformers(dest / "2000.hdf5"))
    assert [c.idmol for c in confs] == ["1001", "1002"]
    assert str(dest / "1000.hdf5") in capsys.readouterr().out


def test_resumes_partial_download_with_range(served, tmp_path):
    raw, www, table = served
    dest = tmp_path / "dest"
    dest.mkdir()
    blob = (www / "1000.xz").read_bytes()
    half = len(blob) // 2
    (dest / "1000.xz.part").write_bytes(blob[:half])
    server = LocalServer(www)
    with server as url:
        fetch(dest, "1000", url_base=url, md5=table, progress=False)
    assert server.requests == [("/1000.xz", f"bytes={half}-")]
    assert (dest / "1000.hdf5").read_bytes() == raw["1000"].read_bytes()
    assert _valid_looking(dest) == ["1000.hdf5"]


def test_existing_file_is_not_downloaded_again(served, tmp_path):
    _, www, table = served
    dest = tmp_path / "dest"
    server = LocalServer(www)
    with server as url:
        fetch(dest, "1000", url_base=url, md5=table, progress=False)
        fetch(dest, "1000", url_base=url, md5=table, progress=False)
    assert len(server.requests) == 1


def test_checksum_mismatch_leaves_nothing_valid(served, tmp_path):
    _, www, table = served
    dest = tmp_path / "dest"
    bad = dict(table, **{"1000.xz": "0" * 32})
    with LocalServer(www) as url, pytest.raises(ValueError, match="checksum mismatch for 1000.xz"):
        fetch(dest, "1000", url_base=url, md5=bad, progress=False)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_bad_archive_leaves_nothing_valid(served, tmp_path, damage):
    _, www, table = served
    blob = bytearray((www / "1000.xz").read_bytes())
    if damage == "truncated":
        blob = blob[: len(blob) * 2 // 3]
    else:
        mid = len(blob) // 2
        blob[mid : mid + 64] = bytes(64)
    (www / "1000.xz").write_bytes(bytes(blob))
    # the MD5 matches the damaged bytes, so only decompression can catch it
    md5 = dict(table, **{"1000.xz": _md5(bytes(blob))})
    dest = tmp_path / "dest"
    with LocalServer(www) as url, pytest.raises(ValueError, match="1000.xz"):
        fetch(dest, "1000", url_base=url, md5=md5, progress=False)
    assert list(dest.iterdir()) == []


def test_http_error_is_one_clear_line(served, tmp_path):
    _, www, table = served
    (www / "2000.xz").unlink()
    with LocalServer(www) as url, pytest.raises(ValueError, match="HTTP 404"):
        fetch(tmp_path / "d", "2000", url_base=url, md5=table, progress=False)


def test_cli_rejects_bad_names(capsys):
    assert main(["fetch", "qm7x", "--files", "1000,9000", "--dest", "/nonexistent"]) == 2
    assert "9000" in capsys.readouterr().err
    assert main(["fetch", "qm9"]) == 2


def test_file_list_and_published_table():
    assert parse_file_list("1000, 8000.xz") == ["1000", "8000"]
    assert parse_file_list(None)[-1] == "DupMols"
    assert len(OFFICIAL_MD5) == 9 and all(len(v) == 32 for v in OFFICIAL_MD5.values())
    assert OFFICIAL_MD5["1000.xz"] == "b50c6a5d0a4493c274368cf22285503e"


def test_fixture_roundtrip_keeps_scalars_as_arrays(tmp_path):
    raw = write_fixture_files(tmp_path)
    with h5py.File(raw["1000"], "r") as f:
        conf = f["1"]["Geom-m1-i1-c1-opt"]
        assert conf["vDIP"].shape == (3,)
        np.testing.assert_array_equal(conf["atNUM"][()], [8, 1, 1])
