"""Point group, order and equivalence classes of a molecule in any file ASE reads.

Linear molecules have the infinite group C*v or D*h, a single atom Kh; the
detector returns a finite subgroup in their place (C8v, D8h, Oh), printed as
e.g. "D*h (as D8h)". Atoms closer than 0.5 Å (shorter than any bond) are an
error naming the two atoms: a duplicated atom or coordinates not in Å.

Examples:
  sbbench symmetry water.xyz                 # group, order, classes at tol = 0.1 Å
  sbbench symmetry water.xyz --tol 0.2 --json
  sbbench symmetry mol.xyz --sweep 0.01:0.5  # the group at each tolerance (step 0.01)
  sbbench symmetry mol.xyz --sweep 0.01:0.5:0.05
  sbbench symmetry traj.xyz --index 3        # the 4th frame of a trajectory
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sbbench.cli import CLIError

HELP = "print the point group, order and equivalence classes of a molecule file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="structure file (any format ASE reads)")
    parser.add_argument(
        "--tol", type=float, default=0.1, help="tolerance in Å (default: %(default)s)"
    )
    parser.add_argument("--index", type=int, default=0, help="frame of a multi-frame file")
    parser.add_argument("--format", default=None, help="ASE format name if not guessable")
    parser.add_argument("--json", action="store_true", help="print everything as JSON")
    parser.add_argument(
        "--sweep",
        metavar="START:STOP[:STEP]",
        default=None,
        help="detect at each tolerance from START to STOP Å (default STEP 0.01)",
    )


def _read(path: Path, index: int, fmt: str | None):
    if not path.is_file():
        raise CLIError(f"no such file: {path}")
    from ase.io import read

    try:
        atoms = read(str(path), index=index, format=fmt)
    except Exception as exc:  # ASE raises many types for unreadable files
        raise CLIError(f"cannot read {path} with ASE: {exc}") from None
    if len(atoms) == 0:
        raise CLIError(f"{path} contains no atoms")
    return atoms


def _parse_sweep(text: str) -> list[float]:
    parts = text.split(":")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise CLIError(f"--sweep must be START:STOP[:STEP] in Å, got {text!r}") from None
    if len(vals) not in (2, 3):
        raise CLIError(f"--sweep must be START:STOP[:STEP] in Å, got {text!r}")
    start, stop = vals[0], vals[1]
    step = vals[2] if len(vals) == 3 else 0.01
    if not (0 < start <= stop) or step <= 0:
        raise CLIError(f"--sweep needs 0 < START <= STOP and STEP > 0, got {text!r}")
    count = int(round((stop - start) / step)) + 1
    if count > 10_000:
        raise CLIError(f"--sweep {text!r} asks for {count} tolerances; use a larger STEP")
    return [round(start + k * step, 10) for k in range(count)]


def _classes(pg, symbols: list[str]) -> list[dict]:
    out = []
    for c in range(int(pg.orbits.max()) + 1):
        idx = [int(i) for i in (pg.orbits == c).nonzero()[0]]
        out.append({"element": symbols[idx[0]], "indices": idx})
    return out


def run(args: argparse.Namespace) -> int:
    from sbbench.symmetry import CloseAtomsError, detect, schoenflies

    atoms = _read(args.file, args.index, args.format)
    symbols = atoms.get_chemical_symbols()
    pos, numbers = atoms.get_positions(), atoms.get_atomic_numbers()
    # a cold numba cache announces itself when compiling starts (symmetry._kernels), once
    if args.sweep is not None:
        rows = []
        previous = None
        for tol in _parse_sweep(args.sweep):
            try:
                pg = detect(pos, numbers, tol=tol)
                row = {"tol": tol, "schoenflies": pg.schoenflies, "order": pg.order}
                row["label"] = pg.label
            except CloseAtomsError:
                raise  # bad input at every tolerance: one error, not a row per tolerance
            except ValueError as exc:
                row = {"tol": tol, "schoenflies": None, "order": None, "error": str(exc)}
            rows.append(row)
        if args.json:
            print(json.dumps({"file": str(args.file), "sweep": rows}, indent=1))
            return 0
        print(f"{args.file}: {atoms.get_chemical_formula()} ({len(atoms)} atoms)")
        width = max(6, *(len(row.get("label", "")) for row in rows))
        print(f"{'tol/Å':>8}  {'group':<{width}} {'order':>5}")
        for row in rows:
            group = row.get("label") or "error"
            mark = "  <- changes" if previous is not None and group != previous else ""
            order = "" if row["order"] is None else row["order"]
            print(f"{row['tol']:>8.3f}  {group:<{width}} {order:>5}{mark}")
            previous = group
        return 0

    pg = detect(pos, numbers, tol=args.tol)
    classes = _classes(pg, symbols)
    if args.json:
        _, rmsd = pg.symmetrize()
        doc = {
            "file": str(args.file),
            "formula": atoms.get_chemical_formula(),
            "n_atoms": len(atoms),
            "tol": args.tol,
            "schoenflies": pg.schoenflies,
            "label": pg.label,
            "order": pg.order,
            "is_infinite": pg.is_infinite,
            "centroid": pg.centroid.tolist(),
            "operations": pg.operations.tolist(),
            "permutations": pg.permutations.tolist(),
            "orbits": pg.orbits.tolist(),
            "classes": classes,
            "frame": pg.frame.tolist(),
            "symmetrize_rmsd": rmsd,
        }
        print(json.dumps(doc, indent=1))
        return 0
    note = ""
    if pg.is_infinite:
        finite = schoenflies(pg.operations)
        note = f" (of {finite}, the finite subgroup standing in for the infinite {pg.schoenflies})"
    print(f"{args.file}: {atoms.get_chemical_formula()} ({len(atoms)} atoms), tol {args.tol:g} Å")
    print(f"point group: {pg.label}")
    print(f"order: {pg.order}{note}")
    print(f"equivalence classes: {len(classes)}")
    for k, cls in enumerate(classes):
        print(f"  {k:>3}  {cls['element']:<2}  {' '.join(str(i) for i in cls['indices'])}")
    return 0
