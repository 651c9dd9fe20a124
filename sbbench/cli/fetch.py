"""Download official dataset files (QM7-X from Zenodo record 4288677).

Where the files go: --dest, by default $SBBENCH_DATA/qm7x, or
~/.cache/sbbench/data/qm7x when SBBENCH_DATA is unset. Each of 1000 ... 8000 is
downloaded as NNNN.xz.part, checked against its published MD5, and decompressed
to NNNN.hdf5 through a temporary file renamed only when complete (the archive is
deleted unless --keep-archives); DupMols.dat is stored as it is. A file that
exists there is complete and verified, and is not downloaded again.

When the download is impossible (no network, server error, wrong --url-base):
the command stops with a one-line error (exit code 2) and keeps what it has:
the files finished so far, and the partial NNNN.xz.part, which the next run
resumes. A checksum mismatch deletes the partial download. Without official
files nothing breaks: the qm7x dataset (sbbench run --dataset qm7x, sbbench
curie qm7x) uses the shipped reference set (datasets/qm7x/reference_v2.hdf5,
computed by sbbench, not the official data) until 'sbbench qm7x curate' has
written curated.hdf5 from the fetched files. Offline, copy the files from
elsewhere into the folder, or serve them and pass --url-base.

Examples:
  sbbench fetch qm7x                           # all 8 files + DupMols.dat
  sbbench fetch qm7x --files 1000,DupMols      # just these
  sbbench fetch qm7x --dest /data/qm7x --keep-archives
  sbbench fetch qm7x --url-base http://mirror.example.org/qm7x
  sbbench qm7x curate                          # then: the subset the dataset reads
"""

from __future__ import annotations

import argparse

from sbbench.cli import CLIError

HELP = "download official dataset files (qm7x), resumable and checksum-verified"

DATASETS = ("qm7x",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help=f"dataset to fetch ({', '.join(DATASETS)})")
    parser.add_argument(
        "--dest",
        default=None,
        help="destination folder (default: $SBBENCH_DATA/qm7x, else ~/.cache/sbbench/data/qm7x)",
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
