"""Keep a checkout's generated documents in step with its leaderboards.

README.md's leaderboard block, docs/reproduction.md's tables and docs/leaderboard/index.html
are generated from ``leaderboards/*.csv`` by the checkout's ``docs/update_generated.py``
(and a test fails while one is stale). :func:`refresh_generated_docs` runs that script
after a submission to the checkout's own leaderboards/, so following the ``next: sbbench
submit ...`` hint of ``sbbench run`` leaves the checkout consistent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["checkout_of", "refresh_generated_docs"]


def checkout_of(board: str | Path) -> Path | None:
    """The checkout whose ``leaderboards/`` holds the CSV ``board`` (it has
    ``docs/update_generated.py``), or None for a board anywhere else."""
    board = Path(board).resolve()
    root = board.parent.parent
    if board.parent.name != "leaderboards" or not (root / "docs/update_generated.py").is_file():
        return None
    return root


def refresh_generated_docs(board: str | Path) -> list[Path]:
    """Regenerate the generated documents of the checkout holding ``board``; return the
    files that changed ([] when ``board`` is not in a checkout's leaderboards/)."""
    root = checkout_of(board)
    if root is None:
        return []
    script = root / "docs" / "update_generated.py"
    spec = importlib.util.spec_from_file_location("_sbbench_update_generated", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [path for path, changed in module.update_all().items() if changed]
