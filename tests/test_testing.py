import pytest
import torch

from sbbench.testing import (
    assert_equivariant,
    equivariance_error,
    op_permutation,
    random_orthogonal,
    relaxed_equivariance_error,
    transform_batch,
)

from .models._data import random_molecules, square


class _Toy(torch.nn.Module):
    """Test functions of positions: ``kind`` picks the symmetry behaviour."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.dummy = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, data):
        pos = data.pos
        c = pos.mean(0)
        rel = pos - c
        if self.kind == "equivariant":  # radial field
            return rel * rel.norm(dim=-1, keepdim=True)
        if self.kind == "constant":  # fixed direction: not equivariant
            return torch.ones_like(pos) * torch.tensor([1.0, 0.0, 0.0], dtype=pos.dtype)
        # "first_atom": projection onto the axis through atom 0 (depends on atom order)
        e = rel[0] / rel[0].norm()
        return (rel @ e)[:, None] * e


def test_random_orthogonal():
    for seed in range(6):
        q = random_orthogonal(seed)
        assert q.dtype == torch.float64
        assert torch.allclose(q @ q.T, torch.eye(3, dtype=torch.float64), atol=1e-12)
        assert torch.equal(q, random_orthogonal(seed))
    assert torch.det(random_orthogonal(1, improper=True)) < 0
    assert torch.det(random_orthogonal(1, improper=False)) > 0
    assert random_orthogonal(0, torch.float32).dtype == torch.float32


def test_transform_batch_moves_fields_consistently():
    data = random_molecules((3, 2), node_vec=True)
    data.y = torch.randn(5, 3)
    rot = random_orthogonal(3, torch.float32)
    perm = torch.tensor([2, 0, 1, 4, 3])
    out = transform_batch(data, rot, perm, torch.zeros(2, 3))
    assert torch.allclose(out.pos, data.pos[perm] @ rot.T)
    assert torch.allclose(out.node_vec, data.node_vec[perm] @ rot.T)
    assert torch.allclose(out.y, data.y[perm] @ rot.T)
    assert torch.equal(out.z, data.z[perm])
    assert torch.allclose(out.sym_ops, rot @ data.sym_ops @ rot.T)


def test_equivariance_error_separates_equivariant_from_not():
    data = random_molecules((5,))  # one molecule: the toys centre on the batch centroid
    assert assert_equivariant(_Toy("equivariant"), data) < 1e-12
    assert equivariance_error(_Toy("constant"), data) > 0.1
    with pytest.raises(AssertionError, match="equivariance error"):
        assert_equivariant(_Toy("constant"), data)


def test_zero_output_cannot_be_called_equivariant():
    class Zero(_Toy):
        def forward(self, data):
            return torch.zeros_like(data.pos)

    with pytest.raises(ValueError, match="identically zero"):
        equivariance_error(Zero("zero"), random_molecules((3,)))


def test_relaxed_equivariance_on_a_square():
    data = square(2.0)
    data.pos = data.pos.double()
    toy = _Toy("first_atom")
    # Not equivariant (the chosen axis follows the atom order) ...
    assert equivariance_error(toy, data, n_samples=6) > 0.1
    # ... but relaxed equivariant: f(g x) = g sigma f(x) with sigma in D4h.
    assert relaxed_equivariance_error(toy, data, n_samples=6) < 1e-9
    # A constant field is neither.
    assert relaxed_equivariance_error(_Toy("constant"), data, n_samples=6) > 0.1


def test_op_permutation():
    data = square(2.0)
    c4 = data.sym_ops[1].double()
    pi = op_permutation(data.pos.double(), data.z, c4)
    assert sorted(pi.tolist()) == [0, 1, 2, 3]
    assert torch.allclose(data.pos.double() @ c4.T, data.pos.double()[pi])
    with pytest.raises(ValueError, match="not a symmetry"):
        op_permutation(data.pos.double(), data.z, random_orthogonal(0))
