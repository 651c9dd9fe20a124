"""``sbbench.symmetry`` tolerance sweeps: the grid, its spec, the detections and the JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import molecule

from sbbench.symmetry import (
    DEFAULT_SWEEP_STEP,
    MAX_SWEEP_POINTS,
    CloseAtomsError,
    SweepPoint,
    parse_sweep,
    sweep_report,
    tolerance_grid,
    tolerance_sweep,
)


def _flattened_nh3():
    """NH3 with the N 0.06 Å above the H plane: C3v until tol covers the height, then D3h."""
    nh3 = molecule("NH3")
    pos = nh3.positions.copy()
    pos[0, 2] = pos[1:, 2].mean() + 0.06
    return pos, nh3.numbers


def test_grid_is_inclusive_and_rounded():
    assert tolerance_grid(0.1, 0.3, 0.1) == [0.1, 0.2, 0.3]  # not 0.30000000000000004
    assert tolerance_grid(0.05, 0.05) == [0.05]
    grid = tolerance_grid(0.01, 0.5)
    assert len(grid) == 50 and grid[-1] == 0.5
    assert np.allclose(np.diff(grid), DEFAULT_SWEEP_STEP)


def test_parse_sweep_matches_the_grid():
    assert parse_sweep("0.02:0.2:0.02") == tolerance_grid(0.02, 0.2, 0.02)
    assert parse_sweep("0.01:0.05") == tolerance_grid(0.01, 0.05, DEFAULT_SWEEP_STEP)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0.5:0.1", "sweep needs 0 < START <= STOP and STEP > 0, got '0.5:0.1'"),
        ("0:0.1", "0 < START"),
        ("0.1:0.2:-1", "STEP > 0"),
        ("0.1:inf", "got '0.1:inf'"),  # not an OverflowError from counting to infinity
        ("nan:0.1", "got 'nan:0.1'"),
        ("a:b", "sweep must be START:STOP[:STEP] in Å, got 'a:b'"),
        ("0.1", "START:STOP[:STEP]"),
        ("1:2:3:4", "START:STOP[:STEP]"),
        ("0.01:100:0.0001", "asks for 999901 tolerances; use a larger STEP"),
    ],
)
def test_bad_specs_are_clear_value_errors(spec, message):
    with pytest.raises(ValueError, match="^sweep ") as info:
        parse_sweep(spec)
    assert message in str(info.value)


def test_error_messages_use_the_callers_name():
    with pytest.raises(ValueError, match=r"^--sweep needs .* got '0\.5:0\.1'$"):
        parse_sweep("0.5:0.1", name="--sweep")
    with pytest.raises(ValueError, match=r"^tols needs .* got '0\.5:0\.1:0\.01'$"):
        tolerance_grid(0.5, 0.1, name="tols")


def test_grid_size_limit_is_the_documented_one():
    step = 0.001
    assert len(tolerance_grid(step, step * MAX_SWEEP_POINTS, step)) == MAX_SWEEP_POINTS
    with pytest.raises(ValueError, match=f"asks for {MAX_SWEEP_POINTS + 1} tolerances"):
        tolerance_grid(step, step * (MAX_SWEEP_POINTS + 1), step)


def test_sweep_finds_where_the_group_changes():
    pos, numbers = _flattened_nh3()
    points = tolerance_sweep(pos, numbers, tolerance_grid(0.02, 0.2, 0.02))
    assert [p.tol for p in points] == tolerance_grid(0.02, 0.2, 0.02)
    assert all(p.error is None for p in points)
    groups = [p.schoenflies for p in points]
    assert groups[0] == "C3v" and groups[-1] == "D3h"
    flip = groups.index("D3h")
    assert set(groups[:flip]) == {"C3v"} and set(groups[flip:]) == {"D3h"}  # one change
    assert [p.order for p in points] == [6] * flip + [12] * (len(points) - flip)
    assert all(p.label == p.schoenflies for p in points)  # finite groups: label = name


def test_linear_molecule_rows_carry_the_stand_in_label():
    co2 = molecule("CO2")
    (point,) = tolerance_sweep(co2.positions, co2.numbers, [0.1])
    assert point.schoenflies == "D*h" and point.label == "D*h (as D8h)" and point.order == 32


def test_a_failing_tolerance_is_a_row_not_an_exception():
    """C60 is Ih at 0.3 Å; at 0.5 Å (bonds 1.4 Å) mapped atoms collide and detect raises."""
    c60 = molecule("C60")
    ok, bad = tolerance_sweep(c60.positions, c60.numbers, [0.3, 0.5])
    assert (ok.schoenflies, ok.order, ok.error) == ("Ih", 120, None)
    assert bad.tol == 0.5 and bad.schoenflies is bad.order is bad.label is None
    assert bad.error


def test_close_atoms_fail_the_whole_sweep():
    pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.1]])
    with pytest.raises(CloseAtomsError, match="atoms 0 .* and 1 "):
        tolerance_sweep(pos, [1, 1], [0.1, 0.2])


def test_empty_sweep_is_an_error():
    pos, numbers = _flattened_nh3()
    with pytest.raises(ValueError, match="at least one tolerance"):
        tolerance_sweep(pos, numbers, [])


def test_report_is_json_with_the_documented_keys():
    rows = [
        SweepPoint(0.1, "C3v", 6, label="C3v"),
        SweepPoint(0.5, None, None, error="mapped atoms collide"),
    ]
    doc = sweep_report(rows, file="x.xyz")
    assert list(doc) == ["file", "sweep"]
    assert [list(r) for r in doc["sweep"]] == [
        ["tol", "schoenflies", "order", "label"],
        ["tol", "schoenflies", "order", "error"],
    ]
    assert json.loads(json.dumps(doc)) == {
        "file": "x.xyz",
        "sweep": [
            {"tol": 0.1, "schoenflies": "C3v", "order": 6, "label": "C3v"},
            {"tol": 0.5, "schoenflies": None, "order": None, "error": "mapped atoms collide"},
        ],
    }
    assert sweep_report([]) == {"sweep": []}


def test_report_of_a_real_sweep_round_trips():
    pos, numbers = _flattened_nh3()
    points = tolerance_sweep(pos, numbers, [0.02, 0.2])
    doc = json.loads(json.dumps(sweep_report(points)))
    assert [(r["tol"], r["schoenflies"], r["order"]) for r in doc["sweep"]] == [
        (0.02, "C3v", 6),
        (0.2, "D3h", 12),
    ]
