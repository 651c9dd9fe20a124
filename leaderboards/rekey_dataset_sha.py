"""Re-key committed rows from the bit-exact dataset hash to the CPU-independent one.

Until 2026-12-04 ``sbbench.leaderboard.dataset_sha256`` hashed the raw float32 bytes of
every sample, and the h2o_modes pins came out different on an AVX-512 machine than on
the one that made them (OpenBLAS kernels; the detector listed the operations in another
order). The hash now rounds floats to a 1e-6 grid and hashes the symmetry annotation as
a set (see its docstring). The data did not change, only their hash: this script maps
each old pin to the new pin of the same (dataset, version, options) and rewrites the
``dataset_sha256`` cells of leaderboards/*.csv (atomically). A row's ``content_hash``
still names the results file it was made from, which carried the old hash.

    python leaderboards/rekey_dataset_sha.py OLD_PINS_REV   # e.g. 5a6dca0

then regenerate the generated pages (``sbbench leaderboard --update-docs`` or
``sbbench.leaderboard._docs.update_all``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINS_FILE = "sbbench/results/_pins.py"
#: where the pins were before sbbench.results existed (issue 18 item 14)
OLD_PINS_FILE = "sbbench/leaderboard/_pins.py"


def _pins_at(rev: str) -> dict:
    for path in (PINS_FILE, OLD_PINS_FILE):
        shown = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True
        )
        if shown.returncode == 0:
            break
    else:
        raise SystemExit(f"{rev}: neither {PINS_FILE} nor {OLD_PINS_FILE} exists there")
    text = shown.stdout
    scope: dict = {}
    exec(compile(text, f"{rev}:{path}", "exec"), scope)  # a generated literal
    return scope["PINS"]


def mapping(old: dict, new: dict) -> dict[str, str]:
    """old sha -> new sha for every (dataset, version, options) pinned in both."""
    out = {}
    for name, versions in old.items():
        for version, pins in versions.items():
            for key, sha in pins.items():
                if key in new.get(name, {}).get(version, {}):
                    out[sha] = new[name][version][key]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("rev", help="git revision whose _pins.py holds the old hashes")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from sbbench._io import atomic_write_text
    from sbbench.results._pins import PINS

    table = mapping(_pins_at(args.rev), PINS)
    for csv_file in sorted((ROOT / "leaderboards").glob("*.csv")):
        text = csv_file.read_text(encoding="utf-8")
        new = text
        for old_sha, new_sha in table.items():
            new = new.replace(old_sha, new_sha)
        if new != text:
            atomic_write_text(csv_file, new)
            print(f"{csv_file.name}: re-keyed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
