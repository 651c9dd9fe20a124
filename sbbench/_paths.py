"""Where sbbench finds the small data files it ships.

Shipped data lives in the top-level ``datasets/<name>/`` folder of a source
checkout (next to its data card and the script that made it). Wheels carry the
same folder as the package ``sbbench._shipped`` (see ``[tool.setuptools]`` in
``pyproject.toml``), so :func:`shipped_file` works from a checkout, an editable
install and an installed wheel alike.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_file", "repo_root"]


def repo_root() -> Path | None:
    """The source checkout containing this package, or None for an installed wheel."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "datasets").is_dir() else None


def shipped_file(dataset: str, filename: str) -> Path:
    """Path of a file shipped with sbbench for ``dataset`` (e.g. ``("qm7x", "reference.hdf5")``).

    Raises
    ------
    FileNotFoundError
        If neither the source checkout nor the installed package has the file.
    """
    candidates: list[Path] = []
    root = repo_root()
    if root is not None:
        candidates.append(root / "datasets" / dataset / filename)
    try:
        candidates.append(Path(str(resources.files("sbbench._shipped") / dataset / filename)))
    except ModuleNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidates) or "(no location)"
    raise FileNotFoundError(f"shipped file {dataset}/{filename} not found; looked in: {tried}")
