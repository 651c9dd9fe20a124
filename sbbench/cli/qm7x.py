"""QM7-X tools: symmetry-breaking curation of the official files (SANN App. C.2).

'curate' keeps every molecule with at most --max-heavy heavy atoms of which at
least one conformer has a Hirshfeld dipole field (hVDIP) with lower symmetry
than its structure (detected at --tol Å), together with all its other
conformers, drops the duplicates listed in DupMols.dat, and writes them with
provenance to curated.hdf5 in the data folder. From then on the qm7x dataset
(sbbench run --dataset qm7x, sbbench curie qm7x) reads that file; until then it
uses the shipped reference set (datasets/qm7x/reference_v2.hdf5, computed by
sbbench, not the official data; --reference-version 1 for the old
reference.hdf5).

The data folder is $SBBENCH_DATA/qm7x, or ~/.cache/sbbench/data/qm7x when
SBBENCH_DATA is unset; 'sbbench fetch qm7x' puts the official files there.

Examples:
  sbbench qm7x curate                               # the data folder's NNNN.hdf5
  sbbench qm7x curate --src /data/qm7x --max-heavy 5 --tol 0.2
  sbbench qm7x curate --reference --out ref.hdf5    # the shipped reference set
  sbbench qm7x curate --reference --reference-version 1 --out ref1.hdf5
  sbbench qm7x curate --src 1000.hdf5 --out c.hdf5  # one file, no DupMols
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sbbench.cli import CLIError

HELP = "QM7-X tools: 'curate' the symmetry-breaking subset (SANN App. C.2)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = sub.add_parser(
        "curate",
        help="write the symmetry-breaking subset",
        description="Write the symmetry-breaking subset of the official QM7-X files to "
        "curated.hdf5 (see 'sbbench qm7x --help').",
    )
    c.add_argument(
        "--src",
        default=None,
        help="folder of NNNN.hdf5 + DupMols.dat, or one QM7-X-layout file "
        "(default: $SBBENCH_DATA/qm7x, else ~/.cache/sbbench/data/qm7x)",
    )
    c.add_argument(
        "--reference", action="store_true", help="curate the shipped reference set instead"
    )
    c.add_argument(
        "--reference-version",
        type=int,
        default=None,
        help="with --reference: which version (default: the served one, 2)",
    )
    c.add_argument("--out", default=None, help="output file (default: SRC/curated.hdf5)")
    c.add_argument("--max-heavy", type=int, default=5, help="max heavy atoms (default: 5)")
    c.add_argument("--tol", type=float, default=0.2, help="structure tolerance, Å (default 0.2)")
    c.add_argument(
        "--dipole-tol",
        type=float,
        default=0.01,
        help="dipole-field tolerance, e·bohr (default 0.01)",
    )
    c.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from sbbench.datasets.qm7x import REFERENCE_VERSION, curate, curation_sources

    if args.reference_version is not None and not args.reference:
        raise CLIError("--reference-version needs --reference")
    version = args.reference_version if args.reference_version is not None else REFERENCE_VERSION
    try:
        sources = curation_sources(args.src, reference=args.reference, reference_version=version)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None
    if args.out is None and sources.default_output is None:
        raise CLIError("curating a single file needs --out")
    out = Path(args.out) if args.out else sources.default_output
    result = curate(
        sources.files,
        out,
        max_heavy=args.max_heavy,
        tol=args.tol,
        dipole_tol=args.dipole_tol,
        dupmols=sources.dupmols,
        progress=not args.no_progress,
    )
    print(result.summary())
    return 0
