"""An external check of the shipped H2O normal modes (issue 20, "tests that can fail").

``make_modes.py`` diagonalises PySCF's *analytic* Hessian. The oracle here takes another
route to the same harmonic problem and shares no code with it or with sbbench: central
finite differences of PySCF's analytic *gradients* at the card's level of theory
(RKS B3LYP/def2-TZVP, (99, 590) grid, tight SCF), taken along an orthonormal basis of the
mass-weighted vibrational subspace that is built here (complement of the six rigid-body
motions by a complete QR decomposition), with pyscf's own isotope masses and unit
constants. The 3 x 3 vibrational Hessian then gives frequencies and modes, which are
paired with the shipped ones. A swap of the two A1 modes (or a mixture of them) fails
the overlap check; a mislabelled frequency fails the 1 % band (the 0-5 % band against
anharmonic fundamentals in test_h2o_modes.py would not notice either).

The character test builds the C2v operations explicitly from the geometry (and checks
that the detector finds the same four, with the same atom permutations).
"""

from __future__ import annotations

import numpy as np
import pytest

from sbbench.datasets.h2o_modes import read_modes
from sbbench.symmetry import detect

NAMES = ("sym", "bend", "asym")
#: characters under (E, C2, sigma(molecular plane), sigma(perpendicular plane))
CHARACTERS = {"A1": (1, 1, 1, 1), "B2": (1, -1, 1, -1)}
IRREP = {"sym": "A1", "bend": "A1", "asym": "B2"}


@pytest.fixture(scope="module")
def ref():
    return read_modes()


def c2v_operations(pos: np.ndarray) -> dict[str, tuple[np.ndarray, list[int]]]:
    """E, C2, sigma_v(molecular plane), sigma_v'(perpendicular plane) of a C2v water
    whose centre of mass is at the origin, each with its atom permutation
    (atom i goes to atom perm[i])."""
    axis = 0.5 * (pos[1] + pos[2]) - pos[0]
    axis /= np.linalg.norm(axis)
    normal = np.cross(pos[1] - pos[0], pos[2] - pos[0])
    normal /= np.linalg.norm(normal)
    in_plane = np.cross(normal, axis)  # along H-H
    eye = np.eye(3)
    return {
        "E": (eye, [0, 1, 2]),
        "C2": (2 * np.outer(axis, axis) - eye, [0, 2, 1]),
        "sigma_plane": (eye - 2 * np.outer(normal, normal), [0, 1, 2]),
        "sigma_perp": (eye - 2 * np.outer(in_plane, in_plane), [0, 2, 1]),
    }


def characters(d: np.ndarray, ops) -> tuple[float, ...]:
    """<d, g.d> / <d, d> per operation: (g.d)_{perm(i)} = R d_i, a 1-d irrep's character."""
    out = []
    for rot, perm in ops.values():
        image = np.empty_like(d)
        image[perm] = d @ rot.T
        out.append(float((image * d).sum() / (d * d).sum()))
    return tuple(out)


def test_shipped_modes_have_their_irreps_under_c2v(ref):
    pos = np.array(ref["positions"])
    ops = c2v_operations(pos)
    for rot, perm in ops.values():  # each really is a symmetry of the molecule
        np.testing.assert_allclose((pos @ rot.T), pos[perm], atol=1e-8)
    # the detector finds the same group, with the same permutations
    pg = detect(pos, ref["numbers"], tol=1e-4)
    assert len(pg.operations) == 4
    for rot, perm in ops.values():
        hits = [
            list(map(int, p))
            for r, p in zip(pg.operations, pg.permutations, strict=True)
            if np.allclose(r, rot, atol=1e-6)
        ]
        assert hits == [perm]
    for name in NAMES:
        mode = ref["modes"][name]
        assert mode["irrep"] == IRREP[name]
        chi = characters(np.array(mode["vector"]), ops)
        np.testing.assert_allclose(chi, CHARACTERS[IRREP[name]], atol=1e-6, err_msg=name)


# --- the finite-difference oracle -------------------------------------------------------


def _rks(pos_bohr: np.ndarray, dm0=None):
    from pyscf import dft, gto

    mol = gto.M(
        atom=[(s, p) for s, p in zip(("O", "H", "H"), pos_bohr, strict=True)],
        basis="def2-tzvp",
        unit="Bohr",
        verbose=0,
    )
    mf = dft.RKS(mol)
    mf.xc = "b3lyp"
    mf.grids.atom_grid = (99, 590)
    mf.conv_tol = 1e-12
    mf.conv_tol_grad = 1e-8
    mf.kernel(dm0=dm0)
    assert mf.converged
    return mf


