"""List the models, datasets and metrics sbbench knows, with one-line descriptions.

Models and datasets come from the registries sbbench.models and sbbench.datasets; if a
registry cannot be imported, its section says why instead of failing.

exit codes: 0 listed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import re

HELP = "list models, datasets and metrics with one-line descriptions"

EPILOG = """examples:
  sbbench ls
  sbbench ls models
  sbbench ls datasets
"""

SECTIONS = ("models", "datasets", "metrics")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "what", nargs="?", choices=SECTIONS, metavar="{models,datasets,metrics}", help="one section"
    )


def _first_line(obj: object) -> str:
    """First docstring line, without reStructuredText markup (``x``, :func:`x`)."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    if not doc:
        return "(no description)"
    line = re.sub(r":\w+:`([^`]*)`", r"\1", doc.splitlines()[0].strip())
    return line.replace("``", "")


def _unavailable(what: str, exc: BaseException) -> list[tuple[str, str]]:
    return [("", f"(the {what} registry is not available: {type(exc).__name__}: {exc})")]


def _models() -> list[tuple[str, str]]:
    try:
        models = importlib.import_module("sbbench.models")
        bases, modifiers = models.BASE_MODELS, models.MODIFIERS
    except (ImportError, AttributeError) as exc:
        return _unavailable("model", exc)
    out = []
    for name in bases:
        try:
            cls = models.model_class(name)
            desc = f"[{getattr(cls, 'symmetry_class', '?')}] {_first_line(cls)}"
        except Exception as exc:  # a model whose module is missing or broken
            desc = f"(cannot be imported: {type(exc).__name__}: {exc})"
        out.append((name, desc))
    for mod, hparams in modifiers.items():
        extra = f" (hyperparameters: {', '.join(hparams)})" if hparams else ""
        out.append((f"+{mod}", f"modifier, combines with any model, e.g. egnn+{mod}{extra}"))
    return out


def _datasets() -> list[tuple[str, str]]:
    try:
        datasets = importlib.import_module("sbbench.datasets")
        names, get_class = datasets.names, datasets.get_class
    except (ImportError, AttributeError) as exc:
        return _unavailable("dataset", exc)
    out = []
    for name in names():
        try:
            cls = get_class(name)
            tasks = getattr(cls, "tasks", ())
            extra = f" (tasks: {', '.join(tasks)})" if tasks else ""
            desc = f"{_first_line(cls)}{extra}"
        except Exception as exc:  # a dataset whose module is missing or broken
            desc = f"(cannot be imported: {type(exc).__name__}: {exc})"
        out.append((name, desc))
    return out


def _metrics() -> list[tuple[str, str]]:
    try:
        metrics = importlib.import_module("sbbench.metrics")
    except ImportError as exc:
        return _unavailable("metrics", exc)
    return [(name, _first_line(getattr(metrics, name))) for name in metrics.__all__]


def run(args: argparse.Namespace) -> int:
    listers = {"models": _models, "datasets": _datasets, "metrics": _metrics}
    sections = [args.what] if args.what else list(SECTIONS)
    blocks = []
    for section in sections:
        entries = listers[section]()
        width = max(len(name) for name, _ in entries)
        lines = [f"  {name.ljust(width)}  {desc}".rstrip() for name, desc in entries]
        blocks.append(f"{section}:\n" + "\n".join(lines))
    print("\n\n".join(blocks))
    return 0
