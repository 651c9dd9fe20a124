"""One printed label for the infinite groups (issue 18 item 5).

``sbbench curie qm7x`` printed D8h / C8v for linear molecules (the finite stand-in
groups) while ``sbbench symmetry`` printed D*h: now both print ``D*h (as D8h)``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from ase.io import write

from sbbench.cli import main
from sbbench.curie import CurieReport, sample_check
from sbbench.symmetry import LINEAR_AXIS_ORDER, detect, group_label

CO2 = ([[0, 0, -1.16], [0, 0, 0], [0, 0, 1.16]], [8, 6, 8])


def test_pointgroup_label():
    assert LINEAR_AXIS_ORDER == 8
    assert detect(*CO2).label == "D*h (as D8h)"
    assert detect([[0, 0, 0], [0, 0, 1.27]], [1, 17]).label == "C*v (as C8v)"
    assert detect([[0.0, 0, 0]], [18]).label == "Kh (as Oh)"
    water = molecule("H2O")
    assert detect(water.positions, water.numbers).label == "C2v"
    assert detect(*CO2).schoenflies == "D*h"  # the symbol itself is unchanged


def test_group_label_from_operations():
    pos, z = CO2
    ops = detect(pos, z).operations
    assert group_label(ops) == "D8h"  # operations alone: the finite group
    assert group_label(ops, pos) == "D*h (as D8h)"
    ring = [[np.cos(a), np.sin(a), 0.0] for a in 2 * np.pi * np.arange(8) / 8]
    ring = 1.4 / (2 * np.sin(np.pi / 8)) * np.array(ring)  # a real D8h molecule
    pg = detect(ring, [6] * 8)
    assert group_label(pg.operations, ring) == pg.label == "D8h"
    atom = detect([[1.0, 2.0, 3.0]], [6])
    assert group_label(atom.operations, [[1.0, 2.0, 3.0]]) == "Kh (as Oh)"


def test_curie_prints_the_same_label():
    pos, z = CO2
    ops = detect(pos, z).operations
    y = np.array([[0, 0, 1.0], [0, 0, 1.0], [0, 0, 1.0]])  # axial field: breaks only i
    s = sample_check(pos, z, y, ops)
    assert (s.input_group, s.target_group) == ("D*h (as D8h)", "C*v (as C8v)")
    assert (s.order_input, s.order_target) == (32, 16)
    report = CurieReport("co2", 1, 1, {"D*h (as D8h) -> C*v (as C8v)": 1}, 0, 0, 0, [s])
    text = report.format()
    assert "D*h (as D8h) -> C*v (as C8v): 1 samples" in text
    assert "D8h ->" not in text.replace("(as D8h) ->", "")
    assert sum("finite subgroup" in line for line in text.splitlines()) == 1  # explained once
    # a finite group stays as it is, with no explanation line
    water = molecule("H2O")
    wops = detect(water.positions, water.numbers).operations
    s = sample_check(water.positions, water.numbers, np.eye(3), wops)
    assert s.input_group == "C2v" and "(as" not in s.target_group


@pytest.fixture
def co2_file(tmp_path):
    path = tmp_path / "co2.xyz"
    write(path, Atoms("OCO", positions=CO2[0]))
    return path


def test_symmetry_cli_label(co2_file, capsys):
    assert main(["symmetry", str(co2_file)]) == 0
    out = capsys.readouterr().out
    assert "point group: D*h (as D8h)" in out
    assert "order: 32 (of D8h, the finite subgroup standing in for the infinite D*h)" in out
    assert main(["symmetry", str(co2_file), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["schoenflies"], doc["label"], doc["order"]) == ("D*h", "D*h (as D8h)", 32)
    assert main(["symmetry", str(co2_file), "--sweep", "0.1:0.2:0.1"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert all("D*h (as D8h)" in row and row.rstrip().endswith("32") for row in rows)
