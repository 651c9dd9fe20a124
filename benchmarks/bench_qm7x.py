"""QM7-X curation throughput (SANN App. C.2) and the projected full-scan time.

Runs :func:`sbbench.datasets.qm7x.curate` (streaming read + ``detect`` at 0.2 Å
+ dipole-field ``stabilizer`` + write) on a QM7-X-layout file, default the
shipped reference set, and in the same run the named baseline *read-only
scan* (the same HDF5 reads with the same validation, no symmetry work). Prints
conformers per second for both, their ratio (the cost of the symmetry analysis
over plain I/O) and the projected time to analyse all 4.2 M official
conformers on one core at the measured rate.

Reading the projection: with ``--max-heavy 5`` (the paper's setting) only the
molecules with <= 5 heavy atoms are analysed, the rest are skipped after one
small ``atNUM`` read, so the real curation scan is far shorter. Analysing all
conformers (e.g. ``--max-heavy 7``) costs more than projected, since 6-7 heavy
atom molecules are larger than the reference set's.

Usage: python benchmarks/bench_qm7x.py [--file PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sbbench.datasets.qm7x import curate, iter_conformers, reference_file

QM7X_CONFORMERS = 4_195_237  # conformers in QM7-X (Hoja et al., Sci. Data 2021)


def read_only(path: Path) -> int:
    return sum(1 for _ in iter_conformers(path))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--file", type=Path, default=None, help="QM7-X-layout file (default: shipped)")
    p.add_argument("--repeat", type=int, default=3, help="repetitions (best time is reported)")
    args = p.parse_args()
    path = args.file or reference_file()
    t_read, t_cur, n = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            n = read_only(path)
            t_read.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            res = curate([path], Path(tmp) / "c.hdf5", progress=False)
            t_cur.append(time.perf_counter() - t0)
    read_rate, cur_rate = n / min(t_read), res.conformers_scanned / min(t_cur)
    hours = QM7X_CONFORMERS / cur_rate / 3600
    print(f"file: {path} ({n} conformers)")
    print(f"baseline read-only scan : {read_rate:10.0f} conformers/s")
    print(f"curate (detect+stabilize): {cur_rate:10.0f} conformers/s")
    print(f"ratio curate/read time   : {read_rate / cur_rate:10.1f}x")
    print(
        f"projected full QM7-X scan ({QM7X_CONFORMERS:,} conformers): "
        f"{hours:.2f} h on 1 core at this rate (see docstring)"
    )
    print(f"curation kept {res.molecules_kept} molecules / {res.conformers_kept} conformers")


if __name__ == "__main__":
    main()
