"""qm7x dataset version 3: seeded random orientation per conformer, and the symmetrised control."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sbbench.datasets as sd
from sbbench.datasets.qm7x import conformer_rotation, curate
from sbbench.symmetry import detect

from ._fixtures import write_fixture_files


@pytest.fixture(scope="module")
def official_dir(tmp_path_factory):
    """Curated fixtures: water m2 (one symmetric, one broken field) and ammonia m1001."""
    folder = tmp_path_factory.mktemp("qm7x_orient")
    raw = write_fixture_files(folder)
    curate(
        [raw["1000"], raw["2000"]], folder / "curated.hdf5", dupmols=raw["DupMols"], progress=False
    )
    return folder


def _load(folder, root, **opts):
    return sd.load("qm7x", root=root, source="official", data_dir=str(folder), **opts)


def test_conformer_rotation_is_a_seeded_proper_rotation():
    r = conformer_rotation("2", "Geom-m2-i1-c1-opt")
    assert np.allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    assert np.array_equal(r, conformer_rotation("2", "Geom-m2-i1-c1-opt"))
    others = [
        conformer_rotation("2", "Geom-m2-i1-c1-d1"),
        conformer_rotation("3", "Geom-m2-i1-c1-opt"),
    ]
    assert all(np.abs(r - o).max() > 0.1 for o in others)


def test_random_orientation_turns_each_conformer_by_its_recorded_rotation(official_dir, sb_root):
    turned = _load(official_dir, sb_root)
    plain = _load(official_dir, sb_root, orientation="file")
    assert turned.options["orientation"] == "random"  # the default since dataset version 3
    assert len(turned) == len(plain) == 3
    rotations = []
    for a, b in zip(plain, turned, strict=True):
        rot = b.rotation[0].double()
        assert rot.shape == (3, 3)
        assert torch.allclose(rot @ rot.T, torch.eye(3, dtype=torch.float64), atol=1e-6)
        assert torch.allclose(a.pos.double() @ rot.T, b.pos.double(), atol=1e-5)
        assert torch.allclose(a.y.double() @ rot.T, b.y.double(), atol=1e-5)
        assert "rotation" not in a  # the file's frame: the data as stored
        # the group is a property of the structure: same order, operations conjugated by R
        assert int(a.num_ops) == int(b.num_ops)
        for op in b.sym_ops.double():
            back = rot.T @ op @ rot
            assert min((back - g).abs().max() for g in a.sym_ops.double()) < 1e-4
        rotations.append(rot)
    # the frame is not shared: a +MLP head cannot read symmetry axes off the lab frame
    assert (rotations[0] - rotations[1]).abs().max() > 0.1
    # and the batch keeps one (3, 3) rotation per conformer
    batch = next(iter(torch.utils.data.DataLoader(turned, batch_size=3, collate_fn=_collate)))
    assert batch.rotation.shape == (3, 3, 3)


def _collate(samples):
    from torch_geometric.data import Batch

    return Batch.from_data_list(samples)


def test_symmetrize_projects_inputs_onto_their_group_and_keeps_targets(official_dir, sb_root):
    raw = _load(official_dir, sb_root, orientation="random")
    sym = _load(official_dir, sb_root, orientation="random", symmetrize=True)
    for a, b in zip(raw, sym, strict=True):
        assert torch.equal(a.y, b.y) and torch.equal(a.rotation, b.rotation)
        assert int(b.num_ops) >= int(a.num_ops)
        # exactly invariant now: every operation maps the atoms onto same-element atoms
        pos = b.pos.double() - b.pos.double().mean(0)
        for op in b.sym_ops.double():
            dist, nearest = torch.cdist(pos @ op.T, pos).min(dim=1)
            assert dist.max() < 1e-5 and torch.equal(b.z[nearest], b.z)
        moved = (a.pos.double() - b.pos.double()).pow(2).sum(1).mean().sqrt()
        assert float(b.sym_rmsd) == pytest.approx(float(moved), abs=1e-5)
    assert detect(sym[0].pos.double().numpy(), sym[0].z.numpy(), tol=1e-4).order == int(
        sym[0].num_ops
    )


def test_bad_orientation_option_is_a_clear_error(official_dir, sb_root):
    with pytest.raises(ValueError, match=r"option orientation='lab' must be one of"):
        _load(official_dir, sb_root, orientation="lab")
    with pytest.raises(ValueError, match=r"option 'symmetrize' must be bool, got 'yes'"):
        _load(official_dir, sb_root, symmetrize="yes")
