"""README.md and docs/reproduction.md show generated numbers only, and are current."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "docs/update_generated.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("relpath", ["README.md", "docs/reproduction.md"])
def test_generated_blocks_are_current(gen, relpath):
    text = (ROOT / relpath).read_text(encoding="utf-8")
    names = gen.blocks(text)
    assert names, f"{relpath} has no generated blocks"
    for name in names:
        assert gen.block(text, name) == gen.render(name), (
            f"{relpath}: block {name} is stale; run python docs/update_generated.py"
        )


def test_readme_and_reproduction_cover_everything(gen):
    from sbbench.reproduce import table_names

    assert gen.blocks((ROOT / "README.md").read_text()) == ["leaderboards"]
    doc = gen.blocks((ROOT / "docs/reproduction.md").read_text())
    assert sorted(doc) == sorted(f"reproduce:{t}" for t in table_names())


def test_update_rewrites_only_the_blocks(gen, tmp_path):
    path = tmp_path / "doc.md"
    path.write_text(
        "intro\n<!-- leaderboards:begin -->\nold\n<!-- leaderboards:end -->\nmiddle\n"
        "<!-- reproduce:sann-table1:begin -->\n<!-- reproduce:sann-table1:end -->\noutro\n"
    )
    assert gen.update(path)
    text = path.read_text()
    assert text.startswith("intro\n") and "\nmiddle\n" in text and text.endswith("end -->\noutro\n")
    assert gen.block(text, "leaderboards") == gen.render("leaderboards")
    assert "### sann-table1" in gen.block(text, "reproduce:sann-table1")
    assert not gen.update(path)
    with pytest.raises(ValueError, match="unknown generated block"):
        gen.render("nope")


@pytest.mark.slow  # ~10 s: renders the whole leaderboard page
def test_leaderboard_page_is_current(gen):
    """docs/leaderboard/index.html is what `sbbench leaderboard --format html` makes now."""
    path = ROOT / "docs/leaderboard/index.html"
    assert path.is_file(), "no docs/leaderboard/index.html; run python docs/update_generated.py"
    assert path.read_text(encoding="utf-8") == gen.render_html(), (
        "docs/leaderboard/index.html is stale; run python docs/update_generated.py"
    )
