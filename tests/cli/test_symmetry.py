"""``sbbench symmetry FILE [--tol] [--json] [--sweep START:STOP[:STEP]]``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import molecule
from ase.io import write

from sbbench.cli import main


@pytest.fixture
def ch3_files(tmp_path):
    nh3 = tmp_path / "nh3.xyz"
    write(nh3, molecule("NH3"))
    ch4 = tmp_path / "ch4.xyz"
    write(ch4, molecule("CH4"))
    return nh3, ch4


def test_text_output(ch3_files, capsys):
    nh3, _ = ch3_files
    assert main(["symmetry", str(nh3)]) == 0
    out = capsys.readouterr().out
    assert "point group: C3v" in out
    assert "order: 6" in out
    assert "equivalence classes: 2" in out
    assert "N   0" in out and "H   1 2 3" in out


def test_json_output(ch3_files, capsys):
    _, ch4 = ch3_files
    assert main(["symmetry", str(ch4), "--json", "--tol", "0.05"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schoenflies"] == "Td" and doc["order"] == 24 and doc["tol"] == 0.05
    ops = np.array(doc["operations"])
    assert ops.shape == (24, 3, 3) and np.allclose(ops[0], np.eye(3))
    assert np.array(doc["permutations"]).shape == (24, 5)
    assert doc["orbits"] == [0, 1, 1, 1, 1]
    assert doc["classes"] == [
        {"element": "C", "indices": [0]},
        {"element": "H", "indices": [1, 2, 3, 4]},
    ]
    frame = np.array(doc["frame"])
    assert np.allclose(frame @ frame.T, np.eye(3))


def test_sweep(tmp_path, capsys):
    # NH3 flattened towards planar: C3v at small tol, D3h once the pyramid height fits in tol
    nh3 = molecule("NH3")
    pos = nh3.positions.copy()
    pos[0, 2] = pos[1:, 2].mean() + 0.06
    path = tmp_path / "flat.xyz"
    write(path, nh3.__class__(nh3.numbers, positions=pos))
    assert main(["symmetry", str(path), "--sweep", "0.02:0.2:0.02"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [ln.split() for ln in lines[2:]]
    assert [r[0] for r in rows] == [f"{0.02 * k:.3f}" for k in range(1, 11)]
    assert rows[0][1] == "C3v" and rows[-1][1] == "D3h"
    assert sum("changes" in ln for ln in lines) == 1
    assert main(["symmetry", str(path), "--sweep", "0.02:0.2:0.02", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["schoenflies"] for r in doc["sweep"]][:1] == ["C3v"]


def test_sweep_reports_too_large_tolerance(tmp_path, capsys):
    """C60 is Ih at 0.3 Å; at 0.5 Å (bonds are 1.4 Å) mapped atoms collide and detect
    raises; the sweep prints that row as an error and goes on."""
    from ase.build import molecule

    path = tmp_path / "c60.xyz"
    write(path, molecule("C60"))
    assert main(["symmetry", str(path), "--sweep", "0.3:0.5:0.2"]) == 0
    rows = [ln.split() for ln in capsys.readouterr().out.splitlines()[2:]]
    assert rows[0][:3] == ["0.300", "Ih", "120"]
    assert rows[1][:2] == ["0.500", "error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sweep", "0.5:0.1"], "START <= STOP"),
        (["--sweep", "a:b"], "START:STOP"),
        (["--tol", "0"], "tol must be a positive"),
    ],
)
def test_user_errors(ch3_files, capsys, args, message):
    nh3, _ = ch3_files
    assert main(["symmetry", str(nh3), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_and_unreadable_files(tmp_path, capsys):
    assert main(["symmetry", str(tmp_path / "nope.xyz")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.xyz"
    bad.write_text("this is not\na structure\n")
    assert main(["symmetry", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
