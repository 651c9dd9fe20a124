"""SANN App. C.2 curation on fixtures with known symmetry breaking, via the API and the CLI."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sbbench.cli import main
from sbbench.datasets.qm7x import conformer_breaks_symmetry, curate, read_dupmols

from ._fixtures import NH3_DIP, NH3_XYZ, NH3_Z, WATER_DIP, WATER_XYZ, WATER_Z, write_fixture_files


@pytest.fixture
def raw(tmp_path):
    return write_fixture_files(tmp_path / "qm7x")


def test_breaking_criterion_on_known_fields():
    broken, grp, order, sgrp, sorder = conformer_breaks_symmetry(WATER_XYZ, WATER_Z, WATER_DIP)
    assert (broken, grp, order, sgrp, sorder) == (False, "C2v", 4, "C2v", 4)
    dip = WATER_DIP.copy()
    dip[1, 1] += 0.05  # in-plane change of one H dipole: only the molecular plane survives
    broken, grp, _, sgrp, sorder = conformer_breaks_symmetry(WATER_XYZ, WATER_Z, dip)
    assert (broken, grp, sgrp, sorder) == (True, "C2v", "Cs", 2)
    dip[1, 0] += 0.05  # and out of the plane: nothing survives
    assert conformer_breaks_symmetry(WATER_XYZ, WATER_Z, dip)[3:] == ("C1", 1)
    assert conformer_breaks_symmetry(NH3_XYZ, NH3_Z, NH3_DIP)[:2] == (False, "C3v")


def test_criterion_is_rotation_invariant():
    rot = Rotation.random(random_state=11).as_matrix()
    dip = WATER_DIP.copy()
    dip[1, 0] += 0.05
    a = conformer_breaks_symmetry(WATER_XYZ, WATER_Z, dip)
    b = conformer_breaks_symmetry(WATER_XYZ @ rot.T + 3.0, WATER_Z, dip @ rot.T)
    assert a == b


def test_small_noise_below_dipole_tol_is_not_breaking():
    dip = WATER_DIP + np.random.default_rng(0).normal(scale=1e-4, size=WATER_DIP.shape)
    assert not conformer_breaks_symmetry(WATER_XYZ, WATER_Z, dip)[0]
    assert conformer_breaks_symmetry(WATER_XYZ, WATER_Z, dip, dipole_tol=1e-6)[0]


def test_curate_keeps_broken_molecules_with_all_conformers(raw, tmp_path):
    out = tmp_path / "curated.hdf5"
    res = curate(
        [raw["1000"], raw["2000"]], out, max_heavy=5, dupmols=raw["DupMols"], progress=False
    )
    assert (res.molecules_scanned, res.conformers_scanned) == (5, 8)
    assert (res.molecules_kept, res.conformers_kept, res.conformers_broken) == (2, 3, 2)
    assert res.duplicates_dropped == 2
    with h5py.File(out, "r") as f:
        assert sorted(f) == ["1001", "2"]
        assert sorted(f["2"]) == ["Geom-m2-i1-c1-1", "Geom-m2-i1-c1-opt"]
        assert f["2"]["Geom-m2-i1-c1-opt"].attrs["broken"] == np.False_
        assert f["2"]["Geom-m2-i1-c1-1"].attrs["stabilizer"] == "Cs"
        assert f["1001"]["Geom-m1001-i1-c1-opt"].attrs["group"] == "C3v"
        assert json.loads(f.attrs["counts"])["molecules_kept"] == 2
        assert f.attrs["tol_angstrom"] == 0.2
    assert "SANN paper reports 225 molecules" in res.summary()


def test_max_heavy_and_dupmols_change_the_selection(raw, tmp_path):
    res = curate([raw["1000"]], tmp_path / "a.hdf5", max_heavy=6, progress=False)
    assert res.molecules_kept == 3  # m2, m3 (6 heavy atoms) and m4 (no DupMols given)


def test_dupmols_parsing(tmp_path):
    p = tmp_path / "DupMols.dat"
    p.write_text("Geom-m4-i1-c1-opt\n\n  Geom-m9-i2-c3-opt \n")
    assert read_dupmols(p) == {"Geom-m4-i1-c1-opt", "Geom-m9-i2-c3-opt"}
    p.write_text("Geom-m4-i1-c1-opt\nnot-an-id\n")
    with pytest.raises(ValueError, match="line 2"):
        read_dupmols(p)


def test_cli_curate_prints_counts_and_paper_comparison(raw, capsys):
    src = raw["1000"].parent
    code = main(["qm7x", "curate", "--src", str(src), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert "kept 2 molecules / 3 conformers" in out
    assert "225" in out
    assert (src / "curated.hdf5").is_file()


def test_cli_curate_errors(tmp_path, capsys):
    assert main(["qm7x", "curate", "--src", str(tmp_path / "missing")]) == 2
    assert "sbbench fetch qm7x" in capsys.readouterr().err
    (tmp_path / "1000.hdf5").write_bytes(b"not hdf5")
    (tmp_path / "DupMols.dat").write_text("")
    assert main(["qm7x", "curate", "--src", str(tmp_path), "--no-progress"]) == 2
    assert "1000.hdf5" in capsys.readouterr().err
