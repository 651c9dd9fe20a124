"""The registered ``qm7x`` dataset: sources, Data contract, physics of the targets, errors."""

from __future__ import annotations

import logging
import re

import h5py
import numpy as np
import pytest
import torch

import sbbench.datasets as sd
from sbbench.datasets.qm7x import curate, resolve_source, write_qm7x_file

from ._fixtures import card_block, write_fixture_files


@pytest.fixture(scope="module")
def official_dir(tmp_path_factory):
    """A data folder holding a curated file made from the fixtures (kept: m2, m1001)."""
    folder = tmp_path_factory.mktemp("qm7x_data")
    raw = write_fixture_files(folder)
    curate(
        [raw["1000"], raw["2000"]],
        folder / "curated.hdf5",
        dupmols=raw["DupMols"],
        progress=False,
    )
    return folder


def test_official_source_samples_follow_the_contract(official_dir, sb_root):
    ds = sd.load(
        "qm7x", root=sb_root, source="official", data_dir=str(official_dir), orientation="file"
    )
    assert len(ds) == 3
    assert sorted({int(d.mol_id) for d in ds}) == [2, 1001]
    with h5py.File(official_dir / "curated.hdf5", "r") as f:
        want = {(m, c): f[m][c]["hVDIP"][()] for m in f for c in f[m]}
    for d in ds:
        sd.check_sample(d)
        assert d.y.shape == (d.z.shape[0], 3)
        assert any(v.shape == d.y.shape and np.allclose(d.y, v, atol=1e-6) for v in want.values())
        # sym_ops is Sym(input) at 0.2 Å: every op maps the structure onto itself
        pos = d.pos.double() - d.pos.double().mean(0)
        for rot in d.sym_ops.double():
            moved = pos @ rot.T
            dist = torch.cdist(moved, pos).min(dim=1).values
            assert dist.max() < 0.2
    water = [d for d in ds if int(d.mol_id) == 2]
    assert [int(d.num_ops) for d in water] == [4, 4]  # C2v structure, broken field in one


def test_auto_prefers_official_and_logs(official_dir, sb_root, caplog):
    with caplog.at_level(logging.INFO, logger="sbbench.datasets.qm7x"):
        ds = sd.load("qm7x", root=sb_root, data_dir=str(official_dir))
    assert ds.options["source"] == "official"
    assert "official" in caplog.text


def test_auto_falls_back_to_reference(tmp_path):
    source, path = resolve_source("auto", str(tmp_path))
    assert source == "reference"
    assert path.name == "reference_v2.hdf5" and path.is_file()  # the served version
    assert resolve_source("auto", str(tmp_path), reference_version=1)[1].name == "reference.hdf5"


def test_official_missing_names_the_commands(tmp_path, sb_root):
    with pytest.raises(FileNotFoundError, match="sbbench fetch qm7x"):
        sd.load("qm7x", root=sb_root, source="official", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="source"):
        sd.load("qm7x", root=sb_root, source="zenodo")
    with pytest.raises(ValueError, match=r"option reference_version=5 must be one of \[1, 2\]"):
        sd.load("qm7x", root=sb_root, source="reference", reference_version=5)


def _card_counts() -> tuple[int, int, int]:
    """(breaking conformers, molecules, conformers) the data card states for the
    served reference set (v2)."""
    m = re.search(
        r"\*\*(\d+)\*\* symmetry-breaking conformers; kept \*\*(\d+)\*\* molecules / "
        r"\*\*(\d+)\*\* conformers",
        card_block(2),
    )
    assert m, "datasets/qm7x/README.md no longer states the reference set's counts"
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _field_deviation(d) -> np.ndarray:
    """max_i |R_g y_i - y_perm_g(i)| per operation g of the sample's Sym(x), own code."""
    ops = d.sym_ops.double().numpy()
    perms = d.sym_perms.numpy().reshape(len(ops), -1)
    y = d.y.double().numpy()
    return np.array(
        [np.linalg.norm(y @ rot.T - y[perm], axis=1).max() for rot, perm in zip(ops, perms)]
    )


@pytest.mark.slow  # ~9 s single-threaded: processes the 742 reference conformers
def test_shipped_reference_loads_and_is_symmetry_breaking(sb_root):
    """The served set is the card's, and its symmetry breaking is real: on every conformer
    the package calls breaking (stabilizer of hVDIP at dipole_tol smaller than Sym(x)),
    some operation g of Sym(x), with its atom permutation, moves the dipole field by more
    than dipole_tol (checked here with the sample's own sym_ops/sym_perms); on the others
    every g keeps it; every kept molecule has such a conformer (the curation rule)."""
    from sbbench.symmetry import detect

    ds = sd.load("qm7x", root=sb_root, source="reference")
    assert ds.options["source"] == "reference"
    n_broken, n_mols, n_confs = _card_counts()
    mols = {int(d.mol_id) for d in ds}
    assert len(ds) == n_confs and len(mols) == n_mols
    tol = ds.options["dipole_tol"]
    broken_per_mol = dict.fromkeys(mols, 0)
    for d in ds:
        pos, z, y = d.pos.double().numpy(), d.z.numpy(), d.y.double().numpy()
        pg = detect(pos, z, tol=ds.tol)
        broken = pg.stabilizer(y, tol=tol).order < pg.order
        broken_per_mol[int(d.mol_id)] += broken
        dev = _field_deviation(d)
        assert dev[0] < 1e-12  # the identity comes first
        if broken:
            assert dev.max() > tol, (int(d.idx), pg.schoenflies, dev.max())
        elif "*" not in pg.schoenflies:
            # (a linear molecule's field is judged in the continuous group C*v/D*h, not in
            # the finite subgroup sym_ops holds: three of them differ here by < 20 %)
            assert dev.max() <= tol, (int(d.idx), pg.schoenflies, dev.max())
        # Hirshfeld dipoles are O(0.01-1) e·bohr
        assert 1e-3 < float(d.y.norm(dim=1).max()) < 2.0
    assert sum(broken_per_mol.values()) == n_broken
    assert min(broken_per_mol.values()) >= 1
    for d in ds[:50]:
        sd.check_sample(d)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "molecule '7', conformer 'Geom-m7-i1-c1-opt', key 'hVDIP': missing"),
        ("shape", "key 'hVDIP': expected shape \\(3, 3\\)"),
        ("nan", "key 'atXYZ': non-finite"),
    ],
)
def test_malformed_file_names_file_molecule_and_key(tmp_path, sb_root, damage, message):
    conf = {
        "atNUM": np.array([8, 1, 1]),
        "atXYZ": np.array([[0, 0, 0.12], [0, 0.76, -0.48], [0, -0.76, -0.48]]),
        "hVDIP": np.zeros((3, 3)),
    }
    if damage == "missing":
        del conf["hVDIP"]
    elif damage == "shape":
        conf["hVDIP"] = np.zeros((2, 3))
    else:
        conf["atXYZ"] = np.full((3, 3), np.nan)
    write_qm7x_file(tmp_path / "curated.hdf5", {"7": {"Geom-m7-i1-c1-opt": conf}})
    with pytest.raises(ValueError, match=message) as info:
        sd.load("qm7x", root=sb_root, source="official", data_dir=str(tmp_path))
    assert "curated.hdf5" in str(info.value)
