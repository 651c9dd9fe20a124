"""Every dataset has a data card whose key numbers match what the code computes."""

import re
from pathlib import Path

import pytest

import sbbench.datasets as sd
from sbbench.datasets import charged_particle, shapes, square
from sbbench.datasets.h2o_modes import read_modes

CARDS = Path(__file__).resolve().parents[2] / "datasets"
PAPER = {"symmetric": False, "reduction": "sum"}
SECTIONS = ["Construction", "Symmetry", "Best score of a strictly equivariant model", "License"]


def card(name: str) -> str:
    path = CARDS / name / "README.md"
    assert path.is_file(), f"missing data card {path}"
    return path.read_text()


@pytest.mark.parametrize(
    "name", ["square", "square_order_param", "shapes", "charged_particle", "h2o_modes"]
)
def test_card_has_required_sections(name):
    text = card(name)
    assert "**Source.**" in text and "**Units:**" in text
    for section in SECTIONS:
        assert re.search(rf"^## {section}", text, re.M), f"{name}: no '## {section}'"
    assert f'sd.load("{name}' in text


def test_square_card_numbers():
    text = card("square")
    assert f"**{square.equivariant_optimum(**PAPER):.2f}**" in text  # 0.25
    assert f"**{square.equivariant_optimum():.3f}**" in text  # 0.125


def test_shapes_card_numbers():
    text = card("shapes")
    assert f"**{shapes.equivariant_optimum('asym', **PAPER):.5f}**" in text
    assert f"**{shapes.equivariant_optimum('asym'):.5f}**" in text
    assert shapes.equivariant_optimum("prism", **PAPER) == pytest.approx(4 / 3)
    assert "**4/3**" in text and "**1/3**" in text


def test_charged_particle_card_numbers(sb_root):
    ds = sd.load("charged_particle", root=sb_root)
    text = card("charged_particle")
    assert f"**{charged_particle.equivariant_optimum(ds):.5f}**" in text
    assert f"**{charged_particle.equivariant_optimum(ds, per_component=True):.5f}**" in text


def test_h2o_card_numbers():
    text = card("h2o_modes")
    for mode in read_modes()["modes"].values():
        assert f"{mode['frequency_cm-1']:.1f}" in text
    assert "**0.014967**" in text and "**0.23139**" in text  # also asserted in test_h2o_modes
    assert "**0.83682**" in text and "**0.55788**" in text  # direction targets, likewise


def test_h2o_card_states_the_direction_target_pins_and_floors(sb_root):
    from sbbench.curie import curie_check
    from sbbench.results._pins import PINS
    from sbbench.results._versions import options_key

    text = card("h2o_modes")
    version = str(sd.get_class("h2o_modes").version)
    for task in ("sym", "bend", "asym"):
        ds = sd.load(f"h2o_modes:{task}", root=sb_root, targets="direction")
        sha = PINS["h2o_modes"][version][options_key(ds.options)]
        floor = curie_check(ds).floor_sbmse
        shown = "0" if floor < 1e-9 else f"{floor:.5g}"
        assert f'| {task}, `targets="direction"` | `{sha[:16]}` | **{shown}** |' in text


VERSIONED = {
    "square": ["square"],
    "square_order_param": ["square_order_param"],
    "h2o_modes": ["h2o_modes:sym", "h2o_modes:bend", "h2o_modes:asym"],
    "shapes": ["shapes:cube", "shapes:prism", "shapes:asym"],
    "charged_particle": ["charged_particle"],
    "qm7x": ["qm7x"],
}


@pytest.mark.parametrize("name", sorted(VERSIONED))
def test_card_states_version_pin_and_sbmse_floor(name, sb_root):
    """The card's table row per task: the pinned sha256 prefix and the SBMSE floor."""
    from sbbench.curie import curie_check
    from sbbench.results._pins import PINS
    from sbbench.results._versions import options_key

    text = card(name)
    version = str(sd.get_class(name).version)
    assert f"**dataset_version {version}**" in text
    for spec in VERSIONED[name]:
        opts = {"source": "reference"} if name == "qm7x" else {}
        ds = sd.load(spec, root=sb_root, **opts)
        sha = PINS[name][version][options_key(ds.options)]
        floor = curie_check(ds).floor_sbmse
        shown = "0" if floor < 1e-9 else f"{floor:.5g}"
        task = spec.partition(":")[2] or "default"
        assert f"| {task} | `{sha[:16]}` | **{shown}** |" in text, (spec, sha[:16], shown)
