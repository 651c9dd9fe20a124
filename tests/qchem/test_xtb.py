"""GFN2-xTB conformer tools (sbbench.qchem._xtb): minima, normal modes, mode sampling."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tblite")
pytest.importorskip("rdkit")

from sbbench.qchem import (  # noqa: E402
    embed,
    normal_modes,
    optimize,
    sample_displacement,
    xtb_energy,
)
from sbbench.qchem._xtb import KB_HARTREE_PER_K  # noqa: E402
from sbbench.symmetry import detect  # noqa: E402


@pytest.fixture(scope="module")
def water():
    numbers, pos = embed("O", seed=0)
    pos, energy = optimize(numbers, pos)
    return numbers, pos, energy, normal_modes(numbers, pos)


def test_minimum_has_zero_gradient_and_c2v(water):
    numbers, pos, energy, _ = water
    e, g = xtb_energy(numbers, pos)
    assert abs(e - energy) < 1e-10
    assert np.abs(g).max() < 1e-4
    assert detect(pos, numbers, tol=0.01).schoenflies == "C2v"


def test_water_modes_are_bend_sym_asym_with_their_characters(water):
    numbers, pos, _, modes = water
    assert modes.vectors.shape == (3, 3, 3)  # 3N - 6 modes
    assert np.all(np.diff(modes.wavenumbers) > 0)
    assert 1300 < modes.wavenumbers[0] < 1800 and modes.wavenumbers[1] > 3000
    pg = detect(pos, numbers, tol=0.01)
    chars = []
    for d in modes.vectors:
        # character of each operation: overlap of R d_perm with d (modes are non-degenerate)
        char = []
        for rot, perm in zip(pg.operations, pg.permutations, strict=True):
            moved = np.empty_like(d)
            moved[perm] = d @ rot.T  # (g.d)_{g(i)} = R d_i
            char.append(round(float((moved * d).sum())))
        chars.append(np.array(char))
    a1 = [1, 1, 1, 1]
    assert sorted(chars[0].tolist()) == a1 and sorted(chars[1].tolist()) == a1  # bend, sym
    assert sorted(chars[2].tolist()) == [-1, -1, 1, 1]  # asym: B2 (or B1, by axis naming)


def test_force_constants_match_energy_curvature_along_each_mode(water):
    """K_i from the finite-difference Hessian against E(x + h d_i) computed directly."""
    numbers, pos, energy, modes = water
    h = 0.01  # Å
    for d, k in zip(modes.vectors, modes.force_constants, strict=True):
        ep = xtb_energy(numbers, pos + h * d)[0]
        em = xtb_energy(numbers, pos - h * d)[0]
        curvature = (ep + em - 2 * energy) / (h * 1.8897261246) ** 2  # Eh/bohr²
        assert curvature == pytest.approx(k, rel=0.02)


def test_rigid_motions_are_projected_out_for_a_linear_molecule():
    numbers, pos = embed("C#N", seed=0)
    pos, _ = optimize(numbers, pos)
    modes = normal_modes(numbers, pos)
    assert len(modes.wavenumbers) == 3 * 3 - 5
    assert modes.wavenumbers.min() > 300


def test_sampling_energy_follows_the_ani_scheme(water):
    numbers, _, _, modes = water
    t, n = 1500.0, len(numbers)
    rng = np.random.default_rng(0)
    energies = []
    for _ in range(4000):
        d = sample_displacement(modes, n, t, rng) * 1.8897261246
        basis = modes.vectors.reshape(len(modes.vectors), -1).T
        amp = np.linalg.lstsq(basis, d.ravel(), rcond=None)[0]  # the R_i of the sample
        energies.append(0.5 * (modes.force_constants * amp**2).sum())
    bound = 1.5 * n * KB_HARTREE_PER_K * t
    energies = np.array(energies)
    assert energies.max() <= bound * (1 + 1e-9)
    assert energies.mean() == pytest.approx(0.5 * bound, rel=0.1)


def test_sampled_structure_energy_is_near_harmonic_at_low_temperature(water):
    numbers, pos, energy, modes = water
    rng = np.random.default_rng(1)
    bound = 1.5 * len(numbers) * KB_HARTREE_PER_K * 50.0
    for _ in range(5):
        rise = xtb_energy(numbers, pos + sample_displacement(modes, 3, 50.0, rng))[0] - energy
        assert 0 <= rise <= 1.1 * bound


def test_embed_falls_back_to_uff_and_names_bad_smiles():
    numbers, pos = embed("Cl", seed=0)  # HCl: MMFF94 has no parameters
    assert sorted(numbers.tolist()) == [1, 17]
    assert 1.1 < np.linalg.norm(pos[0] - pos[1]) < 1.5
    with pytest.raises(ValueError, match="'C1CC'"):
        embed("C1CC")
