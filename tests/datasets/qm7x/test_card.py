"""The qm7x data card states what the shipped file and the loader actually contain."""

from __future__ import annotations

import re
from pathlib import Path

import h5py

import sbbench.datasets as sd
from sbbench._paths import shipped_file

CARD = Path(__file__).resolve().parents[3] / "datasets" / "qm7x" / "README.md"
SECTIONS = ["Construction", "Symmetry", "Best score of a strictly equivariant model", "License"]


def test_card_sections_and_disclaimer():
    text = CARD.read_text()
    assert "**Source.**" in text and "**Units:**" in text
    assert "NOT the official QM7-X data" in text
    assert 'sd.load("qm7x' in text
    for section in SECTIONS:
        assert re.search(rf"^## {section}", text, re.M), section


def test_card_numbers_match_file_and_loader(sb_root):
    text = CARD.read_text()
    m = re.search(r"\*\*(\d+)\*\* molecules, \*\*(\d+)\*\* conformers", text)
    kept = re.search(r"kept \*\*(\d+)\*\* molecules / \*\*(\d+)\*\* conformers", text)
    assert m and kept, "numbers block missing: run make_reference.py assemble"
    with h5py.File(shipped_file("qm7x", "reference.hdf5"), "r") as f:
        assert int(m[1]) == len(f)
        assert int(m[2]) == sum(len(f[k]) for k in f)
        assert f"PBE0/{f.attrs['basis']}" in text
    ds = sd.load("qm7x", root=sb_root, source="reference")
    assert int(kept[2]) == len(ds)
    assert int(kept[1]) == len({int(d.mol_id) for d in ds})