def vibrational_basis(pos_bohr: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """(9, 3) orthonormal basis of mass-weighted coordinates orthogonal to the 3
    translations and 3 rotations (COM frame): the last columns of a complete QR."""
    sqrt_m = np.sqrt(masses)
    r = pos_bohr - (masses[:, None] * pos_bohr).sum(0) / masses.sum()
    rigid = []
    for e in np.eye(3):
        rigid.append((sqrt_m[:, None] * e).ravel())
        rigid.append((sqrt_m[:, None] * np.cross(e, r)).ravel())
    q, _ = np.linalg.qr(np.array(rigid).T, mode="complete")
    return q[:, 6:]


def pyscf_harmonic_modes(pos_ang: np.ndarray, step: float = 0.01) -> dict:
    """Frequencies (cm^-1, ascending) and Cartesian mode vectors (unit norm) from central
    differences of PySCF gradients along the vibrational basis; ``step`` in bohr amu^1/2."""
    from pyscf.data import elements, nist

    masses = np.array([elements.COMMON_ISOTOPE_MASSES[z] for z in (8, 1, 1)])
    pos = np.asarray(pos_ang, dtype=np.float64) / nist.BOHR  # Å -> bohr
    basis = vibrational_basis(pos, masses)
    minv = np.repeat(masses**-0.5, 3)
    mf0 = _rks(pos)
    grad0 = np.asarray(mf0.nuc_grad_method().kernel()).ravel()
    dm0 = mf0.make_rdm1()
    columns = []  # H M^-1/2 v_k in Eh / (bohr^2 amu^1/2)
    for v in basis.T:
        g = []
        for sign in (1.0, -1.0):
            mf = _rks(pos + sign * step * (minv * v).reshape(3, 3), dm0=dm0)
            g.append(np.asarray(mf.nuc_grad_method().kernel()).ravel())
        columns.append((g[0] - g[1]) / (2 * step))
    k = basis.T @ (minv[:, None] * np.array(columns).T)  # v_j^T M^-1/2 H M^-1/2 v_k
    asym = np.abs(k - k.T).max() / np.abs(k).max()
    evals, evecs = np.linalg.eigh(0.5 * (k + k.T))
    # Eh/(bohr^2 amu) -> atomic units (electron masses) -> angular frequency -> cm^-1
    freqs = np.sqrt(evals / nist.AMU2AU) * nist.HARTREE2WAVENUMBER
    disp = (minv[:, None] * (basis @ evecs)).T.reshape(3, 3, 3)
    disp /= np.linalg.norm(disp, axis=(1, 2), keepdims=True)
    return {
        "freqs": freqs,
        "vectors": disp,
        "masses": masses,
        "max_gradient": float(np.abs(grad0).max()),
        "hessian_asymmetry": float(asym),
    }


def compare_with_oracle(shipped: dict, oracle: dict, pos: np.ndarray) -> None:
    """The assertions of the oracle test, on any modes dict (so a tampered copy can be
    fed to them): every shipped mode pairs with one oracle mode by overlap > 0.999, in the
    shipped (Cartesian, unit-norm) weighting and mass-weighted, the frequencies agree to
    1 %, the names follow the oracle's own classification (B2 by its characters, the
    lower A1 the bend), and the character of each oracle mode is the shipped irrep."""
    sqrt_m = np.sqrt(oracle["masses"])[:, None]
    ops = c2v_operations(pos)
    a1 = [j for j in range(3) if np.allclose(characters(oracle["vectors"][j], ops), 1, atol=1e-3)]
    b2 = [
        j
        for j in range(3)
        if np.allclose(characters(oracle["vectors"][j], ops), CHARACTERS["B2"], atol=1e-3)
    ]
    assert len(a1) == 2 and len(b2) == 1, "oracle modes are not 2 A1 + 1 B2"
    expected = {"bend": min(a1, key=lambda j: oracle["freqs"][j])}
    expected["sym"] = max(a1, key=lambda j: oracle["freqs"][j])
    expected["asym"] = b2[0]
    for name in NAMES:
        d = np.array(shipped[name]["vector"])
        cart = [abs(float((d * u).sum())) for u in oracle["vectors"]]
        j = int(np.argmax(cart))
        assert j == expected[name], (name, cart)
        assert cart[j] > 0.999, (name, cart)  # agrees to ~1e-9: a 3 deg mixture fails
        q, u = (sqrt_m * d).ravel(), (sqrt_m * oracle["vectors"][j]).ravel()
        assert abs(q @ u) / np.linalg.norm(q) / np.linalg.norm(u) > 0.999, name
        freq = shipped[name]["frequency_cm-1"]
        assert freq == pytest.approx(oracle["freqs"][j], rel=0.01), name
        assert IRREP[name] == shipped[name]["irrep"]


@pytest.mark.slow  # 7 B3LYP/def2-TZVP SCF + gradient runs: 28 s on one core, 48 s shared
def test_shipped_modes_match_a_finite_difference_pyscf_hessian(ref):
    pos = np.array(ref["positions"])
    oracle = pyscf_harmonic_modes(pos)
    assert oracle["max_gradient"] < 1e-5  # the shipped geometry is the card level's minimum
    assert oracle["hessian_asymmetry"] < 1e-3  # finite differences are converged
    assert (oracle["freqs"] > 1000).all()  # a minimum: three real vibrations
    compare_with_oracle(ref["modes"], oracle, pos)
