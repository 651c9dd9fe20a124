"""The shipped reference set is found from a source checkout and from an installed wheel."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import pytest

from sbbench._paths import repo_root, shipped_file

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["reference.hdf5", "reference_v2.hdf5"])
def test_found_in_source_checkout_and_matches_sha256(name):
    path = shipped_file("qm7x", name)
    assert repo_root() == ROOT
    assert path == ROOT / "datasets" / "qm7x" / name
    sha = path.with_suffix(".sha256").read_text().split()
    assert sha[1] == name and hashlib.sha256(path.read_bytes()).hexdigest() == sha[0]
    with h5py.File(path, "r") as f:
        assert "NOT the official" in f.attrs["title"]
        assert f.attrs["basis"] and f.attrs["pyscf_version"]


@pytest.mark.slow  # builds a wheel with pip (~12 s single-threaded)
def test_found_from_an_installed_wheel(tmp_path):
    """Build a wheel, check it carries the file, and locate it from the unpacked wheel."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("sbbench-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        for name in ("reference", "reference_v2"):
            assert f"sbbench/_shipped/qm7x/{name}.hdf5" in names
            assert f"sbbench/_shipped/qm7x/{name}.sha256" in names
        assert "sbbench/_baselines/relaxed_e3nn/qm7x.yaml" in names
        assert not any("/work" in n for n in names)  # generator work folders are not shipped
        site = tmp_path / "site"
        z.extractall(site)
    code = (
        "from sbbench._paths import repo_root, shipped_file; "
        "from sbbench.training._config import baseline_file; "
        "assert repo_root() is None; assert baseline_file('relaxed_e3nn', 'qm7x').is_file(); "
        "print(shipped_file('qm7x', 'reference_v2.hdf5'))"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    found = Path(out.stdout.strip())
    assert found == site / "sbbench" / "_shipped" / "qm7x" / "reference_v2.hdf5"
    assert found.read_bytes() == shipped_file("qm7x", "reference_v2.hdf5").read_bytes()
