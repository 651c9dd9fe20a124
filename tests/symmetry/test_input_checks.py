"""Atoms closer than the physical minimum distance (issue 18 item 4).

Two H atoms at one position used to give Kh with exit 0 and two classes; now the
detector raises a one-line ValueError naming both atoms, their elements and their
distance, and ``sbbench symmetry`` prints it as one line with exit code 2.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from sbbench.cli import main
from sbbench.symmetry import MIN_DISTANCE, CloseAtomsError, detect

WATER = [[0, 0, 0.119], [0, 0.763, -0.477], [0, -0.763, -0.477]]


def test_minimum_is_below_every_bond():
    assert 0.3 <= MIN_DISTANCE < 0.74  # H2, the shortest bond, is 0.74 Å
    assert detect([[0, 0, 0], [0, 0, 0.74]], [1, 1]).schoenflies == "D*h"


def test_two_coincident_hydrogens():
    with pytest.raises(CloseAtomsError) as info:
        detect([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [1, 1])
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in msg
    assert "atoms 0 (H) and 1 (H) are 0 Å apart" in msg
    assert f"{MIN_DISTANCE:g} Å minimum" in msg


def test_names_the_closest_pair_with_indices_elements_distance():
    pos = np.vstack([WATER, [0.0, 0.763, -0.177]])  # a 4th atom 0.3 Å from H 1
    with pytest.raises(ValueError, match=r"atoms 1 \(H\) and 3 \(O\) are 0\.3 Å apart"):
        detect(pos, [8, 1, 1, 8])
    # the closest of several pairs is named; labels may be symbols; no labels: indices only
    pos = np.array([[0, 0, 0], [0.4, 0, 0], [3, 0, 0], [3.1, 0, 0]], dtype=float)
    with pytest.raises(ValueError, match=r"atoms 2 \(C\) and 3 \(N\) are 0\.1 Å apart"):
        detect(pos, ["O", "H", "C", "N"])
    with pytest.raises(ValueError, match=r"atoms 2 and 3 are 0\.1 Å apart"):
        detect(pos)
    with pytest.raises(ValueError, match=r"atoms 2 \(C\) and 3 \(N\)"):
        detect(pos, np.array([8.0, 1.0, 6.0, 7.0]))  # float atomic numbers


def test_min_distance_option():
    pos = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.3], [1.0, 0.0, 0.0]]
    with pytest.raises(CloseAtomsError):
        detect(pos, [1, 1, 6])
    assert detect(pos, [1, 1, 6], min_distance=0.2).schoenflies == "C2v"
    assert detect(pos, [1, 1, 6], min_distance=0).schoenflies == "C2v"  # abstract clouds
    with pytest.raises(ValueError, match="min_distance must be"):
        detect(pos, [1, 1, 6], min_distance=-1)
    assert detect([[1.0, 2.0, 3.0]], [6]).schoenflies == "Kh"  # one atom: nothing to check


@pytest.fixture
def duplicate_h(tmp_path):
    path = tmp_path / "hh.xyz"
    write(path, Atoms("OHHH", positions=[*WATER, WATER[1]]))
    return path


@pytest.mark.parametrize("extra", [[], ["--json"], ["--sweep", "0.05:0.2:0.05"]])
def test_cli_one_line_error(duplicate_h, capsys, extra):
    assert main(["symmetry", str(duplicate_h), *extra]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert err == [err[0]] and err[0].startswith("sbbench: error: atoms 1 (H) and 3 (H) are 0 Å")
    assert "Traceback" not in captured.err
    assert "point group" not in captured.out and "Kh" not in captured.out
