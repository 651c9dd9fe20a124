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


def run(args: argparse.Namespace) -> int:
    from sbbench.symmetry import (
        detect,
        equivalence_classes,
        parse_sweep,
        point_group_report,
        schoenflies,
        sweep_report,
        tolerance_sweep,
    )

    atoms = _read(args.file, args.index, args.format)
    symbols = atoms.get_chemical_symbols()
    pos, numbers = atoms.get_positions(), atoms.get_atomic_numbers()
    # a cold numba cache announces itself when compiling starts (symmetry._kernels), once
    if args.sweep is not None:
        try:
            tolerances = parse_sweep(args.sweep, name="--sweep")
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        points = tolerance_sweep(pos, numbers, tolerances)
        if args.json:
            print(json.dumps(sweep_report(points, file=str(args.file)), indent=1))
            return 0
        print(f"{args.file}: {atoms.get_chemical_formula()} ({len(atoms)} atoms)")
        width = max(6, *(len(p.label or "") for p in points))
        print(f"{'tol/Å':>8}  {'group':<{width}} {'order':>5}")
        previous = None
        for p in points:
            group = p.label or "error"
            mark = "  <- changes" if previous is not None and group != previous else ""
            order = "" if p.order is None else p.order
            print(f"{p.tol:>8.3f}  {group:<{width}} {order:>5}{mark}")
            previous = group
        return 0

    pg = detect(pos, numbers, tol=args.tol)
    if args.json:
        about = {
            "file": str(args.file),
            "formula": atoms.get_chemical_formula(),
            "n_atoms": len(atoms),
        }
        print(json.dumps(point_group_report(pg, symbols, **about), indent=1))
        return 0
    classes = equivalence_classes(pg, symbols)
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
