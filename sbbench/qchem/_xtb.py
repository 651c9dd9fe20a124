"""Conformers the QM7-X way, with open tools: RDKit start, GFN2-xTB minimum and normal modes.

QM7-X (Hoja et al., Sci. Data 8, 43 (2021)) optimises MMFF94 conformers with
DFTB3+MBD and then displaces each equilibrium structure along its normal modes
to make 100 non-equilibrium structures. Here GFN2-xTB (Bannwarth, Ehlert,
Grimme, JCTC 15, 1652 (2019); through ``tblite``) stands in for DFTB3+MBD:

1. :func:`embed` -- RDKit ETKDG geometry from SMILES, relaxed with MMFF94
   (UFF where MMFF94 has no parameters);
2. :func:`optimize` -- GFN2-xTB minimum (L-BFGS on the analytic gradient);
3. :func:`normal_modes` -- central-difference Hessian of the analytic
   gradient, mass-weighted, translations and rotations projected out;
4. :func:`sample_displacement` -- normal-mode sampling as in ANI-1 (Smith,
   Isayev, Roitberg, Chem. Sci. 8, 3192 (2017)), which QM7-X follows:
   random c_i >= 0 with sum_i c_i <= 1, amplitude
   R_i = ±sqrt(3 c_i N_atoms k_B T / K_i) along mode i, so the harmonic energy
   sum_i K_i R_i^2 / 2 is at most (3/2) N_atoms k_B T.

Units: positions in Å at the interfaces, bohr and Hartree inside (tblite's
units); force constants K_i in Hartree/bohr² along unit Cartesian mode vectors.
``tblite`` and ``rdkit`` are optional (``pip install sbbench[reference]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbbench.errors import InputError

from ._units import BOHR_PER_ANGSTROM

__all__ = ["NormalModes", "embed", "normal_modes", "optimize", "sample_displacement", "xtb_energy"]

KB_HARTREE_PER_K = 3.166811563e-6  # Boltzmann constant, Eh/K (CODATA 2018)
_CM1_PER_SQRT_EH_BOHR2_AMU = 5140.48  # sqrt(Eh/(bohr² amu)) in cm^-1


def embed(smiles: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(numbers, positions in Å) of an ETKDG + MMFF94 geometry of ``smiles`` (with H).

    UFF relaxes the few molecules MMFF94 cannot type (HCl). Raises
    ``ValueError`` naming the SMILES when RDKit cannot parse, embed or type it.
    """
    try:
        from rdkit import Chem
        from rdkit.Chem import AllChem
    except ImportError as exc:  # pragma: no cover - environment
        raise ImportError("conformers need RDKit: pip install sbbench[reference]") from exc
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise InputError(f"RDKit cannot parse SMILES {smiles!r}")
    mol = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    if AllChem.EmbedMolecule(mol, params) != 0:
        raise InputError(f"ETKDG could not embed {smiles!r}")
    if AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
    elif AllChem.UFFHasAllMoleculeParams(mol):  # e.g. HCl, which MMFF94 does not type
        AllChem.UFFOptimizeMolecule(mol, maxIters=2000)
    else:
        raise InputError(f"neither MMFF94 nor UFF has parameters for {smiles!r}")
    numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])
    return numbers, mol.GetConformer().GetPositions()


def _calculator(numbers: np.ndarray, pos_bohr: np.ndarray):
    try:
        from tblite.interface import Calculator
    except ImportError as exc:  # pragma: no cover - environment
        raise ImportError("GFN2-xTB needs tblite: pip install sbbench[reference]") from exc
    calc = Calculator("GFN2-xTB", np.asarray(numbers), pos_bohr)
    calc.set("verbosity", 0)
    return calc


def xtb_energy(numbers: np.ndarray, positions: np.ndarray) -> tuple[float, np.ndarray]:
    """GFN2-xTB energy (Hartree) and gradient (Hartree/bohr, (N, 3)) at ``positions`` (Å)."""
    pos = np.asarray(positions, float) * BOHR_PER_ANGSTROM
    res = _calculator(numbers, pos).singlepoint()
    return float(res.get("energy")), np.asarray(res.get("gradient"))


def optimize(
    numbers: np.ndarray, positions: np.ndarray, *, gtol: float = 1e-5, max_steps: int = 2000
) -> tuple[np.ndarray, float]:
    """GFN2-xTB minimum near ``positions`` (Å): (positions in Å, energy in Hartree).

    L-BFGS (scipy) on the analytic gradient until its largest component is
    below ``gtol`` Eh/bohr. Raises ``RuntimeError`` when it does not converge.
    """
    from scipy.optimize import minimize

    numbers = np.asarray(numbers)
    x0 = np.asarray(positions, float).ravel() * BOHR_PER_ANGSTROM
    calc = _calculator(numbers, x0.reshape(-1, 3))

    def fun(x):
        calc.update(x.reshape(-1, 3))
        res = calc.singlepoint()
        return float(res.get("energy")), np.asarray(res.get("gradient")).ravel()

    out = minimize(
        fun, x0, jac=True, method="L-BFGS-B",
        options={"maxiter": max_steps, "gtol": gtol, "ftol": 1e-14, "maxcor": 50},
    )  # fmt: skip
    gmax = float(np.abs(fun(out.x)[1]).max())
    if gmax > 10 * gtol:
        raise RuntimeError(f"GFN2-xTB optimisation did not converge (max |g| {gmax:.1e} Eh/bohr)")
    return out.x.reshape(-1, 3) / BOHR_PER_ANGSTROM, float(out.fun)


