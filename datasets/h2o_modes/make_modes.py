"""Normal modes of H2O from a real DFT Hessian (generates ``h2o_modes.json``).

Run once by a maintainer (needs PySCF, ``pip install sbbench[reference]``)::

    python datasets/h2o_modes/make_modes.py            # writes h2o_modes.json + .sha256

Loading the ``h2o_modes`` dataset never runs this script: it reads the shipped
JSON and checks its sha256.

Method
------
1. Restricted Kohn-Sham B3LYP/def2-TZVP (PySCF, (99, 590) integration grid,
   tight SCF) for H2O; starting geometry r(OH) = 0.96 Å, angle 104.5°.
2. Geometry optimisation in Cartesian coordinates with SciPy BFGS on the
   analytic gradient until max |gradient| < 1e-6 Hartree/bohr.
3. Analytic Hessian (``pyscf.hessian.rks``), in Hartree/bohr^2.
4. Mass weighting H_mw = M^-1/2 H M^-1/2 (most abundant isotope masses), projection
   of the 6 translations and infinitesimal rotations (Eckart conditions)
   so they have exactly zero eigenvalue, diagonalisation.
5. The 3 vibrational eigenvectors q_k, frequencies nu_k = sqrt(lambda_k) / (2 pi c)
   in cm^-1, and the Cartesian displacement vectors d_k = M^-1/2 q_k
   normalised to sum_i |d_k,i|^2 = 1 (dimensionless, "mode vector per atom").
6. Modes are named by their symmetry under the C2 axis of the molecule:
   ``bend`` and ``sym`` are totally symmetric (A1), ``asym`` changes sign
   (B2); among the two A1 modes the lower frequency is the bend. Signs are
   fixed so that for ``sym`` and ``asym`` the first hydrogen moves away from
   the oxygen and for ``bend`` the H-O-H angle opens (see :func:`fix_sign`).

Harmonic B3LYP frequencies are expected a few percent *above* the measured
fundamentals (1595, 3657, 3756 cm^-1; the experimental harmonic values are 1648,
3832, 3943 cm^-1) because they lack anharmonicity; B3LYP harmonic
frequencies are typically within ~1-3 % of experimental harmonic ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "h2o_modes.json"

XC = "b3lyp"
BASIS = "def2-tzvp"
GRID = (99, 590)
# CODATA 2018 (as in pyscf.data.nist)
BOHR_PER_ANGSTROM = 1.0 / 0.529177210903
HARTREE_J = 4.3597447222071e-18
AMU_KG = 1.66053906660e-27
BOHR_M = 0.529177210903e-10
C_CM_S = 2.99792458e10
MASSES = {8: 15.99491461957, 1: 1.00782503223}  # most abundant isotopes, amu


def build_mol(pos_bohr: np.ndarray):
    from pyscf import gto

    atoms = [("O", pos_bohr[0]), ("H", pos_bohr[1]), ("H", pos_bohr[2])]
    return gto.M(atom=atoms, basis=BASIS, unit="Bohr", verbose=0)


def run_scf(mol):
    from pyscf import dft

    mf = dft.RKS(mol)
    mf.xc = XC
    mf.grids.atom_grid = GRID
    mf.conv_tol = 1e-12
    mf.conv_tol_grad = 1e-8
    mf.kernel()
    if not mf.converged:
        raise RuntimeError("SCF did not converge")
    return mf


def energy_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
    mf = run_scf(build_mol(x.reshape(3, 3)))
    grad = mf.nuc_grad_method().kernel()
    return float(mf.e_tot), np.asarray(grad).ravel()


def optimise(pos_bohr: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    res = minimize(
        energy_and_gradient,
        pos_bohr.ravel(),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-6, "maxiter": 200},
    )
    g = energy_and_gradient(res.x)[1]
    if np.abs(g).max() > 1e-5:
        raise RuntimeError(f"geometry optimisation did not converge: max|g| = {np.abs(g).max()}")
    return res.x.reshape(3, 3)


def tr_projector(pos_bohr: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Projector onto the complement of mass-weighted translations and rotations."""
    sqrt_m = np.sqrt(masses)
    com = (masses[:, None] * pos_bohr).sum(0) / masses.sum()
    r = pos_bohr - com
    vecs = []
    for a in range(3):
        t = np.zeros((3, 3))
        t[:, a] = sqrt_m
        vecs.append(t.ravel())
    for a in range(3):
        axis = np.zeros(3)
        axis[a] = 1.0
        vecs.append((np.cross(axis, r) * sqrt_m[:, None]).ravel())
    basis, s, _ = np.linalg.svd(np.array(vecs).T, full_matrices=False)
    basis = basis[:, s > 1e-8 * s.max()]
    return np.eye(9) - basis @ basis.T


