"""The layering of sbbench, read off its import statements (ast; nothing is imported).

Bottom to top: ``errors`` (imports nothing of sbbench; every layer may import it) <
``_vocabulary`` (imports nothing else of sbbench) < ``metrics``, ``symmetry`` (know
neither models nor datasets) < ``datasets``, ``models`` < ``results`` (results
files: build, read, hash, validate, and the data they name) < ``training`` (the harness
writes results) and ``leaderboard`` (ranks them), which do not import each other; the
leaderboard reaches the datasets only through ``results``. The harness treats every
model alike: it imports no model module by name (model-specific reports are the
:meth:`sbbench.models.VectorModel.report` hook).

Every import counts, at module level or inside a function (a lazy import is still a
dependency), except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sbbench"

#: layer -> module prefixes it may not import (a prefix matches itself and its submodules)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "sbbench._vocabulary": ("sbbench",),
    "sbbench.metrics": ("sbbench.models", "sbbench.datasets"),
    "sbbench.symmetry": ("sbbench.models", "sbbench.datasets"),
    "sbbench.training": ("sbbench.leaderboard",),
    "sbbench.leaderboard": ("sbbench.training", "sbbench.datasets"),
    "sbbench.results": ("sbbench.training", "sbbench.leaderboard", "sbbench.models"),
}
#: leaves that every layer may import: they import nothing of sbbench
LEAVES: tuple[str, ...] = ("sbbench.errors",)


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, package: Path = PACKAGE) -> bool:
    rel = Path(*name.split("."))
    root = package.parent
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def imports_of(path: Path, package: Path = PACKAGE) -> set[str]:
    """The sbbench modules that the file at ``path`` imports (relative imports resolved)."""
    name = _module_name(path, package)
    parent = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_checking_nodes(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parent.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{mod}.{alias.name}"
                out.add(sub if _is_module(sub, package) else mod)
    return {m for m in out if m == "sbbench" or m.startswith("sbbench.")}


def import_graph() -> dict[str, set[str]]:
    """Module -> the sbbench modules it imports, for every module of the package."""
    return {_module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def back_edges(graph: dict[str, set[str]]) -> list[str]:
    """Every import that :data:`FORBIDDEN` rules out, as ``"importer -> imported"``."""
    bad = []
    for module, targets in graph.items():
        for layer, forbidden in FORBIDDEN.items():
            if not _within(module, layer):
                continue
            for target in sorted(targets):
                if target in LEAVES or _within(target, layer):
                    continue
                if any(_within(target, f) for f in forbidden):
                    bad.append(f"{module} -> {target}")
    return sorted(bad)


def test_every_layer_exists():
    graph = import_graph()
    for layer in FORBIDDEN:
        assert any(_within(m, layer) for m in graph), f"no module {layer}"


def test_no_back_edges():
    assert back_edges(import_graph()) == []


def test_the_leaves_import_nothing_of_sbbench():
    graph = import_graph()
    assert {leaf: graph[leaf] for leaf in LEAVES} == {leaf: set() for leaf in LEAVES}


def test_the_harness_names_no_model():
    """Model special cases are hooks on VectorModel, not imports of a model's module."""
    graph = import_graph()
    named = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if _within(m, "sbbench.training")
        for t in targets
        if _within(t, "sbbench.models")
        and not t.rpartition(".")[2].startswith("_")
        and t != "sbbench.models"
    )
    assert named == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from .. import metrics\n", {"sbbench.metrics"}),
        ("from ..datasets import load\n", {"sbbench.datasets"}),
        ("def f():\n    from sbbench.training import run_experiment\n", {"sbbench.training"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sbbench.models\n", set()),
        ("import numpy\n", set()),
    ],
)
def test_the_parser_sees_every_kind_of_import(tmp_path, source, expected):
    pkg = tmp_path / "sbbench"
    for sub in ("metrics", "datasets", "training", "models", "leaderboard"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    f = pkg / "leaderboard" / "_x.py"
    f.write_text(source)
    assert imports_of(f, pkg) == expected


def test_the_rules_catch_a_back_edge():
    graph = {"sbbench.training._x": {"sbbench.leaderboard", "sbbench.results"}}
    assert back_edges(graph) == ["sbbench.training._x -> sbbench.leaderboard"]
