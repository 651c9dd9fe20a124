"""SANN: relaxed equivariance (SANN Def. 3.3) measured with the detector's operations."""

import numpy as np
import pytest
import torch
from ase.build import molecule
from torch_geometric.data import Batch, Data

from sbbench.models import build
from sbbench.symmetry import detect
from sbbench.testing import (
    assert_equivariant,
    equivariance_error,
    random_orthogonal,
    relaxed_equivariance_error,
    to_dtype,
    transform_batch,
)

from ._data import random_molecules, square
from ._zoo import make

torch.set_num_threads(1)


def _g2(name: str) -> Data:
    """A G2 molecule without sym_ops: the test detects Sym(x) itself."""
    atoms = molecule(name)
    return Data(
        z=torch.as_tensor(atoms.numbers, dtype=torch.long),
        pos=torch.as_tensor(atoms.positions, dtype=torch.float32),
    )


def _square_without_ops() -> Data:
    sq = square(1.5)
    return Data(z=sq.z, pos=sq.pos)


def test_exactly_equivariant_without_symmetry():
    model = make("sann")
    assert equivariance_error(model, random_molecules((5, 4))) < 1e-6


def test_relaxed_equivariant_on_symmetric_molecules():
    """f(g.x) = g.sigma.f(x), sigma in Sym(x) from the detector; not strictly equivariant."""
    model = make("sann")
    data = Batch.from_data_list(
        [_square_without_ops()] + [_g2(n) for n in ("H2O", "NH3", "CH4", "C6H6")]
    )
    assert relaxed_equivariance_error(model, data, n_samples=4) < 1e-6
    assert equivariance_error(model, data, n_samples=4) > 1e-3


def test_relaxed_equivariant_on_centrosymmetric_molecules():
    model = make("sann")
    data = Batch.from_data_list([_g2("C2H4"), _g2("C2H6")])
    assert relaxed_equivariance_error(model, data, n_samples=6) < 1e-6


def test_learns_square_to_rectangle_which_egnn_cannot():
    """Spontaneous symmetry breaking (SANN Sec. 6.1): only the relaxed model stretches a square."""
    data = to_dtype(square(2.0), torch.float64)
    target = data.pos * torch.tensor([0.25, 0.0, 0.0], dtype=torch.float64)
    final = {}
    for name in ("sann", "egnn"):
        model = make(name)
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        for _ in range(150):
            opt.zero_grad()
            loss = (model(data) - target).pow(2).mean()
            loss.backward()
            opt.step()
        final[name] = loss.item()
        if name == "sann":
            pred = (data.pos + model(data)).detach().numpy()
    assert final["sann"] < 1e-3
    # Curie: the best square-symmetric (radial) field c x_i has c = 1/8 and MSE 1/96
    assert final["egnn"] > 0.99 / 96
    assert detect(pred, data.z.numpy()).schoenflies == "D2h"


def test_precomputed_frame_and_orbit_are_used():
    model = make("sann").eval()
    data = to_dtype(Batch.from_data_list([_g2("H2O"), _g2("NH3")]), torch.float64)
    frames, orbits = [], []
    for mol in data.to_data_list():
        group = detect(mol.pos.numpy(), mol.z.numpy())
        frames.append(torch.as_tensor(group.frame))
        orbits.append(torch.as_tensor(group.orbits))
    with_frame = data.clone()
    with_frame.frame = torch.cat(frames)  # (3B, 3) as PyG concatenates (3, 3) per sample
    with_frame.orbit = torch.cat(orbits)
    assert torch.allclose(model(with_frame), model(data), atol=1e-12)
    flipped = with_frame.clone()
    flipped.frame = -flipped.frame  # a different (inverted) frame changes the output
    assert not torch.allclose(model(flipped), model(data), atol=1e-6)
    bad = with_frame.clone()
    bad.frame = bad.frame[:3]
    with pytest.raises(ValueError, match="holds 1 frames for 2 molecules"):
        model(bad)


def test_cutoff_rejected_and_symmetry_class():
    with pytest.raises(ValueError, match="cutoff must be None"):
        build("sann", cutoff=5.0)
    assert build("sann", hidden=8, layers=1).symmetry_class == "relaxed-equivariant"


def _check_node_vec_and_attr(model, data):
    """``node_vec``/``node_attr`` change the output; equivariant iff node_vec rotates along."""
    model.eval()
    with torch.no_grad():
        out = model(data)
        scale = float(out.abs().max())
        assert scale > 0 and torch.isfinite(out).all()
        for key in ("node_vec", "node_attr"):  # the inputs are used
            other = data.clone()
            other[key] = torch.randn(data[key].shape, generator=torch.Generator().manual_seed(1))
            other[key] = other[key].to(data[key].dtype)
            assert float((model(other) - out).abs().max()) > 1e-3 * scale, key
        # the velocities rotate with the molecule: equivariant (sbbench.testing moves both)
        assert_equivariant(model, data, tol=1e-6)
        # ... and node_vec is used as a vector: held fixed while the molecule rotates, the
        # output is no longer the rotated one
        rot = random_orthogonal(3, data.pos.dtype, improper=False)
        moved = transform_batch(data, rot)
        moved.node_vec = data.node_vec
        assert float((model(moved) - out @ rot.T).abs().max()) > 1e-3 * scale


def test_handles_velocities_and_attributes():
    torch.manual_seed(0)
    model = build("sann", hidden=8, layers=1, node_attr_dim=1).double()
    # 5 and 4 generic atoms: Sym(x) = C1, where SANN is exactly equivariant (2 or 3 atoms
    # always have a mirror plane, where it is only relaxed-equivariant)
    data = to_dtype(random_molecules((5, 4), node_vec=True), torch.float64)
    data.node_attr = torch.randn(9, 1, dtype=torch.float64)
    out = model(data)
    assert out.shape == (9, 3) and np.isfinite(out.detach().numpy()).all()
    _check_node_vec_and_attr(model, data)