def fix_sign(name: str, d: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Deterministic sign: for ``sym``/``asym`` the first H moves away from O,
    for ``bend`` the H-O-H angle opens (first H moves away from the second H)."""
    if name == "bend":
        ref = pos[1] - pos[2]
    else:
        ref = pos[1] - pos[0]
    return d if float(d[1] @ ref) > 0 else -d


def main() -> None:
    import pyscf
    import scipy
    from pyscf import hessian  # noqa: F401  (registers mf.Hessian)

    r, theta = 0.96 * BOHR_PER_ANGSTROM, np.deg2rad(104.5)
    start = np.array(
        [
            [0.0, 0.0, 0.0],
            [r * np.sin(theta / 2), 0.0, r * np.cos(theta / 2)],
            [-r * np.sin(theta / 2), 0.0, r * np.cos(theta / 2)],
        ]
    )
    pos = optimise(start)
    mf = run_scf(build_mol(pos))
    h = mf.Hessian().kernel()  # (3, 3, 3, 3) Hartree/bohr^2, h[i, j, a, b]
    h = h.transpose(0, 2, 1, 3).reshape(9, 9)
    h = 0.5 * (h + h.T)

    z = np.array([8, 1, 1])
    masses = np.array([MASSES[int(k)] for k in z])
    minv = np.repeat(1.0 / np.sqrt(masses), 3)
    hmw = h * minv[:, None] * minv[None, :]
    proj = tr_projector(pos, masses)
    hmw = proj @ hmw @ proj
    evals, evecs = np.linalg.eigh(hmw)
    order = np.argsort(np.abs(evals))
    if np.abs(evals[order[:6]]).max() > 1e-8:
        raise RuntimeError(f"translations/rotations not projected out: {evals[order[:6]]}")
    vib = order[6:]
    vib = vib[np.argsort(evals[vib])]
    # Hartree/(bohr^2 amu) -> s^-2 -> wavenumber
    to_si = HARTREE_J / (BOHR_M**2 * AMU_KG)
    freqs = np.sqrt(evals[vib] * to_si) / (2 * np.pi * C_CM_S)

    # classify each mode by its character under the C2 axis (O -> H-H midpoint)
    com = (masses[:, None] * pos).sum(0) / masses.sum()
    axis = 0.5 * (pos[1] + pos[2]) - pos[0]
    axis /= np.linalg.norm(axis)
    c2 = 2 * np.outer(axis, axis) - np.eye(3)
    perm = [0, 2, 1]
    modes: dict[str, dict] = {}
    a1 = []
    for k, idx in enumerate(vib):
        d = (evecs[:, idx] * minv).reshape(3, 3)
        d /= np.linalg.norm(d)
        image = (d @ c2.T)[perm]
        if np.allclose(image, d, atol=1e-6):
            a1.append((freqs[k], d))
        elif np.allclose(image, -d, atol=1e-6):
            modes["asym"] = {"frequency_cm-1": float(freqs[k]), "irrep": "B2", "vector": d}
        else:
            raise RuntimeError(f"mode {k} is neither symmetric nor antisymmetric under C2")
    if len(a1) != 2 or "asym" not in modes:
        raise RuntimeError("expected two A1 modes and one B2 mode")
    a1.sort(key=lambda t: t[0])
    modes["bend"] = {"frequency_cm-1": float(a1[0][0]), "irrep": "A1", "vector": a1[0][1]}
    modes["sym"] = {"frequency_cm-1": float(a1[1][0]), "irrep": "A1", "vector": a1[1][1]}

    pos_ang = (pos - com) / BOHR_PER_ANGSTROM
    for name, m in modes.items():
        m["vector"] = fix_sign(name, m["vector"], pos_ang).round(10).tolist()
    roh = np.linalg.norm(pos_ang[1:] - pos_ang[0], axis=1)
    v1, v2 = pos_ang[1] - pos_ang[0], pos_ang[2] - pos_ang[0]
    angle = np.degrees(np.arccos(v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2))))

    out = {
        "description": "H2O harmonic normal modes from an analytic DFT Hessian "
        "(generated by datasets/h2o_modes/make_modes.py)",
        "method": {
            "program": "PySCF",
            "xc": XC,
            "basis": BASIS,
            "grid": list(GRID),
            "hessian": "analytic (pyscf.hessian.rks)",
            "optimisation": "scipy BFGS on analytic gradients, max|g| < 1e-6 Eh/bohr",
            "masses_amu": {"O": MASSES[8], "H": MASSES[1]},
            "mode_normalisation": "Cartesian displacement d = M^-1/2 q, sum_i |d_i|^2 = 1",
        },
        "versions": {
            "pyscf": pyscf.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "python": platform.python_version(),
        },
        "units": {"positions": "angstrom (centre of mass at origin)", "frequency": "cm^-1"},
        "numbers": z.tolist(),
        "positions": pos_ang.round(10).tolist(),
        "energy_hartree": float(mf.e_tot),
        "r_OH_angstrom": roh.round(6).tolist(),
        "angle_HOH_deg": round(float(angle), 4),
        "modes": {k: modes[k] for k in ("sym", "bend", "asym")},
    }
    text = json.dumps(out, indent=1) + "\n"
    for path, content in (
        (OUTPUT, text),
        (
            OUTPUT.with_suffix(".json.sha256"),
            hashlib.sha256(text.encode()).hexdigest() + "  h2o_modes.json\n",
        ),
    ):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(content)
        os.replace(tmp, path)
    for name, m in out["modes"].items():
        print(f"{name:5s} {m['irrep']}  {m['frequency_cm-1']:8.1f} cm^-1", file=sys.stderr)
    print(f"r(OH) = {roh.round(4)} A, angle = {angle:.2f} deg", file=sys.stderr)


if __name__ == "__main__":
    main()
