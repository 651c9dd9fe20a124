"""``sym_perms``: the atom permutation of every operation in ``sym_ops`` (Data contract)."""

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from sbbench.datasets import check_sample, load, make_sample

DATASETS = ["square", "h2o_modes:asym", "shapes:prism", "charged_particle", "qm7x"]


@pytest.mark.parametrize("name", DATASETS)
def test_perms_map_each_atom_onto_its_image(name):
    """R_g x_i lands on x_{perm[g, i]} (same element) within the detection tolerance."""
    ds = load(name)
    tol = ds.tol
    for d in list(ds)[:40]:
        n = d.num_nodes
        pos = d.pos.double() - d.pos.double().mean(0)
        ops = d.sym_ops.double()
        perms = d.sym_perms.reshape(len(ops), n)
        assert torch.equal(perms[0], torch.arange(n))
        images = torch.einsum("gij,nj->gni", ops, pos)
        moved = (images - pos[perms]).norm(dim=-1)
        assert float(moved.max()) <= 3 * tol
        assert torch.equal(d.z[perms], d.z.expand(len(ops), n))


def test_batch_offsets_perms_by_first_atom():
    ds = load("qm7x")
    samples = [ds[0], ds[5], ds[9]]
    batch = Batch.from_data_list(samples)
    start_perm, start_atom = 0, 0
    for d in samples:
        size = d.sym_perms.numel()
        got = batch.sym_perms[start_perm : start_perm + size] - start_atom
        assert torch.equal(got, d.sym_perms)
        start_perm += size
        start_atom += d.num_nodes


def test_check_sample_rejects_bad_perms():
    pos = np.array([[1.0, 0, 0], [-1.0, 0, 0]])
    d = make_sample([1, 1], pos, np.zeros((2, 3)), idx=0, tol=0.1)
    assert d.sym_perms.numel() == len(d.sym_ops) * 2
    d.sym_perms = torch.zeros_like(d.sym_perms)
    with pytest.raises(ValueError, match="sym_perms row 0 .* is not a permutation"):
        check_sample(d)
