"""Generate the shipped QM7-X-style reference set (NOT the official QM7-X data).

Computes PBE0 Hirshfeld charges and atomic dipoles with PySCF
(:mod:`sbbench.qchem`) for small closed-shell C/N/O/H molecules (<= 5 heavy
atoms) and randomly displaced conformers of them, and writes them in the exact
official QM7-X HDF5 layout so that the same loader reads both.

Molecules
    Every closed-shell G2 molecule of ``ase.collections.g2`` made of H, C, N, O
    with 1-5 heavy atoms, except singlet methylene (``CH2_s1A1d``, a carbene)
    and ozone (multireference), plus neopentane (built here with ideal Td
    geometry, C-C 1.53 Å, C-H 1.09 Å, tetrahedral angles). Geometries are the
    G2 ones (MP2/6-31G* minima) and are *not* re-optimised at PBE0: the
    ``-opt`` conformer is the G2 geometry.
Conformers
    ``Geom-m<i>-i1-c1-opt`` is the G2 geometry; ``Geom-m<i>-i1-c1-<k>`` (k >= 1)
    adds a random Cartesian displacement (Gaussian, centre of mass kept, rms per
    atom cycling through 0.01, 0.02, 0.04, 0.07, 0.10 Å; seeded by
    ``(seed, molecule, k)``). Most stay symmetric within the 0.2 Å detection
    tolerance while their electron density is not, which is the symmetry
    breaking the benchmark is about.
Order and restarts
    Work proceeds round-robin: all ``-opt`` conformers first, then conformer 1
    of every molecule, and so on, so a partial run is a valid, balanced set.
    Each finished conformer is one small ``.npz`` in the work folder (written to
    a temporary file and renamed); finished ones are skipped on restart.
    ``assemble`` writes the HDF5 file atomically and its sha256.

Usage::

    OMP_NUM_THREADS=1 nohup nice -n 10 python datasets/qm7x/make_reference.py run \
        --n-conf 10 > datasets/qm7x/work/run.log 2>&1 &
    python datasets/qm7x/make_reference.py status
    python datasets/qm7x/make_reference.py assemble
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE / "work"
DEFAULT_OUT = HERE / "reference.hdf5"
AMPLITUDES = (0.01, 0.02, 0.04, 0.07, 0.10)  # rms displacement per atom, Å
EXCLUDED = {"CH2_s1A1d", "O3"}


def neopentane():
    """Neopentane C(CH3)4 with exact Td symmetry (ase.Atoms)."""
    from ase import Atoms

    u = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3)
    symbols, pos = ["C"], [np.zeros(3)]
    angle = np.deg2rad(180.0 - 109.4712)  # H-C-C tetrahedral
    for i, ui in enumerate(u):
        c = 1.53 * ui
        symbols.append("C")
        pos.append(c)
        for j, uj in enumerate(u):
            if j == i:
                continue
            perp = uj - (uj @ ui) * ui
            perp /= np.linalg.norm(perp)
            # staggered: each H anti to one of the other C-C bonds of the centre
            symbols.append("H")
            pos.append(c + 1.09 * (np.cos(angle) * ui - np.sin(angle) * perp))
    return Atoms(symbols, positions=np.array(pos))


def molecule_list():
    """[(name, ase.Atoms)] of the reference molecules, in a fixed order."""
    from ase.collections import g2

    mols = []
    for name in sorted(g2.names):
        atoms = g2[name]
        syms = set(atoms.get_chemical_symbols())
        heavy = int((atoms.numbers > 1).sum())
        if not syms <= {"H", "C", "N", "O"} or not 1 <= heavy <= 5 or name in EXCLUDED:
            continue
        if abs(atoms.get_initial_magnetic_moments()).sum() > 0 or atoms.numbers.sum() % 2:
            continue
        mols.append((name, atoms))
    mols.append(("neopentane", neopentane()))
    return mols


def displaced(atoms, mol_index: int, k: int, seed: int) -> np.ndarray:
    """Positions (Å) of conformer k (k=0: the G2 geometry)."""
    pos = atoms.positions.copy()
    if k == 0:
        return pos
    rng = np.random.default_rng([seed, mol_index, k])
    d = rng.normal(size=pos.shape)
    masses = atoms.get_masses()
    d -= (masses @ d) / masses.sum()
    rms = np.sqrt((d**2).sum(axis=1).mean())
    return pos + d * (AMPLITUDES[(k - 1) % len(AMPLITUDES)] / rms)


def work_file(work: Path, idmol: int, k: int) -> Path:
    return work / f"m{idmol:03d}_c{k:03d}.npz"


def _atomic_savez(path: Path, **arrays) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def cmd_run(args) -> int:
    from sbbench.qchem import pbe0_hirshfeld

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    settings = {
        "xc": "PBE0",
        "basis": args.basis,
        "grid_level": args.grid_level,
        "density_fit": True,
        "seed": args.seed,
    }
    settings_file = work / "settings.json"
    if settings_file.exists():
        old = json.loads(settings_file.read_text())
        if old != settings:
            print(f"work folder {work} was made with {old}, not {settings}", file=sys.stderr)
            return 2
    else:
        settings_file.write_text(json.dumps(settings, indent=1))
    mols = molecule_list()
    deadline = time.time() + 60 * args.max_minutes if args.max_minutes else None
    dms: dict[int, np.ndarray] = {}
    done = 0
    for k in range(args.n_conf):
        for i, (name, atoms) in enumerate(mols):
            idmol = i + 1
            out = work_file(work, idmol, k)
            if out.exists():
                continue
            if deadline is not None and time.time() > deadline:
                print(f"stopping: --max-minutes {args.max_minutes} reached", flush=True)
                return 0
            pos = displaced(atoms, i, k, args.seed)
            t0 = time.time()
            res, dm = pbe0_hirshfeld(
                atoms.numbers,
                pos,
                basis=args.basis,
                grid_level=args.grid_level,
                dm0=dms.get(idmol),
                return_dm=True,
            )
            dms[idmol] = dm
            dt = time.time() - t0
            if not res.converged:
                print(f"{name} conf {k}: SCF not converged, skipped", flush=True)
                continue
            _atomic_savez(
                out,
                name=np.array(name),
                numbers=res.numbers,
                positions=res.positions,
                hCHG=res.hirshfeld_charges,
                hVDIP=res.atomic_dipoles,
                dipole_au=res.dipole,
                energy_hartree=np.array(res.energy),
                n_electrons_grid=np.array(res.n_electrons_grid),
                seconds=np.array(dt),
            )
            done += 1
            print(f"{name:>22s} m{idmol:03d} c{k:03d} {dt:6.1f}s", flush=True)
    print(f"finished: {done} new conformers", flush=True)
    return 0


def _load_work(work: Path):
    return sorted(work.glob("m*_c*.npz"))


def cmd_status(args) -> int:
    files = _load_work(Path(args.work))
    n_mol = len({f.name[:4] for f in files})
    secs = [float(np.load(f)["seconds"]) for f in files]
    print(f"{len(files)} conformers of {n_mol} molecules done in {Path(args.work)}")
    if secs:
        print(f"mean {np.mean(secs):.1f} s/conformer, total {sum(secs) / 60:.1f} min of SCF")
    return 0


def cmd_assemble(args) -> int:
    import h5py
    import pyscf

    import sbbench
    from sbbench.datasets.qm7x import conformer_name, write_qm7x_file
    from sbbench.qchem import ANGSTROM_PER_BOHR, EV_PER_HARTREE

    work = Path(args.work)
    settings = json.loads((work / "settings.json").read_text())
    molecules: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for f in _load_work(work):
        idmol, k = int(f.name[1:4]), int(f.name[6:9])
        d = np.load(f)
        molecules.setdefault(str(idmol), {})[conformer_name(idmol, step="opt" if k == 0 else k)] = {
            "atNUM": d["numbers"].astype(np.int32),
            "atXYZ": d["positions"],
            "hCHG": d["hCHG"],
            "hVDIP": d["hVDIP"],
            "vDIP": d["dipole_au"] * ANGSTROM_PER_BOHR,
            "ePBE0": np.array([float(d["energy_hartree"]) * EV_PER_HARTREE]),
        }
    names = {str(int(f.name[1:4])): str(np.load(f)["name"]) for f in _load_work(work)}
    molecules = dict(sorted(molecules.items(), key=lambda kv: int(kv[0])))
    attrs = {
        "title": "sbbench QM7-X-style reference set (NOT the official QM7-X data)",
        "method": f"{settings['xc']} (RKS, density fitting), Hirshfeld partitioning by sbbench",
        "basis": settings["basis"],
        "grid_level": str(settings["grid_level"]),
        "free_atoms": "neutral, spin-polarised UKS with the same functional and basis, "
        "spherically averaged (302-point Lebedev)",
        "geometries": "G2 (ase.collections.g2) + random Cartesian displacements; see README",
        "units": json.dumps(
            {
                "atXYZ": "angstrom",
                "hVDIP": "e*bohr",
                "hCHG": "e",
                "vDIP": "e*angstrom",
                "ePBE0": "eV",
            }
        ),
        "molecule_names": json.dumps(names),
        "pyscf_version": pyscf.__version__,
        "sbbench_version": sbbench.__version__,
        "numpy_version": np.__version__,
        "h5py_version": h5py.__version__,
        "seed": str(settings["seed"]),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    out = Path(args.out)
    write_qm7x_file(out, molecules, attrs=attrs)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    sha = out.with_suffix(".sha256")
    fd, tmp = tempfile.mkstemp(dir=out.parent)
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{digest}  {out.name}\n")
    os.replace(tmp, sha)
    n_conf = sum(len(c) for c in molecules.values())
    print(f"wrote {out} ({len(molecules)} molecules, {n_conf} conformers), sha256 {digest}")
    if args.card:
        write_card_numbers(out, HERE / "README.md")
    return 0


def card_markers(tag: str = "numbers", script: str = "make_reference.py") -> tuple[str, str]:
    """The begin/end comments around a generated block of the data card."""
    return f"<!-- {tag}:begin (written by {script} assemble) -->", f"<!-- {tag}:end -->"


CARD_BEGIN, CARD_END = card_markers()


def card_numbers(
    path: Path,
    markers: tuple[str, str] = (CARD_BEGIN, CARD_END),
    load_call: str = 'sd.load("qm7x", source="reference", reference_version=1)',
    extra=None,
) -> str:
    """Markdown block of the set's key numbers (checked by tests/datasets/qm7x/test_card.py).

    ``extra``: optional callable taking the curated file's path and returning more lines
    (make_reference_v2.py adds the subset's elements and the CPU time).
    """
    import tempfile as _tf

    import h5py

    from sbbench.datasets.qm7x import curate, iter_conformers
    from sbbench.symmetry import detect

    with h5py.File(path, "r") as f:
        n_mol = len(f)
        basis, pyscf_version = f.attrs["basis"], f.attrs["pyscf_version"]
    n_conf, n_sym, n_opt, devs = 0, 0, 0, []
    for c in iter_conformers(path):
        n_conf += 1
        pg = detect(c.positions, c.numbers, tol=0.2)
        if c.idconf.endswith("-opt"):
            n_opt += 1
            continue
        if pg.order > 1:
            n_sym += 1
            rot = c.hvdip[None] @ pg.operations.transpose(0, 2, 1)
            dev = np.linalg.norm(rot - c.hvdip[pg.permutations], axis=-1).max()
            devs.append(dev)
    with _tf.TemporaryDirectory() as tmp:
        res = curate([path], Path(tmp) / "c.hdf5", progress=False)
        more = list(extra(Path(tmp) / "c.hdf5")) if extra is not None else []
    q = np.percentile(devs, [10, 50, 90]) if devs else [float("nan")] * 3
    return "\n".join(
        [
            markers[0],
            f"* File: `{path.name}`, PBE0/{basis}, PySCF {pyscf_version}.",
            f"* **{n_mol}** molecules, **{n_conf}** conformers "
            f"({n_opt} `-opt` + {n_conf - n_opt} displaced).",
            f"* Displaced conformers still symmetric at 0.2 Å (order > 1): **{n_sym}**; "
            f"their dipole-field asymmetry max_g,i |R_g mu_i - mu_g(i)| (e·bohr): "
            f"10/50/90 % = {q[0]:.4f} / {q[1]:.4f} / {q[2]:.4f}.",
            f"* Curation (tol 0.2 Å, dipole_tol 0.01 e·bohr): **{res.conformers_broken}** "
            f"symmetry-breaking conformers; kept **{res.molecules_kept}** molecules / "
            f"**{res.conformers_kept}** conformers (what `{load_call}` returns).",
            *more,
            markers[1],
        ]
    )


def write_card_numbers(
    h5: Path, card: Path, markers: tuple[str, str] = (CARD_BEGIN, CARD_END), **kwargs
) -> None:
    """Replace a numbers block of the data card (atomically); ``kwargs`` to :func:`card_numbers`."""
    text = card.read_text()
    begin, end = markers
    if begin not in text or end not in text:
        raise ValueError(f"{card}: numbers markers {begin!r} ... {end!r} not found")
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    new = head + card_numbers(h5, markers, **kwargs) + tail
    fd, tmp = tempfile.mkstemp(dir=card.parent)
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w") as fh:
        fh.write(new)
    os.replace(tmp, card)
    print(f"updated the numbers in {card}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="compute missing conformers (restartable)")
    r.add_argument("--n-conf", type=int, default=10, help="conformers per molecule incl. -opt")
    r.add_argument("--basis", default="def2-SVP")
    r.add_argument("--grid-level", type=int, default=3)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--max-minutes", type=float, default=None, help="stop after this long")
    s = sub.add_parser("status", help="count finished conformers")
    a = sub.add_parser("assemble", help="write the HDF5 file and its sha256")
    a.add_argument("--out", default=str(DEFAULT_OUT))
    a.add_argument(
        "--no-card", dest="card", action="store_false", help="do not update README.md numbers"
    )
    for q in (r, s, a):
        q.add_argument("--work", default=str(DEFAULT_WORK), help="folder of per-conformer .npz")
    args = p.parse_args(argv)
    return {"run": cmd_run, "status": cmd_status, "assemble": cmd_assemble}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
