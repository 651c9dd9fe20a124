"""Download official dataset files (QM7-X from Zenodo record 4288677).

Downloads resume where they stopped, every archive is checked against its
published MD5, and ``.xz`` archives are decompressed streaming to a temporary
file that is renamed only when complete: a file that exists is a valid file.

Examples
--------
  sbbench fetch qm7x                           # all 8 files + DupMols.dat to $SBBENCH_DATA/qm7x
  sbbench fetch qm7x --files 1000,DupMols      # just these
  sbbench fetch qm7x --dest /data/qm7x --keep-archives
  sbbench fetch qm7x --url-base http://mirror.example.org/qm7x
"""

from __future__ import annotations

import argparse

from sbbench.cli import CLIError

HELP = "download official dataset files (qm7x), resumable and checksum-verified"

DATASETS = ("qm7x",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help=f"dataset to fetch ({', '.join(DATASETS)})")
    parser.add_argument(
        "--dest", default=None, help="destination folder (default: $SBBENCH_DATA/qm7x)"
    )
    parser.add_argument(
        "--files",
        default=None,
        help="comma-separated subset of 1000,...,8000,DupMols (default: all)",
    )
    parser.add_argument("--url-base", default=None, help="base URL (default: the Zenodo record)")
    parser.add_argument(
        "--keep-archives", action="store_true", help="keep the verified .xz archives"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    if args.dataset not in DATASETS:
        raise CLIError(f"unknown dataset {args.dataset!r} to fetch; valid: {', '.join(DATASETS)}")
    from sbbench.datasets.qm7x import OFFICIAL_URL_BASE, default_data_dir, fetch

    dest = args.dest or default_data_dir()
    paths = fetch(
        dest,
        args.files,
        url_base=args.url_base or OFFICIAL_URL_BASE,
        keep_archives=args.keep_archives,
        progress=not args.no_progress,
    )
    for p in paths:
        print(p)
    return 0
