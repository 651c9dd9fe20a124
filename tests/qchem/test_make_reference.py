"""The reference generator (datasets/qm7x/make_reference.py): molecule set, restarts, layout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import h5py
import numpy as np
import pytest

pytest.importorskip("pyscf")
from ase.build import molecule  # noqa: E402

from sbbench.datasets.qm7x import iter_conformers  # noqa: E402
from sbbench.symmetry import detect  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "datasets" / "qm7x" / "make_reference.py"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("make_reference", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_molecule_set(gen):
    mols = dict(gen.molecule_list())
    assert len(mols) >= 40
    for name, atoms in mols.items():
        assert set(atoms.get_chemical_symbols()) <= {"H", "C", "N", "O"}, name
        assert 1 <= (atoms.numbers > 1).sum() <= 5, name
        assert atoms.numbers.sum() % 2 == 0, name
    named = ["CH4", "NH3", "H2O", "C2H6", "C2H4", "C2H2", "H2CO", "CH3OCH3", "CH3COCH3"]
    assert set(named + ["C3H8", "isobutane", "neopentane"]) <= set(mols)
    neo = mols["neopentane"]
    assert detect(neo.positions, neo.numbers, tol=1e-3).schoenflies == "Td"


def test_displacements_are_seeded_small_and_keep_the_centre_of_mass(gen):
    atoms = molecule("CH3OCH3")
    a = gen.displaced(atoms, 3, 5, seed=0)
    np.testing.assert_array_equal(a, gen.displaced(atoms, 3, 5, seed=0))
    assert not np.allclose(a, gen.displaced(atoms, 3, 5, seed=1))
    np.testing.assert_array_equal(gen.displaced(atoms, 3, 0, seed=0), atoms.positions)
    d = a - atoms.positions
    assert np.sqrt((d**2).sum(1).mean()) == pytest.approx(gen.AMPLITUDES[4])
    np.testing.assert_allclose(atoms.get_masses() @ d, 0.0, atol=1e-10)


def test_run_is_restartable_and_assembles_official_layout(gen, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gen, "molecule_list", lambda: [("H2O", molecule("H2O"))])
    work, out = tmp_path / "work", tmp_path / "ref.hdf5"
    assert gen.main(["run", "--n-conf", "2", "--work", str(work)]) == 0
    assert sorted(p.name for p in work.glob("*.npz")) == ["m001_c000.npz", "m001_c001.npz"]
    assert gen.main(["run", "--n-conf", "2", "--work", str(work)]) == 0
    assert "finished: 0 new conformers" in capsys.readouterr().out
    # other settings in the same work folder are refused, not mixed
    assert gen.main(["run", "--basis", "sto-3g", "--work", str(work)]) == 2
    assert gen.main(["assemble", "--work", str(work), "--out", str(out), "--no-card"]) == 0
    with h5py.File(out, "r") as f:
        assert list(f) == ["1"]
        assert sorted(f["1"]) == ["Geom-m1-i1-c1-1", "Geom-m1-i1-c1-opt"]
        conf = f["1"]["Geom-m1-i1-c1-opt"]
        assert {"atNUM", "atXYZ", "hVDIP", "hCHG", "vDIP", "ePBE0"} <= set(conf)
        assert conf["ePBE0"].shape == (1,) and conf["vDIP"].shape == (3,)
        assert -2100 < conf["ePBE0"][0] < -2000  # water PBE0 energy, eV (about -76.3 Eh)
        assert "NOT the official" in f.attrs["title"] and f.attrs["basis"] == "def2-SVP"
    digest = (tmp_path / "ref.sha256").read_text().split()
    assert digest[1] == "ref.hdf5" and len(digest[0]) == 64
    # the package reader accepts the generated file; hVDIP round-trips from the work files
    confs = {c.idconf: c for c in iter_conformers(out)}
    saved = np.load(work / "m001_c001.npz")
    np.testing.assert_array_equal(confs["Geom-m1-i1-c1-1"].hvdip, saved["hVDIP"])
