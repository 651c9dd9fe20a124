"""Equivariance measured in float64 under random O(3) elements, translations and permutations."""

import pytest
import torch

from sbbench.testing import equivariance_error, op_permutation, to_dtype

from ._data import random_molecules, square
from ._zoo import EQUIVARIANT, label, make

torch.set_num_threads(1)


@pytest.mark.parametrize("cfg", EQUIVARIANT, ids=label)
def test_equivariant_models(cfg):
    name, hp = cfg
    model = make(name, **hp)
    err = equivariance_error(model, random_molecules((5, 4)), n_samples=4)
    assert err < 1e-6


@pytest.mark.parametrize("cfg", [c for c in EQUIVARIANT if c[0] in ("egnn", "painn")], ids=label)
def test_equivariant_with_velocities_and_cutoff(cfg):
    name, hp = cfg
    model = make(name, cutoff=2.0, out_vectors=2, **hp)
    assert equivariance_error(model, random_molecules((6, 5), node_vec=True)) < 1e-6


@pytest.mark.parametrize("cfg", EQUIVARIANT, ids=label)
def test_curie_square_output_keeps_square_symmetry(cfg):
    """Curie's principle: an equivariant model maps a square to a D4h-symmetric field."""
    name, hp = cfg
    model = make(name, **hp).eval()
    data = to_dtype(square(1.5), torch.float64)
    y = model(data).detach()
    scale = float(y.abs().max())
    assert scale > 1e-8  # a real, non-zero output
    for op in data.sym_ops:
        pi = op_permutation(data.pos, data.z, op)
        assert float((y[pi] - y @ op.T).abs().max()) < 1e-6 * scale


@pytest.mark.parametrize("name", ["egnn+mlp", "painn+mlp"])
def test_mlp_head_measurably_breaks_equivariance(name):
    model = make(name)
    assert equivariance_error(model, random_molecules((5, 4))) > 1e-2


@pytest.mark.parametrize("name", ["egnn+noise", "painn+noise"])
def test_noise_models_are_equivariant_at_inference(name):
    assert equivariance_error(make(name, noise_std=0.1), random_molecules((5, 4))) < 1e-6
