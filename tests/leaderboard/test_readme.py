"""README.md shows the leaderboards exactly as ``sbbench leaderboard --format markdown``."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _updater():
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "leaderboards/update_readme.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_leaderboards_are_generated_and_current():
    mod = _updater()
    shown = mod.block((ROOT / "README.md").read_text(encoding="utf-8"))
    assert shown == mod.rendered(), "README is stale: run python leaderboards/update_readme.py"
    assert "| rank | task | model |" in shown


def test_update_rewrites_only_the_block(tmp_path):
    mod = _updater()
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{mod.BEGIN}\nold numbers\n{mod.END}\noutro\n")
    assert mod.update(readme)
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{mod.END}\noutro\n")
    assert mod.block(text) == mod.rendered()
    assert not mod.update(readme)
