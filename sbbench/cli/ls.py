"""List the models, datasets and metrics sbbench knows, with one-line descriptions.

The descriptions are the first lines of their docstrings, printed as plain text
(markup and LaTeX converted, e.g. min_g (1/N) Σ_i |f - R_g y|^2).

Models and datasets come from the registries sbbench.models and sbbench.datasets (their
dependencies are sbbench's own: a model or dataset that cannot be imported is a bug).

exit codes: 0 listed, 2 bad usage.
"""

from __future__ import annotations

import argparse
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


_SYMBOLS = {
    "cdot": "·",
    "top": "T",
    "times": "×",
    "in": "∈",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "ne": "≠",
    "approx": "≈",
    "sim": "~",
    "pm": "±",
    "to": "->",
    "rightarrow": "->",
    "sum": "Σ",
    "prod": "Π",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "lVert": "|",
    "rVert": "|",
    "Vert": "|",
    "lvert": "|",
    "rvert": "|",
    "|": "|",
    "langle": "<",
    "rangle": ">",
    "left": "",
    "right": "",
    "quad": " ",
    "qquad": " ",
    "min": "min",
    "max": "max",
    "arg": "arg",
    "exp": "exp",
    "log": "log",
    "sin": "sin",
    "cos": "cos",
    "mathrm": "",
    "text": "",
    "operatorname": "",
    "mathbf": "",
    "mathit": "",
    "boldsymbol": "",
    "mathcal": "",
    "varepsilon": "ε",
    "epsilon": "ε",
    "vartheta": "θ",
}


def _latex(tex: str) -> str:
    """LaTeX math as plain Unicode text: ``\\min_{g} \\frac{1}{N}`` -> ``min_g (1/N)``."""
    import unicodedata

    def command(match: re.Match) -> str:
        name = match.group(1)
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        try:  # \alpha -> α, \Omega -> Ω
            case = "CAPITAL" if name[0].isupper() else "SMALL"
            return unicodedata.lookup(f"GREEK {case} LETTER {name.upper()}")
        except KeyError:
            return name

    out = tex
    for _ in range(4):  # nested fractions and roots, innermost first
        out = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1/\2) ", out)
        out = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", out)
        out = re.sub(r"\\(?:bar|overline)\{([^{}]*)\}", "\\1\u0304", out)
        out = re.sub(r"\\hat\{([^{}]*)\}", r"\1^", out)
    # delimiters: no space inside |x|, <x>
    out = re.sub(r"\\(lVert|lvert|langle|left)\s*", lambda m: _SYMBOLS[m.group(1)], out)
    out = re.sub(r"\s*\\(rVert|rvert|rangle|right)", lambda m: _SYMBOLS[m.group(1)], out)
    out = re.sub(r"\\[dt]?frac(\d)(\d)", r"(\1/\2) ", out)  # \tfrac32
    out = re.sub(r"\\bar\s*(\w)", "\\1\u0304", out)  # \bar y -> ȳ
    out = re.sub(r"\\([A-Za-z]+|\|)", command, out)
    out = re.sub(r"\\[,;:! ]", " ", out)
    out = out.replace("{", "").replace("}", "")
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", out).strip())


def _role(match: re.Match) -> str:
    """:func:`name` -> name; :func:`~a.b.name` -> name (Sphinx's tilde: last component)."""
    target = match.group(2)
    return target.split(".")[-1] if match.group(1) else target


def plain_text(text: str) -> str:
    """reStructuredText and LaTeX markup of a docstring line as plain text.

    ``x`` and `x` -> x; :func:`~pkg.f` -> f; :math:`\\min_g` and bare LaTeX -> min_g;
    **x** -> x. The docstrings keep their markup (Sphinx renders it); the command
    line prints this.
    """
    out = re.sub(r":math:`([^`]*)`", lambda m: _latex(m.group(1)), text)
    out = re.sub(r":[\w:]+:`(~?)([^`<]*?)\s*(?:<[^>]*>)?`", _role, out)
    out = out.replace("``", "")
    out = re.sub(r"`([^`]*)`", r"\1", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"\1", out)
    if "\\" in out:
        out = _latex(out)
    return out


def _summary(doc: str) -> str:
    """The first line of a docstring, or its first paragraph when that line runs on."""
    paragraph = doc.strip().split("\n\n")[0].splitlines()
    line = paragraph[0].strip()
    if len(paragraph) > 1 and not line.endswith((".", ":", ")")):
        line = " ".join(part.strip() for part in paragraph)
    return plain_text(line)


def _first_line(obj: object) -> str:
    """First docstring line, as plain text (no reStructuredText or LaTeX markup)."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    if not doc:
        return "(no description)"
    return _summary(doc)


def _attribute_doc(package: str, name: str) -> str | None:
    """The docstring written below ``NAME = ...`` in a module of ``package`` (Sphinx style)."""
    import ast
    import inspect
    import sys

    for modname, module in list(sys.modules.items()):
        if module is None or not (modname == package or modname.startswith(package + ".")):
            continue
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body
        for node, nxt in zip(body[:-1], body[1:], strict=True):
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
                continue
            if isinstance(nxt, ast.Expr) and isinstance(getattr(nxt, "value", None), ast.Constant):
                if isinstance(nxt.value.value, str):
                    return nxt.value.value
    return None


def _describe(package: str, name: str, obj: object) -> str:
    """A one-line description: the docstring of a function or class; a constant's value and
    the docstring below its assignment (not the docstring of its type, float's)."""
    if callable(obj):
        return _first_line(obj)
    doc = _attribute_doc(package, name)
    value = f"constant, {obj!r}"
    return f"{value}: {_summary(doc)}" if doc else value


def _models() -> list[tuple[str, str]]:
    from sbbench import models
    from sbbench.models._registry import ALIASES

    bases, modifiers = models.BASE_MODELS, models.MODIFIERS
    listed = {key: name for name, key in ALIASES.items()}
    out = []
    for name in bases:
        cls = models.model_class(name)
        desc = f"[{getattr(cls, 'symmetry_class', '?')}] {_first_line(cls)}"
        if name in listed:
            desc += f" (also accepted as {name})"
        out.append((listed.get(name, name), desc))
    for mod, hparams in modifiers.items():
        extra = f" (hyperparameters: {', '.join(hparams)})" if hparams else ""
        out.append((f"+{mod}", f"modifier, combines with any model, e.g. egnn+{mod}{extra}"))
    return out


def _datasets() -> list[tuple[str, str]]:
    from sbbench.datasets import get_class, names

    out = []
    for name in names():
        cls = get_class(name)
        tasks = getattr(cls, "tasks", ())
        extra = f" (tasks: {', '.join(tasks)})" if tasks else ""
        desc = f"{_first_line(cls)}{extra}"
        out.append((name, desc))
    return out


def _metrics() -> list[tuple[str, str]]:
    from sbbench import metrics

    return [
        (name, _describe("sbbench.metrics", name, getattr(metrics, name)))
        for name in metrics.__all__
    ]


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
