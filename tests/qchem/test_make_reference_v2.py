"""Reference set v2: the molecule enumeration and the generator (restarts, orientation, layout)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import h5py
import numpy as np
import pytest

pytest.importorskip("pyscf")
pytest.importorskip("rdkit")
pytest.importorskip("tblite")

from sbbench.datasets.qm7x import iter_conformers  # noqa: E402

HERE = Path(__file__).resolve().parents[2] / "datasets" / "qm7x"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def enum():
    return _load("enumerate_molecules")


@pytest.fixture(scope="module")
def gen():
    return _load("make_reference_v2")


@pytest.mark.parametrize(
    ("smiles", "ok"),
    [
        ("CCO", True),  # ethanol
        ("c1ccoc1", True),  # furan
        ("c1cn[nH]c1", True),  # pyrazole: N-N inside an aromatic ring
        ("CC(=O)N", True),  # acetamide
        ("ClCCl", True),
        ("CSC", True),
        ("OO", False),  # peroxide
        ("NN", False),  # hydrazine
        ("COCOC", False),  # acetal
        ("C=CO", False),  # enol
        ("C=CN", False),  # enamine
        ("C=C=C", False),  # allene
        ("CC(Cl)=O", False),  # acyl chloride
        ("CC=S", False),  # thiocarbonyl
        ("C#CO", False),  # ynol
        ("C1=CC1", False),  # sp2 in a three-membered ring
    ],
)
def test_rules(enum, smiles, ok):
    from rdkit import Chem

    assert enum.passes_rules(Chem.MolToSmiles(Chem.MolFromSmiles(smiles))) is ok


def test_shipped_list_is_the_enumeration(enum, gen):
    smiles = gen.read_molecules()
    assert smiles == [r["smiles"] for r in enum.enumerate_molecules(5)]
    assert len(smiles) == len(set(smiles)) >= 300
    from rdkit import Chem

    elements, n_sx = set(), 0
    for s in smiles:
        m = Chem.AddHs(Chem.MolFromSmiles(s))
        el = {a.GetSymbol() for a in m.GetAtoms()}
        elements |= el
        n_sx += bool(el & {"S", "Cl"})
        assert 1 <= m.GetNumHeavyAtoms() <= 5
    assert elements == {"H", "C", "N", "O", "S", "Cl"} and n_sx >= 20


def test_pipeline_is_restartable_rotated_and_reproducible(gen, tmp_path):
    from pyscf import dft, gto

    mols = tmp_path / "mols.csv"
    mols.write_text("smiles\nO\nCl\nCC\n")
    work, out = tmp_path / "work", tmp_path / "ref.hdf5"
    common = ["--work", str(work)]
    assert gen.main(["modes", "--molecules", str(mols), "--n-embed", "2", *common]) == 0
    groups = {str(np.load(f)["smiles"]): str(np.load(f)["point_group"]) for f in
              sorted((work / "modes").glob("*.npz"))}  # fmt: skip
    assert groups == {"O": "C2v", "Cl": "C*v", "CC": "D3d"}
    assert gen.main(["run", "--n-conf", "2", *common]) == 0
    files = sorted((work / "conf").glob("*.npz"))
    assert [f.name for f in files] == [f"m{i:04d}_c{k:03d}.npz" for i in (1, 2, 3) for k in (0, 1)]
    stamps = [f.stat().st_mtime_ns for f in files]
    assert gen.main(["run", "--n-conf", "2", *common]) == 0  # a restart computes nothing
    assert [f.stat().st_mtime_ns for f in files] == stamps
    with pytest.raises(SystemExit, match="other settings"):
        gen.main(["run", "--n-conf", "2", "--temperature", "300", *common])
    card = tmp_path / "README.md"
    card_markers = _load("make_reference").card_markers
    card.write_text("# card\n" + "\n".join(card_markers("numbers-v2", "make_reference_v2.py")))
    assemble = ["assemble", "--min-conf", "2", "--out", str(out), "--card", str(card)]
    assert gen.main([*assemble, *common]) == 0
    numbers = card.read_text()
    assert "File: `ref.hdf5`" in numbers and "**3** molecules, **6** conformers" in numbers
    assert "elements H, C, O;" in numbers  # curation keeps water and ethane, not HCl

    # each conformer sits in its own random orientation, recorded as sbROT
    rots = []
    for c in iter_conformers(out, extra_keys=("sbROT",)):
        rot = c.extra["sbROT"]
        np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(rot) == pytest.approx(1.0)
        rots.append(rot)
    assert len(rots) == 6 and min(np.abs(a - b).max() for a in rots for b in rots
                                   if a is not b) > 1e-3  # fmt: skip

    # an independent PySCF PBE0 single point on the unrotated structure reproduces the
    # stored energy, and the stored dipoles are R times the unrotated ones
    pos, rot = gen.conformer_positions(work / "modes" / "m0001.npz", 1, 0, 1500.0)
    saved = np.load(work / "conf" / "m0001_c001.npz")
    np.testing.assert_allclose(saved["positions"], pos @ rot.T, atol=1e-12)
    mol = gto.M(atom=[(8, pos[0]), (1, pos[1]), (1, pos[2])], basis="def2-SVP", verbose=0)
    mf = dft.RKS(mol).density_fit()
    mf.xc, mf.grids.level, mf.conv_tol = "PBE0", 2, 1e-10
    energy = mf.kernel()
    assert float(saved["energy_hartree"]) == pytest.approx(energy, abs=1e-6)
    dip = mf.dip_moment(unit="au", verbose=0)
    np.testing.assert_allclose(saved["dipole_au"], dip @ rot.T, atol=1e-4)
    with h5py.File(out, "r") as f:
        assert "NOT the official" in f.attrs["title"] and f.attrs["reference_version"] == "2"
        assert set(f) == {"1", "2", "3"}
