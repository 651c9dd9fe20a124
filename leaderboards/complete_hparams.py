"""Fill in the model hyperparameters of committed leaderboard rows (issue 18 item 11).

Rows submitted before ``sbbench run`` recorded every hyperparameter held only what the
baseline YAML or the command set (``{"out_vectors": 1}`` for sann, or PaiNN once with and
once without ``variant=tensor``, its default), so one configuration had several
spellings on a board. This script rewrites the ``hyperparameters`` cell of such rows, and
nothing else: its ``model`` section becomes :func:`sbbench.models._registry.defaults` of the row's
model and what the row recorded, the spelling ``sbbench run`` records today.

A default is filled in only if it is the default of the code the row ran on: the
constructor signatures of the model, its modifiers and (``variant="hessian"``) the
Hessian head are read (``ast``) from ``git show <row's git_commit>:sbbench/models/...``;
a parameter that code did not have may only be filled with ``None`` (not set). Anything
else stops the script, naming the row, before any file is written.

The row's ``content_hash`` still names the results.json it came from; that file's
``hyperparameters`` is the recorded subset. Rerunning changes nothing (rows that are
complete need no git history), so a fresh or shallow clone can run ``--check``:

    python leaderboards/complete_hparams.py          # rewrite the CSVs that need it
    python leaderboards/complete_hparams.py --check  # exit 1 if a row would change
    python docs/update_generated.py                  # then regenerate the docs
"""

from __future__ import annotations

import argparse
import ast
import csv
import functools
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_UNREADABLE = object()

#: (class, parameter) added after some rows ran, with the value that is what the code did
#: before it, and the commit that shows so; the only non-None values filled in for a
#: parameter that a row's code did not have
INTRODUCED: dict[tuple[str, str], tuple[Any, str]] = {
    ("EGNN", "variant"): (
        "coordinate",
        "f00fa15 added variant='hessian'; the coordinate update it had became the default",
    ),
}


def _json_text(value: Any) -> str:  # as sbbench.leaderboard writes JSON cells
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


@functools.cache
def _signature_at(commit: str, module: str, cls: str) -> dict[str, Any] | None:
    """``{parameter: default}`` of ``cls.__init__`` in sbbench/models/``module``.py at
    ``commit`` (a default that is not a literal reads as ``_UNREADABLE``); None if the
    file or class is not there."""
    try:
        src = subprocess.run(
            ["git", "show", f"{commit}:sbbench/models/{module}.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for node in ast.walk(ast.parse(src)):
        if not (isinstance(node, ast.ClassDef) and node.name == cls):
            continue
        for fn in node.body:
            if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                a = fn.args
                pos = [x.arg for x in a.posonlyargs + a.args]
                defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
                pairs = list(zip(pos, defaults, strict=True))
                pairs += [(x.arg, d) for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
                out = {}
                for name, node_default in pairs:
                    if name in ("self", "base") or node_default is None:
                        continue
                    try:
                        out[name] = ast.literal_eval(node_default)
                    except ValueError:
                        out[name] = _UNREADABLE
                return out
    return None


def _classes(model: str, hp: dict[str, Any]) -> list[tuple[str, str]]:
    """(module, class) whose constructor defaults ``hp`` draws on, the most specific last."""
    from sbbench.models._registry import BASE_MODELS, MODIFIER_CLASSES, parse

    base, mods = parse(model)
    out = [BASE_MODELS[base]] + [("modifiers", MODIFIER_CLASSES[m]) for m in mods]
    if hp.get("variant") == "hessian":
        out.append(("_hessian", "HessianHead"))
    return out


def complete_row(row: dict[str, str], where: str) -> str | None:
    """The new ``hyperparameters`` cell of ``row``, or None if it is complete already.
    Raises ValueError where a default cannot be shown to be the one the row ran with."""
    from sbbench.models._registry import defaults

    hp = json.loads(row["hyperparameters"])
    recorded = hp.get("model", {})
    full = defaults(row["model"], **recorded)
    filled = {k: v for k, v in full.items() if k not in recorded or recorded[k] != v}
    if not filled:
        return None
    commit = row["git_commit"]
    then: dict[str, Any] = {}
    introduced: dict[str, Any] = {}
    for module, cls in _classes(row["model"], full):
        introduced.update({p: v for (c, p), (v, _) in INTRODUCED.items() if c == cls})
        sig = _signature_at(commit, module, cls)
        if sig is None:
            raise ValueError(
                f"{where}: cannot read {cls} in sbbench/models/{module}.py at the row's "
                f"git_commit {commit[:12]} (is the history there? git fetch --unshallow)"
            )
        then.update({k: v for k, v in sig.items() if k not in then or v is not None})
    for key, value in sorted(filled.items()):
        if key in recorded:  # resolved: a None the Hessian head reads as its default
            if recorded[key] is not None or then.get(key, _UNREADABLE) != value:
                raise ValueError(
                    f"{where}: recorded {key}={recorded[key]!r}, resolves to {value!r}"
                )
        elif key not in then:
            if value is not None and (key not in introduced or introduced[key] != value):
                raise ValueError(
                    f"{where}: {key}={value!r} is not a parameter of {row['model']} at "
                    f"{commit[:12]}; the row's value cannot be filled in"
                )
        elif then[key] is _UNREADABLE or then[key] != value or type(then[key]) is not type(value):
            raise ValueError(
                f"{where}: the default {key}={value!r} was {then[key]!r} at the row's "
                f"git_commit {commit[:12]}"
            )
    return _json_text({**hp, "model": full})


def complete_csv(path: Path) -> tuple[str, int]:
    """(new text of the CSV at ``path``, rows changed); only hyperparameters cells change."""
    text = path.read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(text)))

    def write(rows) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        return buf.getvalue()

    if write(table) != text:
        raise ValueError(f"{path}: not in the CSV format sbbench writes; rewrite it by hand")
    header, changed = table[0], 0
    col = header.index("hyperparameters")
    for line_no, cells in enumerate(table[1:], start=2):
        cell = complete_row(dict(zip(header, cells, strict=True)), f"{path.name}:{line_no}")
        if cell is not None:
            cells[col] = cell
            changed += 1
    return write(table), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    parser.add_argument("--dir", type=Path, default=ROOT / "leaderboards")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from sbbench._io import atomic_write_bytes

    new = {path: complete_csv(path) for path in sorted(args.dir.glob("*.csv"))}
    for path, (text, changed) in new.items():
        print(f"{path.name}: {changed} row(s) {'to complete' if args.check else 'completed'}")
        if changed and not args.check:
            atomic_write_bytes(path, text.encode("utf-8"))
    return 1 if args.check and any(n for _, n in new.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
