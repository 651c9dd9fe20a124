"""`import sbbench.metrics` must stay light enough for other projects to depend on."""

import subprocess
import sys


def test_metrics_import_pulls_no_heavy_deps():
    code = (
        "import sys, sbbench.metrics\n"
        "heavy = [m for m in ('torch_geometric', 'e3nn', 'ase', 'h5py', 'sbbench.models',"
        " 'sbbench.datasets') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
