"""The qm7x data card states what the shipped files and the loader actually contain."""

from __future__ import annotations

import re

import h5py
import pytest

import sbbench.datasets as sd
from sbbench.datasets.qm7x import REFERENCE_VERSION, reference_file

from ._fixtures import CARD, card_block

SECTIONS = ["Construction", "Symmetry", "Best score of a strictly equivariant model", "License"]


def test_card_sections_and_disclaimer():
    text = CARD.read_text()
    assert "**Source.**" in text and "**Units:**" in text
    assert "NOT the official QM7-X data" in text
    assert 'sd.load("qm7x' in text
    for section in SECTIONS:
        assert re.search(rf"^## {section}", text, re.M), section
    assert REFERENCE_VERSION == 2 and "served by default" in text


@pytest.mark.parametrize("version", [1, 2])
def test_card_numbers_match_file_and_loader(sb_root, version):
    block = card_block(version)
    m = re.search(r"\*\*(\d+)\*\* molecules, \*\*(\d+)\*\* conformers", block)
    kept = re.search(r"kept \*\*(\d+)\*\* molecules / \*\*(\d+)\*\* conformers", block)
    assert m and kept
    path = reference_file(version)
    assert f"File: `{path.name}`" in block
    with h5py.File(path, "r") as f:
        assert int(m[1]) == len(f)
        assert int(m[2]) == sum(len(f[k]) for k in f)
        assert f"PBE0/{f.attrs['basis']}" in block
    ds = sd.load("qm7x", root=sb_root, source="reference", reference_version=version)
    assert int(kept[2]) == len(ds)
    assert int(kept[1]) == len({int(d.mol_id) for d in ds})


def test_v2_block_states_the_issue_targets():
    """Issue 19's floor: >= 225 molecules and 1,800 conformers, elements H C N O S Cl."""
    block = card_block(2)
    kept = re.search(r"kept \*\*(\d+)\*\* molecules / \*\*(\d+)\*\* conformers", block)
    assert int(kept[1]) >= 225 and int(kept[2]) >= 1800
    assert "elements H, C, N, O, S, Cl;" in block
    assert re.search(r"Generation: [\d.]+ CPU hours", block)
