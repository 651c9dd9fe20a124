"""Generate version 2 of the QM7-X-style reference set (NOT the official QM7-X data).

Made the way QM7-X was made (Hoja et al., Sci. Data 8, 43 (2021)), with open
tools that run on two cores (``pip install sbbench[reference]``):

Molecules
    ``molecules_v2.csv`` (made by ``enumerate_molecules.py``: every molecule
    with 1-5 heavy atoms from C, N, O, S, Cl under GDB13-like rules).
Stage ``modes`` (every molecule, about a second each)
    ETKDG + MMFF94 geometries from ``--n-embed`` seeds (RDKit), each optimised
    with GFN2-xTB (tblite, the stand-in for QM7-X's DFTB3+MBD); the lowest
    minimum is kept (a saddle point -- a mode below -50 cm^-1 -- is pushed
    along that mode and re-optimised). Then its GFN2-xTB normal modes and its
    point group at the curation tolerance (0.2 Å). One ``modes/mNNNN.npz``
    per molecule.
Stage ``run`` (molecules whose minimum is not C1, in list order)
    ``--n-conf`` conformers per molecule: ``-opt`` (the minimum) and
    ``--n-conf - 1`` normal-mode-sampled structures at ``--temperature`` K
    (ANI-1 scheme, :func:`sbbench.qchem.sample_displacement`), then
    PBE0/def2-SVP (PySCF, density fitting) and Hirshfeld charges and atomic
    dipoles (:mod:`sbbench.qchem`). Every conformer is then put in its own
    seeded random orientation: a uniformly random rotation R about the centre
    of mass, applied to the positions and to the atomic and molecular dipoles
    (polar vectors, so they rotate with the molecule) and recorded as
    ``rotation`` in the work file. The SCF runs in the unrotated frame so that
    one conformer's density matrix seeds the next (about 3x fewer SCF
    cycles); rotating afterwards differs from computing in the rotated frame
    only by the DFT grid's orientation error (< 5e-4 e·bohr, tested). One
    ``conf/mNNNN_cKKK.npz`` per conformer; a molecule's conformers run
    together, so a partial run is a set of complete molecules.
Restarts
    Every work file is written to a temporary file and renamed; finished
    files are skipped, so ``run`` can be killed and restarted at any time.
    The settings of a work folder are fixed in ``settings.json``. The work
    folder is tracked by git (compressed ``.npz``, a few kB per conformer; a
    C1 molecule keeps only its summary, not its modes), so a generation that
    takes longer than one machine's lifetime is committed as it goes and
    resumed from a fresh clone.
``assemble``
    Writes ``reference_v2.hdf5`` in the official QM7-X layout (atomically),
    its ``.sha256`` and the card's numbers.

Usage::

    OMP_NUM_THREADS=1 nohup python datasets/qm7x/make_reference_v2.py modes &
    OMP_NUM_THREADS=1 nohup python datasets/qm7x/make_reference_v2.py run &
    python datasets/qm7x/make_reference_v2.py status
    python datasets/qm7x/make_reference_v2.py assemble
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE / "work_v2"
DEFAULT_OUT = HERE / "reference_v2.hdf5"
MOLECULES = HERE / "molecules_v2.csv"
TOL = 0.2  # Å, the curation tolerance of SANN App. C.2


def read_molecules(path: Path = MOLECULES) -> list[str]:
    """Canonical SMILES of the molecule list, in file order (molecule i+1 is row i)."""
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    return [row["smiles"] for row in csv.DictReader(lines)]


def _savez(path: Path, **arrays) -> None:
    from sbbench._io import atomic_write_bytes

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _bar(total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="mol", smoothing=0.05, dynamic_ncols=True)


def _settings(work: Path, settings: dict) -> None:
    f = work / "settings.json"
    if f.exists():
        old = json.loads(f.read_text())
        clash = {k: (old[k], v) for k, v in settings.items() if k in old and old[k] != v}
        if clash:
            raise SystemExit(f"work folder {work} was made with other settings: {clash}")
        settings = {**old, **settings}
    from sbbench._io import atomic_write_bytes

    atomic_write_bytes(f, json.dumps(settings, indent=1).encode())


def xtb_minimum(smiles: str, seed: int, n_embed: int):
    """Lowest GFN2-xTB minimum over ``n_embed`` ETKDG seeds: (numbers, pos Å, E Eh, modes)."""
    from sbbench.qchem import embed, normal_modes, optimize

    best = None
    for s in range(n_embed):
        numbers, pos = embed(smiles, seed=1000 * seed + s)
        pos, energy = optimize(numbers, pos)
        if best is None or energy < best[2] - 1e-7:
            best = (numbers, pos, energy)
    numbers, pos, energy = best
    for _ in range(5):
        modes = normal_modes(numbers, pos)
        if modes.wavenumbers[0] > -50.0:
            return numbers, pos, energy, modes
        push = 0.1 * modes.vectors[0]  # Å, off the saddle along the imaginary mode
        pos, energy = optimize(numbers, pos + push)
    raise RuntimeError(f"{smiles}: GFN2-xTB keeps returning a saddle point")


def cmd_modes(args) -> int:
    from sbbench.symmetry import detect

    work = Path(args.work)
    (work / "modes").mkdir(parents=True, exist_ok=True)
    _settings(work, {"seed": args.seed, "n_embed": args.n_embed, "xtb": "GFN2-xTB"})
    smiles = read_molecules(Path(args.molecules))
    todo = [i for i in range(len(smiles)) if not (work / "modes" / f"m{i + 1:04d}.npz").exists()]
    bar = _bar(len(smiles), "xTB minima + modes")
    bar.update(len(smiles) - len(todo))
    for i in todo:
        out = work / "modes" / f"m{i + 1:04d}.npz"
        t0 = time.time()
        try:
            numbers, pos, energy, modes = xtb_minimum(smiles[i], args.seed, args.n_embed)
        except (ValueError, RuntimeError) as exc:
            _savez(out, smiles=np.array(smiles[i]), error=np.array(str(exc)))
            bar.write(f"m{i + 1:04d} {smiles[i]}: skipped ({exc})")
            bar.update()
            continue
        pg = detect(pos, numbers, tol=TOL)
        summary = {
            "smiles": np.array(smiles[i]),
            "numbers": numbers,
            "positions": pos,
            "energy_hartree": np.array(energy),
            "wavenumbers": modes.wavenumbers,
            "point_group": np.array(pg.schoenflies),
            "order": np.array(pg.order),
            "seconds": np.array(time.time() - t0),
        }
        if pg.order > 1:  # only molecules that go to DFT need their modes (sampling)
            summary.update(mode_vectors=modes.vectors, force_constants=modes.force_constants)
        _savez(out, **summary)
        bar.update()
    bar.close()
    return 0


def conformer_positions(mode_file, k: int, seed: int, temperature: float):
    """(positions Å centred on the centre of mass, rotation R) of conformer k
    (k = 0: the minimum); the served positions are ``positions @ R.T``."""
    from ase.data import atomic_masses

    from sbbench.datasets._rotation import random_rotation
    from sbbench.qchem import NormalModes, sample_displacement

    d = np.load(mode_file)
    numbers, pos = d["numbers"], d["positions"]
    idmol = int(Path(mode_file).stem[1:])
    rng = np.random.default_rng([seed, idmol, k])
    if k > 0:
        modes = NormalModes(d["mode_vectors"], d["force_constants"], d["wavenumbers"])
        pos = pos + sample_displacement(modes, len(numbers), temperature, rng)
    masses = atomic_masses[numbers]
    centre = masses @ pos / masses.sum()
    return pos - centre, random_rotation(rng)


def selected(work: Path) -> list[Path]:
    """Mode files of the molecules that go to DFT: xTB minimum not C1 at 0.2 Å."""
    out = []
    for f in sorted((work / "modes").glob("m*.npz")):
        d = np.load(f)
        if "error" not in d and int(d["order"]) > 1:
            out.append(f)
    return out


def cmd_run(args) -> int:
    from sbbench.qchem import pbe0_hirshfeld

    work = Path(args.work)
    (work / "conf").mkdir(parents=True, exist_ok=True)
    settings = {
        "xc": "PBE0",
        "basis": args.basis,
        "grid_level": args.grid_level,
        "density_fit": True,
        "temperature_K": args.temperature,
        "seed": args.seed,
    }
    _settings(work, settings)
    deadline = time.time() + 60 * args.max_minutes if args.max_minutes else None
    part, of = (int(x) for x in args.shard.split("/")) if args.shard else (0, 1)
    bar = _bar(0, f"PBE0 x {args.n_conf} conformers")
    done: set[Path] = set()
    while True:
        # re-read the selection after every molecule: a ``modes`` stage still running
        # appends molecules to it (in list order, so the shards stay stable)
        mols = selected(work)[part::of]
        bar.total = len(mols)
        todo = [m for m in mols if m not in done]
        if not todo:
            break
        mode_file = todo[0]
        done.add(mode_file)
        idmol = int(mode_file.stem[1:])
        files = [work / "conf" / f"m{idmol:04d}_c{k:03d}.npz" for k in range(args.n_conf)]
        if all(f.exists() for f in files):
            bar.update()
            continue
        if deadline is not None and time.time() > deadline:
            bar.write(f"stopping: --max-minutes {args.max_minutes} reached")
            break
        numbers = np.load(mode_file)["numbers"]
        dm = None
        for k, out in enumerate(files):
            if out.exists():
                continue
            pos, rot = conformer_positions(mode_file, k, args.seed, args.temperature)
            t0 = time.time()
            res, dm_new = pbe0_hirshfeld(
                numbers, pos, basis=args.basis, grid_level=args.grid_level,
                dm0=dm, return_dm=True,
            )  # fmt: skip
            if not res.converged:
                bar.write(f"m{idmol:04d} c{k:03d}: SCF not converged, skipped")
                continue
            dm = dm_new
            _savez(
                out,
                numbers=res.numbers,
                positions=res.positions @ rot.T,
                rotation=rot,
                hCHG=res.hirshfeld_charges,
                hVDIP=res.atomic_dipoles @ rot.T,
                dipole_au=res.dipole @ rot.T,
                energy_hartree=np.array(res.energy),
                n_electrons_grid=np.array(res.n_electrons_grid),
                seconds=np.array(time.time() - t0),
            )
        bar.update()
    bar.close()
    return 0


def cmd_status(args) -> int:
    work = Path(args.work)
    modes = sorted((work / "modes").glob("m*.npz"))
    n_err = sum("error" in np.load(f) for f in modes)
    sel = selected(work) if modes else []
    confs = sorted((work / "conf").glob("m*_c*.npz"))
    secs = [float(np.load(f)["seconds"]) for f in confs]
    per_mol: dict[str, int] = {}
    for f in confs:
        per_mol[f.name[:5]] = per_mol.get(f.name[:5], 0) + 1
    print(f"modes: {len(modes)} molecules done ({n_err} skipped), {len(sel)} not C1 at {TOL} Å")
    print(f"conformers: {len(confs)} of {len(per_mol)} molecules")
    if secs:
        print(f"PBE0: mean {np.mean(secs):.1f} s/conformer, {sum(secs) / 3600:.2f} CPU h so far")
    return 0


def cmd_assemble(args) -> int:
    import datetime as _dt
    import hashlib

    import h5py
    import pyscf

    import sbbench
    from sbbench._io import atomic_write_bytes
    from sbbench.datasets.qm7x import conformer_name, write_qm7x_file
    from sbbench.qchem import ANGSTROM_PER_BOHR, EV_PER_HARTREE

    work = Path(args.work)
    settings = json.loads((work / "settings.json").read_text())
    confs = sorted((work / "conf").glob("m*_c*.npz"))
    by_mol: dict[int, list[Path]] = {}
    for f in confs:
        by_mol.setdefault(int(f.name[1:5]), []).append(f)
    molecules, smiles = {}, {}
    for idmol, files in sorted(by_mol.items()):
        if len(files) < args.min_conf:
            print(f"m{idmol:04d}: {len(files)} conformers < --min-conf {args.min_conf}, left out")
            continue
        smiles[str(idmol)] = str(np.load(work / "modes" / f"m{idmol:04d}.npz")["smiles"])
        group = {}
        for f in files:
            k = int(f.stem.split("_c")[1])
            d = np.load(f)
            group[conformer_name(idmol, step="opt" if k == 0 else k)] = {
                "atNUM": d["numbers"].astype(np.int32),
                "atXYZ": d["positions"],
                "hCHG": d["hCHG"],
                "hVDIP": d["hVDIP"],
                "vDIP": d["dipole_au"] * ANGSTROM_PER_BOHR,
                "ePBE0": np.array([float(d["energy_hartree"]) * EV_PER_HARTREE]),
                "sbROT": d["rotation"],
            }
        molecules[str(idmol)] = group
    cpu_h = sum(float(np.load(f)["seconds"]) for f in confs) / 3600
    mode_files = sorted((work / "modes").glob("m*.npz"))
    cpu_h += sum(float(np.load(f)["seconds"]) for f in mode_files if "seconds" in np.load(f)) / 3600
    attrs = {
        "title": "sbbench QM7-X-style reference set v2 (NOT the official QM7-X data)",
        "reference_version": "2",
        "method": f"{settings['xc']} (RKS, density fitting), Hirshfeld partitioning by sbbench",
        "basis": settings["basis"],
        "grid_level": str(settings["grid_level"]),
        "free_atoms": "neutral, spin-polarised UKS with the same functional and basis, "
        "spherically averaged (302-point Lebedev, 8000 log-spaced radii)",
        "geometries": "molecules_v2.csv; ETKDG + MMFF94 (RDKit) -> GFN2-xTB minimum (tblite); "
        f"GFN2-xTB normal-mode sampling at {settings['temperature_K']} K; random orientation "
        "per conformer (sbROT: atXYZ = R (x - x_com)); see README",
        "units": json.dumps(
            {
                "atXYZ": "angstrom",
                "hVDIP": "e*bohr",
                "hCHG": "e",
                "vDIP": "e*angstrom",
                "ePBE0": "eV",
            }
        ),
        "molecule_smiles": json.dumps(smiles),
        "cpu_hours": f"{cpu_h:.2f}",
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
    atomic_write_bytes(out.with_suffix(".sha256"), f"{digest}  {out.name}\n".encode())
    n_conf = sum(len(c) for c in molecules.values())
    print(f"wrote {out} ({len(molecules)} molecules, {n_conf} conformers), sha256 {digest}")
    if args.card:
        sys.path.insert(0, str(HERE))
        from make_reference import card_markers, write_card_numbers

        write_card_numbers(
            out,
            Path(args.card),
            card_markers("numbers-v2", "make_reference_v2.py"),
            load_call='sd.load("qm7x", source="reference")',
            extra=lambda curated: _subset_lines(curated, cpu_h),
        )
    return 0


def _subset_lines(curated: Path, cpu_h: float) -> list[str]:
    """Card lines on the symmetry-breaking subset: elements, heavy atoms, S/Cl, CPU time."""
    import h5py

    from sbbench.datasets.qm7x import iter_conformers
    from sbbench.symmetry import detect

    elements: set[int] = set()
    heavy: dict[str, int] = {}
    s_or_cl: set[str] = set()
    groups: dict[str, str] = {}
    for c in iter_conformers(curated):
        elements |= set(int(z) for z in c.numbers)
        heavy[c.idmol] = int((c.numbers > 1).sum())
        if np.isin(c.numbers, (16, 17)).any():
            s_or_cl.add(c.idmol)
        if c.idconf.endswith("-opt"):
            groups[c.idmol] = detect(c.positions, c.numbers, tol=TOL).schoenflies
    with h5py.File(curated, "r") as f:
        per_mol = [len(f[k]) for k in f]
    from ase.data import chemical_symbols

    n_heavy, n_group = Counter(heavy.values()), Counter(groups.values())
    hist = ", ".join(f"{n}: {n_heavy[n]}" for n in sorted(n_heavy))
    pg = ", ".join(f"{g} {n}" for g, n in sorted(n_group.items(), key=lambda gn: (-gn[1], gn[0])))
    names = ", ".join(chemical_symbols[z] for z in sorted(elements))
    n_conf = str(min(per_mol)) if min(per_mol) == max(per_mol) else f"{min(per_mol)}-{max(per_mol)}"
    return [
        f"* Symmetry-breaking subset: elements {names}; heavy atoms per molecule (count of "
        f"molecules) {hist}; {len(s_or_cl)} molecules with S or Cl; {n_conf} conformers per "
        f"molecule; `-opt` point groups: {pg}.",
        f"* Generation: {cpu_h:.1f} CPU hours (GFN2-xTB stage and PBE0 + Hirshfeld, one "
        "core each).",
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("modes", help="GFN2-xTB minimum, modes and point group of every molecule")
    m.add_argument("--n-embed", type=int, default=5, help="ETKDG seeds per molecule")
    m.add_argument("--molecules", default=str(MOLECULES), help="CSV with a 'smiles' column")
    r = sub.add_parser("run", help="PBE0 + Hirshfeld conformers (restartable)")
    r.add_argument("--n-conf", type=int, default=10, help="conformers per molecule incl. -opt")
    r.add_argument("--temperature", type=float, default=1500.0, help="normal-mode sampling, K")
    r.add_argument("--basis", default="def2-SVP")
    r.add_argument("--grid-level", type=int, default=2)
    r.add_argument("--shard", default="", help="'i/n': molecules i, i+n, ... (parallel runs)")
    r.add_argument("--max-minutes", type=float, default=None, help="stop after this long")
    s = sub.add_parser("status", help="count finished work")
    a = sub.add_parser("assemble", help="write reference_v2.hdf5 and its sha256")
    a.add_argument("--out", default=str(DEFAULT_OUT))
    a.add_argument("--min-conf", type=int, default=8, help="leave out molecules with fewer")
    a.add_argument(
        "--card",
        default=str(HERE / "README.md"),
        help="data card whose numbers-v2 block is rewritten (default: this folder's README.md)",
    )
    a.add_argument("--no-card", dest="card", action="store_const", const="", help="no card")
    for q in (m, r, s, a):
        q.add_argument("--work", default=str(DEFAULT_WORK), help="work folder")
        q.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    commands = {"modes": cmd_modes, "run": cmd_run, "status": cmd_status, "assemble": cmd_assemble}
    return commands[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