@dataclass(frozen=True)
class NormalModes:
    """Vibrational normal modes of a minimum.

    Attributes
    ----------
    vectors : (M, N, 3) array, unit Cartesian displacement of each mode.
    force_constants : (M,) array, K_i = d_i^T H d_i in Hartree/bohr².
    wavenumbers : (M,) array, harmonic wavenumbers in cm^-1 (negative: imaginary).
    """

    vectors: np.ndarray
    force_constants: np.ndarray
    wavenumbers: np.ndarray


def _rigid_motions(pos: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Orthonormal basis (3N, k) of mass-weighted translations and rotations."""
    sq = np.sqrt(masses)
    centre = (masses @ pos) / masses.sum()
    r = pos - centre
    cols = []
    for k in range(3):
        t = np.zeros_like(pos)
        t[:, k] = 1.0
        cols.append((t * sq[:, None]).ravel())
    for k in range(3):
        axis = np.eye(3)[k]
        cols.append((np.cross(axis, r) * sq[:, None]).ravel())
    basis, s, _ = np.linalg.svd(np.array(cols).T, full_matrices=False)
    return basis[:, s > 1e-6 * s.max()]


def normal_modes(numbers: np.ndarray, positions: np.ndarray, *, step: float = 5e-3) -> NormalModes:
    """GFN2-xTB normal modes at ``positions`` (Å, a minimum).

    The Hessian is the central difference of the analytic gradient (``step``
    bohr), symmetrised, mass-weighted with ASE's standard atomic masses; the
    translations and rotations are projected out before diagonalising.
    """
    from ase.data import atomic_masses

    numbers = np.asarray(numbers)
    pos = np.asarray(positions, float) * BOHR_PER_ANGSTROM
    n = len(numbers)
    calc = _calculator(numbers, pos)
    hess = np.empty((3 * n, 3 * n))
    for i in range(3 * n):
        grads = []
        for sign in (1.0, -1.0):
            x = pos.copy().ravel()
            x[i] += sign * step
            calc.update(x.reshape(-1, 3))
            grads.append(np.asarray(calc.singlepoint().get("gradient")).ravel())
        hess[i] = (grads[0] - grads[1]) / (2 * step)
    hess = 0.5 * (hess + hess.T)
    masses = atomic_masses[numbers]
    inv_sq = np.repeat(1.0 / np.sqrt(masses), 3)
    hmw = hess * inv_sq[:, None] * inv_sq[None, :]
    rigid = _rigid_motions(pos, masses)
    proj = np.eye(3 * n) - rigid @ rigid.T
    evals, evecs = np.linalg.eigh(proj @ hmw @ proj)
    # drop the rigid-motion null space: the eigenvectors most inside span(rigid)
    inside = np.linalg.norm(rigid.T @ evecs, axis=0)
    keep = np.argsort(inside)[: 3 * n - rigid.shape[1]]
    keep = keep[np.argsort(evals[keep])]
    evals, evecs = evals[keep], evecs[:, keep]
    vec = evecs * inv_sq[:, None]
    vec /= np.linalg.norm(vec, axis=0, keepdims=True)
    k = np.einsum("im,ij,jm->m", vec, hess, vec)
    wn = np.sign(evals) * np.sqrt(np.abs(evals)) * _CM1_PER_SQRT_EH_BOHR2_AMU
    return NormalModes(vectors=vec.T.reshape(-1, n, 3), force_constants=k, wavenumbers=wn)


def sample_displacement(
    modes: NormalModes,
    n_atoms: int,
    temperature: float,
    rng: np.random.Generator,
    *,
    min_wavenumber: float = 50.0,
) -> np.ndarray:
    """One normal-mode-sampling displacement (Å, (N, 3)) at ``temperature`` K.

    ANI-1's scheme: uniform c_i scaled so that sum c_i is itself uniform in
    [0, 1], R_i = ±sqrt(3 c_i N k_B T / K_i). Modes below ``min_wavenumber``
    cm^-1 (near-free rotors, numerically noisy) are not displaced.
    """
    use = modes.wavenumbers >= min_wavenumber
    k = modes.force_constants[use]
    vec = modes.vectors[use]
    c = rng.uniform(size=len(k))
    c *= rng.uniform() / max(c.sum(), 1e-300)
    amp = np.sqrt(3 * c * n_atoms * KB_HARTREE_PER_K * temperature / k)
    amp *= rng.choice([-1.0, 1.0], size=len(k))
    return np.einsum("m,mnk->nk", amp, vec) / BOHR_PER_ANGSTROM
