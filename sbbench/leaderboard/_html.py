"""The leaderboards as a static web page: ``sbbench leaderboard --format html --out DIR``.

:func:`render_html` turns the rows of the leaderboard CSVs into one self-contained HTML
file (CSS, the table-sorting script and every figure inlined; no CDN, no server, works
from a ``file://`` URL):

* one section per dataset and task, with a link to the dataset's data card;
* per task, an inline SVG figure of every ranked row's test SBMSE on a log scale (mean,
  and a bar of ± one sample std over the (seed, fold) runs), coloured by symmetry
  class, with the task's equivariant floor (:func:`sbbench.curie.curie_check`, computed
  here from the current data) drawn as a horizontal line;
* per ranking group (:data:`~sbbench.leaderboard.GROUP_COLUMNS`) a sortable table,
  ranked exactly as ``sbbench leaderboard`` ranks (:func:`~sbbench.leaderboard.rank_rows`),
  with model, symmetry class, loss, hyperparameters, seeds x folds, split protocol,
  collapse count, dataset version and sha256, and the command that reruns the row; rows
  made by ``sbbench reproduce TABLE --only KEY`` show the paper's value beside ours in the
  paper's convention (:data:`sbbench.reproduce.TABLES`);
* rows whose ``dataset_sha256`` is not the pinned data of their dataset version and
  task (:func:`row_status`) are never ranked: they are listed under "not ranked: stale
  data" and left out of the figure.

The output depends only on the rows and the current code (no timestamps), so
``docs/update_generated.py`` can keep ``docs/leaderboard/index.html`` current under a
staleness test.
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._board import GROUP_COLUMNS, RANK_COLUMN, _loss, _model_hparams, _pm, rank_rows

__all__ = [
    "CLASS_COLOURS",
    "FIGURES",
    "equivariant_floor",
    "paper_value",
    "render_html",
    "row_status",
    "write_html",
]

#: Colour of each symmetry class in the figures (others get :data:`_EXTRA_COLOURS`).
CLASS_COLOURS = {
    "invariant": "#8c564b",
    "equivariant": "#1f77b4",
    "relaxed-equivariant": "#2ca02c",
    "symmetry-breaking": "#d62728",
    "unknown": "#7f7f7f",
}
_EXTRA_COLOURS = ("#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#bcbd22")

#: Relaxed-E(3) figures (docs/figures/, made for docs/reproduction.md): (dataset, task) ->
#: (file, caption).
FIGURES: dict[tuple[str, str], tuple[str, str]] = {
    ("square", "default"): (
        "theta_square.png",
        "relaxed_e3nn on square, SBCD loss: learned relaxed weights as spherical signals",
    ),
    ("shapes", "prism"): (
        "theta_prism.png",
        "relaxed_e3nn, cube -> prism: relaxed weights as spherical signals (scalar part left out)",
    ),
    ("charged_particle", "default"): (
        "theta_charged.png",
        "relaxed_e3nn, charged particle: relaxed weights as spherical signals",
    ),
}

#: Where the floor needs a caveat (see the data card).
_FLOOR_NOTES = {
    "qm7x": (
        "floor at exact symmetry: the QM7-X inputs are symmetric only within the curation "
        "tolerance, so this is the floor of an exactly symmetric input, not a bound on an "
        "equivariant model here"
    ),
}
_FLOOR_ZERO = 1e-9  # sbbench.curie.FLOOR_ZERO (not imported: keeps this module light)


# ----------------------------------------------------------------------------- data


def _pin_task(options_key: str) -> str:
    try:
        opts = json.loads(options_key)
    except ValueError:
        return "default"
    return str(opts.get("task", "default")) if isinstance(opts, dict) else "default"


def row_status(row: Mapping[str, Any]) -> tuple[bool, str]:
    """``(ranked, reason)``: may the row be ranked, i.e. is it on the current data?

    A row is current if its dataset version is accepted with any content (``None`` in
    :data:`~sbbench.leaderboard.DATASET_VERSIONS`), or it is the current version and its
    ``dataset_sha256`` is a pin of that version whose options have the row's task
    (``sbbench/results/_pins.py``). A row on a retired version stays checkable against
    that version's pins but is not ranked: it awaits a re-run on the current data.
    A version without pins counts as current if the sha256 is that of the data the
    current code builds with the default options of the task. ``reason`` says why not.
    """
    from ..results import DATASET_VERSIONS

    name, version, sha = row["dataset"], str(row["dataset_version"]), row["dataset_sha256"]
    versions = DATASET_VERSIONS.get(name) or {}
    pins = versions.get(version, {})
    if version in versions and pins is None:
        return True, "version accepted with any content"
    current = _current_version(name)
    if current is not None and version != current:
        retired = " (retired: its rows await a re-run)" if version in versions else ""
        return False, f"dataset version {version} is not the current version {current}{retired}"
    if pins:
        task_pins = sorted(v for k, v in pins.items() if _pin_task(k) == row["task"])
        if sha in task_pins:
            return True, "pinned data"
        pinned = ", ".join(p[:8] for p in task_pins) or "none"
        return False, (
            f"sha256 {sha[:8]} is not the pinned data of {name} v{version} "
            f"task {row['task']} (pinned: {pinned})"
        )
    if current is None:
        return False, f"unknown dataset {name}"
    floor = equivariant_floor(name, row["task"])
    if floor is not None and floor[1] == sha:
        return True, "data the current code builds"
    return False, f"sha256 {sha[:8]} is not the data the current code builds for {name}"


@functools.cache
def _current_version(name: str) -> str | None:
    from ..results import current_version

    return current_version(name)


def _load_name(dataset: str, task: str) -> str:
    return dataset if task == "default" else f"{dataset}:{task}"


@functools.cache
def equivariant_floor(dataset: str, task: str) -> tuple[float, str] | None:
    """``(floor_sbmse, sha256)`` of the task's current data (default options), or None.

    The floor is :func:`sbbench.curie.curie_check`'s SBMSE of the symmetrized target
    (the best an exactly equivariant model can do at exact symmetry of the input); the
    sha256 says which data it is the floor of; the floor is rounded to 6 significant
    digits. None if the dataset cannot be loaded (e.g. it is not a registered dataset).
    """
    from sbbench.curie import curie_check

    from ..results import dataset_sha256, load_named

    try:
        ds = load_named(_load_name(dataset, task))
        floor = float(curie_check(ds).floor_sbmse)
    except (ValueError, OSError, KeyError, TypeError, RuntimeError):
        return None
    # 6 significant digits: the page must not change with the last bits of the arithmetic
    return float(f"{floor:.6g}"), dataset_sha256(ds)


def paper_value(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The paper's number for a row made by ``sbbench reproduce TABLE --only KEY``.

    Returns ``{"table", "key", "paper", "ours", "metric"}`` (``ours``: mean ± std of the
    row in the paper's convention, ``metric``: its column) or None when the row was not
    made by a table's command or the paper has no value for it.
    """
    from sbbench.reproduce import PAPER_CONVENTION, TABLES, _row_key

    for table in sorted(TABLES):
        key = _row_key(row["command"], table)
        if key is None:
            continue
        spec = next((s for s in TABLES[table] if s.key == key), None)
        if spec is None or spec.paper.strip() in ("", "-"):
            return None
        metric = "sbcd_paper" if PAPER_CONVENTION[table] else "mse"
        return {
            "table": table,
            "key": key,
            "paper": spec.paper,
            "metric": metric,
            "ours": _pm(row[f"test_{metric}_mean"], row[f"test_{metric}_std"]),
        }
    return None


# ----------------------------------------------------------------------------- helpers


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _slug(*parts: str) -> str:
    out = "--".join(parts)
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in out)


def _colours(classes: Sequence[str]) -> dict[str, str]:
    out, extra = {}, iter(_EXTRA_COLOURS * 4)
    for c in sorted(set(classes)):
        out[c] = CLASS_COLOURS.get(c) or next(extra)
    return out


def _class_order(c: str) -> tuple[int, str]:
    order = list(CLASS_COLOURS)
    return (order.index(c) if c in order else len(order), c)


def _num(x: float) -> str:
    """A number as it is shown (4 significant digits)."""
    return f"{x:.4g}"


def _sort_num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decade(k: int) -> str:
    return "1" if k == 0 else "10" + str(k).translate(_SUP)


def _label(row: Mapping[str, Any]) -> str:
    return f"{row['model']} ({_loss(row)})"


def _short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _extras(hps: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    return [" ".join(f"{k}={hp[k]}" for k in keys if hp.get(k) is not None) for hp in hps]


def _labels(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Axis label of each row: model (and loss where they differ); rows that share a label
    get the model hyperparameters in which they differ, unset (``None``) ones left out.

    Rows record every hyperparameter, so e.g. PaiNN's Hessian-head options are ``None``
    on the tensor rows and set on the hessian rows. An option set to one value wherever it
    is set follows from another (here ``variant``) and is left out too, unless the labels
    would then no longer tell apart rows that differ. Options set on every row come first.
    """
    one_loss = len({_loss(r) for r in rows}) == 1  # then the loss is said once, not per row
    base = [r["model"] if one_loss else _label(r) for r in rows]
    out = list(base)
    for lab in set(base):
        idx = [i for i, b in enumerate(base) if b == lab]
        if len(idx) < 2:
            continue
        hps = []
        for i in idx:
            hp = json.loads(rows[i]["hyperparameters"])
            model = hp.get("model", {}) if isinstance(hp, Mapping) else {}
            hps.append(model if isinstance(model, Mapping) else {})
        keys = sorted(
            {k for hp in hps for k in hp}, key=lambda k: (any(hp.get(k) is None for hp in hps), k)
        )
        differ = [k for k in keys if len({json.dumps(hp.get(k)) for hp in hps}) > 1]
        main = [
            k for k in differ if len({json.dumps(hp[k]) for hp in hps if hp.get(k) is not None}) > 1
        ]

        chosen = _extras(hps, main)
        if len(set(chosen)) < len(set(_extras(hps, differ))):
            chosen = _extras(hps, differ)
        for i, extra in zip(idx, chosen, strict=True):
            out[i] = f"{lab} {extra}".rstrip()
    return out


def _hparams(row: Mapping[str, Any]) -> tuple[str, str]:
    """(model k=v, full hyperparameters as k=v lines)."""
    hp = json.loads(row["hyperparameters"])
    lines = []
    if isinstance(hp, Mapping):
        for section, values in sorted(hp.items()):
            if isinstance(values, Mapping):
                kv = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(values.items()))
                lines.append(f"{section}: {kv}")
            else:
                lines.append(f"{section}: {json.dumps(values)}")
    return _model_hparams(row), "\n".join(lines)


def _link(target: Path | None, out_dir: Path) -> str | None:
    """Relative URL from ``out_dir`` to ``target`` (None if it does not exist)."""
    if target is None or not target.is_file():
        return None
    try:
        rel = os.path.relpath(target.resolve(), out_dir.resolve())
    except ValueError:  # another drive (Windows)
        return target.resolve().as_uri()
    return "/".join(rel.split(os.sep))


def _root() -> Path | None:
    from sbbench._paths import repo_root

    return repo_root()


def _data_card(dataset: str) -> Path | None:
    root = _root()
    if root is not None:
        return root / "datasets" / dataset / "README.md"
    try:
        from sbbench._paths import shipped_file

        return shipped_file(dataset, "README.md")
    except FileNotFoundError:
        return None


def _repo_file(*parts: str) -> Path | None:
    root = _root()
    return None if root is None else root.joinpath(*parts)


# ----------------------------------------------------------------------------- figure

_FIG_H = 300  # plot area height
_TOP, _BOTTOM, _LEFT, _RIGHT = 78, 176, 64, 96  # the floor's label sits in the right margin
_SLOT = 38
_MIN_WIDTH = 720


def _figure(
    dataset: str,
    task: str,
    groups: Sequence[tuple[tuple, list[tuple[int, dict[str, Any]]]]],
    floor: tuple[float, str] | None,
) -> str:
    """Inline SVG: test SBMSE (log scale) of every ranked row of a task, with the floor."""
    items = [(key, rk, r) for key, members in groups for rk, r in members]
    n = len(items)
    width = max(_LEFT + _RIGHT + _SLOT * n, _MIN_WIDTH)
    right = width - _RIGHT  # right edge of the plot area
    slot = (right - _LEFT) / max(n, 1)
    height = _TOP + _FIG_H + _BOTTOM
    floor_value = floor[0] if floor is not None else None
    drawn_floor = floor_value is not None and floor_value > _FLOOR_ZERO
    values = []
    for _, _, r in items:
        m, s = r[RANK_COLUMN], r["test_sbmse_std"]
        values += [m, m + s]
        if m - s > 0:
            values.append(m - s)
    if drawn_floor:
        values.append(floor_value)
    positive = [v for v in values if v > 0]
    lo = math.floor(math.log10(min(positive))) if positive else -3
    hi = math.ceil(math.log10(max(positive))) if positive else 0
    if hi <= lo:
        hi = lo + 1
    y_of = lambda v: _TOP + _FIG_H * (hi - math.log10(max(v, 10.0**lo))) / (hi - lo)
    x_of = lambda i: _LEFT + slot * (i + 0.5)
    title = f"{dataset}:{task}" if task != "default" else dataset
    colours = _colours([r["symmetry_class"] for _, _, r in items])
    labels = _labels([r for _, _, r in items])
    out = [
        f'<svg class="figure" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width:.0f}" height="{height}" viewBox="0 0 {width:.0f} {height}" '
        f'data-dataset="{_e(dataset)}" data-task="{_e(task)}" data-points="{n}">',
        f"<title>{_e(title)}: test SBMSE of every ranked row (log scale) against the "
        "equivariant floor</title>",
        f'<rect class="plot" x="{_LEFT}" y="{_TOP}" width="{right - _LEFT:.1f}" '
        f'height="{_FIG_H}" fill="#fff" stroke="#bbb"/>',
    ]
    step = 1 if hi - lo <= 8 else 2
    for k in range(lo, hi + 1):
        y = y_of(10.0**k)
        if (k - lo) % step == 0:
            out.append(
                f'<line class="grid" x1="{_LEFT}" x2="{right:.1f}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="#e5e5e5"/>'
                f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'font-size="12">{_decade(k)}</text>'
            )
    mid = _TOP + _FIG_H / 2
    out.append(
        f'<text x="16" y="{mid:.0f}" font-size="13" text-anchor="middle" '
        f'transform="rotate(-90 16 {mid:.0f})">test SBMSE (log scale)</text>'
    )
    # group separators and labels (when a task has rows under several ranking groups)
    start = 0
    for key, members in groups:
        if len(groups) > 1:
            x0 = _LEFT + slot * start
            if start:
                out.append(
                    f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{_TOP}" y2="{_TOP + _FIG_H}" '
                    f'stroke="#999" stroke-dasharray="2 3"/>'
                )
            label = f"split {key[4]}, v{key[1]} {key[2][:8]}"
            out.append(
                f'<text x="{x0 + 4:.1f}" y="{_TOP + 14}" font-size="11" fill="#555">'
                f"{_e(label)}</text>"
            )
        start += len(members)
    note = _FLOOR_NOTES.get(dataset)
    if drawn_floor:
        y = y_of(floor_value)
        label = f"equivariant floor {_num(floor_value)}" + (" (at exact symmetry)" if note else "")
        out.append(
            f'<g class="floor" data-value="{_sort_num(floor_value)}">'
            f"<title>{_e(label)}; data sha256 {floor[1][:8]}"
            f"{_e('; ' + note) if note else ''}</title>"
            f'<line x1="{_LEFT}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#333" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{right + 6:.1f}" y="{y - 3:.1f}" font-size="12" fill="#333">floor</text>'
            f'<text x="{right + 6:.1f}" y="{y + 11:.1f}" font-size="12" fill="#333">'
            f"{_e(_num(floor_value))}</text></g>"
        )
    for i, (_, rk, r) in enumerate(items):
        m, s = r[RANK_COLUMN], r["test_sbmse_std"]
        x, colour = x_of(i), colours[r["symmetry_class"]]
        tip = (
            f"#{rk} {labels[i]}, {r['symmetry_class']}: test SBMSE {_pm(m, s)} "
            f"({r['n_seeds']} seeds x {r['n_folds']} folds), id {r['submission_id']}"
        )
        g = [
            f'<g class="point" data-id="{_e(r["submission_id"])}" '
            f'data-class="{_e(r["symmetry_class"])}"><title>{_e(tip)}</title>'
        ]
        if s > 0:
            y1, y2 = (y_of(m - s) if m - s > 0 else _TOP + _FIG_H), y_of(m + s)
            g.append(
                f'<line class="spread" x1="{x:.1f}" x2="{x:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
                f'<line x1="{x - 4:.1f}" x2="{x + 4:.1f}" y1="{y2:.1f}" y2="{y2:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
            if m - s > 0:
                g.append(
                    f'<line x1="{x - 4:.1f}" x2="{x + 4:.1f}" y1="{y1:.1f}" y2="{y1:.1f}" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
        g.append(
            f'<circle class="pt" cx="{x:.1f}" cy="{y_of(m):.1f}" r="5.5" fill="{colour}" '
            f'stroke="#fff" stroke-width="1"/>'
        )
        ly = _TOP + _FIG_H + 10
        g.append(
            f'<text x="{x + 4:.1f}" y="{ly}" font-size="11" text-anchor="end" '
            f'transform="rotate(-60 {x + 4:.1f} {ly})">{_e(_short(labels[i]))}</text></g>'
        )
        out.append("".join(g))
    # legend: symmetry classes, then the spread bar and the floor
    lx, ly = _LEFT, 20
    for c in sorted(colours, key=_class_order):
        out.append(
            f'<g class="legend" data-class="{_e(c)}"><circle cx="{lx + 6}" cy="{ly - 4}" '
            f'r="5.5" fill="{colours[c]}"/><text x="{lx + 16}" y="{ly}" font-size="12">'
            f"{_e(c)}</text></g>"
        )
        lx += 28 + 7 * len(c)
    ly2 = ly + 22
    out.append(
        f'<line x1="{_LEFT + 6}" x2="{_LEFT + 6}" y1="{ly2 - 12}" y2="{ly2 + 3}" '
        f'stroke="#555" stroke-width="2"/><text x="{_LEFT + 16}" y="{ly2}" font-size="12">'
        "mean ± std over seeds x folds</text>"
    )
    fx = _LEFT + 210
    if floor_value is None:
        floor_text = "equivariant floor: not available for this dataset"
    elif not drawn_floor:
        floor_text = "equivariant floor 0: an equivariant model can fit this task exactly"
    else:
        floor_text = "equivariant floor: the best an exactly equivariant model can do"
        if note:
            floor_text += " (at exact symmetry)"
        out.append(
            f'<line x1="{fx}" x2="{fx + 26}" y1="{ly2 - 4}" y2="{ly2 - 4}" stroke="#333" '
            f'stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        fx += 32
    out.append(f'<text x="{fx}" y="{ly2}" font-size="12" fill="#333">{_e(floor_text)}</text>')
    losses = sorted({_loss(r) for _, _, r in items})
    if len(losses) == 1:
        out.append(
            f'<text x="{_LEFT}" y="{ly2 + 20}" font-size="12" fill="#333">every row trained '
            f"on loss {_e(losses[0])}</text>"
        )
    if not items:
        out.append(
            f'<text x="{(_LEFT + right) / 2:.0f}" y="{mid:.0f}" text-anchor="middle" '
            f'font-size="14" fill="#777">no ranked rows</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


# ----------------------------------------------------------------------------- tables

#: (header, kind) of the ranked tables; kind "number" sorts numerically.
_COLUMNS = (
    ("rank", "number"),
    ("model", "text"),
    ("symmetry", "text"),
    ("loss", "text"),
    ("test SBMSE", "number"),
    ("test CD", "number"),
    ("test SBCD", "number"),
    ("paper", "number"),
    ("ours, paper's metric", "number"),
    ("collapsed", "number"),
    ("model hparams", "text"),
    ("seeds x folds", "number"),
    ("split", "text"),
    ("data", "text"),
    ("rerun", "text"),
    ("id", "text"),
)


def _td(text: str, sort: str | None = None, cls: str | None = None, raw: bool = False) -> str:
    attrs = ""
    if cls:
        attrs += f' class="{cls}"'
    if sort is not None:
        attrs += f' data-sort="{_e(sort)}"'
    return f"<td{attrs}>{text if raw else _e(text)}</td>"


def _ranked_row(order: int, rk: int, r: Mapping[str, Any], colours: Mapping[str, str]) -> str:
    paper = paper_value(r)
    model_hp, all_hp = _hparams(r)
    cls = r["symmetry_class"]
    swatch = f'<span class="swatch" style="background:{colours.get(cls, "#7f7f7f")}"></span>'
    if paper is not None:
        paper_cell = _td(
            f'{_e(paper["paper"])}<br><span class="muted">{_e(paper["table"])}</span>',
            paper["paper"],
            "num" if paper["paper"][:1].isdigit() else None,
            raw=True,
        )
        ours_cell = _td(
            f'{_e(paper["ours"])}<br><span class="muted">{_e(paper["metric"])}</span>',
            paper["ours"],
            "num",
            raw=True,
        )
    else:
        paper_cell = _td("–", "")
        ours_cell = _td("–", "")
    cells = [
        _td(str(rk), str(rk), "rank"),
        _td(r["model"], cls="model"),
        _td(f"{swatch}{_e(cls)}", cls, "sym", raw=True),
        _td(_loss(r)),
        _td(
            _pm(r["test_sbmse_mean"], r["test_sbmse_std"]),
            _sort_num(r["test_sbmse_mean"]),
            "sbmse",
        ),
        _td(_pm(r["test_cd_mean"], r["test_cd_std"]), _sort_num(r["test_cd_mean"]), "num"),
        _td(_pm(r["test_sbcd_mean"], r["test_sbcd_std"]), _sort_num(r["test_sbcd_mean"]), "num"),
        paper_cell,
        ours_cell,
        _td(
            f"{r['test_collapsed']}/{r['test_predictions']}",
            _sort_num(r["test_collapsed"] / r["test_predictions"]),
        ),
        _td(
            f"{_e(model_hp)}<details><summary>all</summary><pre>{_e(all_hp)}</pre></details>",
            model_hp,
            raw=True,
        ),
        _td(f"{r['n_seeds']} x {r['n_folds']}", str(r["n_seeds"] * r["n_folds"])),
        _td(r["split_protocol"]),
        _td(
            f'v{_e(r["dataset_version"])} <code title="{_e(r["dataset_sha256"])}">'
            f"{_e(r['dataset_sha256'][:8])}</code>",
            f"{r['dataset_version']} {r['dataset_sha256']}",
            raw=True,
        ),
        _td(f'<code class="cmd">{_e(r["command"])}</code>', r["command"], "rerun", raw=True),
        _td(f"<code>{_e(r['submission_id'])}</code>", r["submission_id"], raw=True),
    ]
    return (
        f'<tr data-order="{order}" data-id="{_e(r["submission_id"])}" data-rank="{rk}">'
        + "".join(cells)
        + "</tr>"
    )


def _ranked_table(key: tuple, members: list[tuple[int, dict[str, Any]]], colours) -> str:
    g = dict(zip(GROUP_COLUMNS, key, strict=True))
    caption = (
        f"{g['dataset']} v{g['dataset_version']} (sha256 {g['dataset_sha256'][:12]}), "
        f"task {g['task']}, split {g['split_protocol']}: {len(members)} ranked "
        f"row{'s' if len(members) != 1 else ''}"
    )
    sorted_by = ' aria-sort="ascending"'
    head = "".join(
        f'<th data-type="{kind}"{sorted_by if name == "rank" else ""}>'
        f'<button type="button" class="sort">{_e(name)}</button></th>'
        for name, kind in _COLUMNS
    )
    body = "\n".join(_ranked_row(i, rk, r, colours) for i, (rk, r) in enumerate(members))
    return (
        f'<div class="scroll"><table class="board" data-group="{_e(json.dumps(list(key)))}">'
        f"<caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _stale_table(rows: Sequence[tuple[dict[str, Any], str]]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("model", "loss", "test SBMSE", "split", "data", "why not ranked", "id")
    )
    body = "\n".join(
        f'<tr data-id="{_e(r["submission_id"])}">'
        + _td(r["model"])
        + _td(_loss(r))
        + _td(_pm(r["test_sbmse_mean"], r["test_sbmse_std"]))
        + _td(r["split_protocol"])
        + _td(f"v{r['dataset_version']} {r['dataset_sha256'][:8]}")
        + _td(why)
        + _td(r["submission_id"])
        + "</tr>"
        for r, why in rows
    )
    return (
        '<div class="stale"><h4>not ranked: stale data</h4><p class="muted">Made on data '
        "that are not the pinned data of their dataset version and task; they are not "
        "comparable with the ranked rows. Rerun them.</p>"
        f'<div class="scroll"><table class="stale-rows"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table></div></div>"
    )


# ----------------------------------------------------------------------------- page

_CSS = """
:root { --fg: #1d1d1f; --muted: #666; --line: #ddd; --head: #f4f5f7; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #fafafa; }
header, main { max-width: 1500px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 28px 0 6px; border-bottom: 2px solid var(--line);
  padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
h4 { font-size: 14px; margin: 10px 0 4px; }
a { color: var(--accent); }
p { margin: 4px 0 8px; max-width: 110ch; }
.muted { color: var(--muted); font-size: 12px; }
nav ul { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap;
  gap: 6px 16px; }
nav li { white-space: nowrap; }
section.task { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 10px 14px; margin: 12px 0; }
.scroll { overflow-x: auto; }
svg.figure { display: block; max-width: 100%; height: auto; margin: 4px 0 8px;
  font-family: inherit; }
svg.figure g.point:hover circle { stroke: #000; stroke-width: 2; }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--head); position: sticky; top: 0; white-space: nowrap; }
th button.sort { font: inherit; font-weight: 600; background: none; border: 0; padding: 0;
  cursor: pointer; color: inherit; }
th button.sort::after { content: " \\2195"; color: #aaa; }
th[aria-sort="ascending"] button.sort::after { content: " \\25B2"; color: var(--fg); }
th[aria-sort="descending"] button.sort::after { content: " \\25BC"; color: var(--fg); }
tbody tr:nth-child(even) { background: #fbfbfc; }
tbody tr:hover { background: #eef4fb; }
td.rank { font-weight: 600; text-align: right; }
td.sbmse { font-weight: 600; white-space: nowrap; }
td.sym, td.num { white-space: nowrap; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
td.rerun { min-width: 44ch; }
code.cmd { white-space: pre-wrap; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: var(--accent); font-size: 12px; }
details pre { margin: 2px 0; font-size: 11px; white-space: pre-wrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; }
.stale { border-left: 3px solid #c77; padding-left: 10px; margin-top: 10px; }
figure.theta { margin: 8px 0; }
figure.theta img { max-width: 520px; width: 100%; border: 1px solid var(--line); background: #fff; }
figure.theta figcaption { font-size: 12px; color: var(--muted); }
footer { max-width: 1500px; margin: 24px auto; padding: 0 20px; color: var(--muted);
  font-size: 12px; }
"""

_JS = """
(function () {
  "use strict";
  function key(cell, numeric) {
    var v = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    v = v.trim();
    if (numeric) {
      var x = parseFloat(v);
      return isNaN(x) ? Infinity : x;
    }
    return v.toLowerCase();
  }
  function sortBy(table, col, th) {
    var numeric = th.getAttribute("data-type") === "number";
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
      if (x < y) { return -dir; }
      if (x > y) { return dir; }
      return Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order"));
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  var tables = document.querySelectorAll("table.board");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button.sort");
      if (button) { button.addEventListener("click", function () { sortBy(table, col, th); }); }
    });
  });
})();
"""


def _task_order(dataset: str, tasks: Sequence[str]) -> list[str]:
    from ..results import dataset_tasks

    known = dataset_tasks(dataset)
    seen = list(dict.fromkeys(tasks))
    return [t for t in known if t in seen] + [t for t in seen if t not in known]


def _section(dataset: str, rows: Sequence[dict[str, Any]], out_dir: Path) -> tuple[str, list]:
    """HTML of one dataset and the (task, n ranked, n stale) list for the contents."""
    card = _link(_data_card(dataset), out_dir)
    n = len(rows)
    parts = [
        f'<section class="dataset" id="{_slug(dataset)}" data-dataset="{_e(dataset)}">',
        f"<h2>{_e(dataset)}</h2>",
        f'<p class="muted">{n} submission{"s" if n != 1 else ""}'
        + (f' · <a href="{_e(card)}">data card</a>' if card else "")
        + "</p>",
    ]
    toc = []
    if not rows:
        parts.append("<p>(no rows)</p></section>")
        return "\n".join(parts), toc
    for task in _task_order(dataset, [r["task"] for r in rows]):
        task_rows = [r for r in rows if r["task"] == task]
        status = [(r, *row_status(r)) for r in task_rows]
        current = [r for r, ok, _ in status if ok]
        stale = [(r, why) for r, ok, why in status if not ok]
        groups: dict[tuple, list[tuple[int, dict[str, Any]]]] = {}
        for rk, r in rank_rows(current):
            groups.setdefault(tuple(r[c] for c in GROUP_COLUMNS), []).append((rk, r))
        floor = equivariant_floor(dataset, task)
        sid = _slug(dataset, task)
        toc.append((task, sid, len(current), len(stale)))
        label = f"{dataset}:{task}" if task != "default" else dataset
        parts.append(
            f'<section class="task" id="{sid}" data-dataset="{_e(dataset)}" '
            f'data-task="{_e(task)}" data-ranked="{len(current)}" data-stale="{len(stale)}">'
        )
        parts.append(f"<h3>{_e(label)}</h3>")
        floor_line = ""
        if floor is not None:
            note = _FLOOR_NOTES.get(dataset)
            value = "0 (reachable)" if floor[0] <= _FLOOR_ZERO else _num(floor[0])
            floor_line = (
                f"Equivariant floor (test SBMSE of the symmetrized target, "
                f"<code>sbbench curie {_e(_load_name(dataset, task))}</code>"
                f"{', ' + _e(note) if note else ''}): <strong>{_e(value)}</strong> on data "
                f"<code>{_e(floor[1][:8])}</code>. "
            )
        parts.append(
            f'<p class="muted">{floor_line}{len(current)} ranked, {len(stale)} not ranked.</p>'
        )
        colours = _colours([r["symmetry_class"] for r in current])
        parts.append(_figure(dataset, task, list(groups.items()), floor))
        for key, members in groups.items():
            parts.append(_ranked_table(key, members, colours))
        if not groups:
            parts.append("<p>(no ranked rows)</p>")
        if stale:
            parts.append(_stale_table(stale))
        fig = FIGURES.get((dataset, task))
        src = _link(_repo_file("docs", "figures", fig[0]), out_dir) if fig else None
        if fig and src:
            parts.append(
                f'<figure class="theta"><a href="{_e(src)}"><img src="{_e(src)}" '
                f'alt="{_e(fig[1])}"></a><figcaption>Relaxed-E(3): {_e(fig[1])}'
                "</figcaption></figure>"
            )
        parts.append("</section>")
    parts.append("</section>")
    return "\n".join(parts), toc


def render_html(
    boards: Mapping[str, Sequence[Mapping[str, Any]]], out_dir: str | os.PathLike
) -> str:
    """The leaderboard page of ``boards`` (dataset -> rows as :func:`read_leaderboard` gives).

    ``out_dir`` is the folder the page will be written to; links to the data cards and
    figures of the checkout are made relative to it. Datasets come in sorted order.
    """
    out = Path(out_dir)
    sections, toc = [], []
    for dataset in sorted(boards):
        text, tasks = _section(dataset, [dict(r) for r in boards[dataset]], out)
        sections.append(text)
        toc.append((dataset, tasks))
    links = []
    for label, parts in (
        ("metrics", ("docs", "metrics.md")),
        ("reproduction of the papers", ("docs", "reproduction.md")),
        ("submitting", ("leaderboards", "README.md")),
    ):
        href = _link(_repo_file(*parts), out)
        if href:
            links.append(f'<a href="{_e(href)}">{_e(label)}</a>')
    nav = []
    for dataset, tasks in toc:
        if not tasks:
            nav.append(f'<li><a href="#{_slug(dataset)}">{_e(dataset)}</a> (no rows)</li>')
        for task, sid, n_ranked, n_stale in tasks:
            label = f"{dataset}:{task}" if task != "default" else dataset
            extra = f", {n_stale} stale" if n_stale else ""
            nav.append(f'<li><a href="#{sid}">{_e(label)}</a> ({n_ranked}{extra})</li>')
    theta = []
    for (dataset, task), (fname, caption) in FIGURES.items():
        src = _link(_repo_file("docs", "figures", fname), out)
        if src:
            label = f"{dataset}:{task}" if task != "default" else dataset
            theta.append(f'<a href="{_e(src)}" title="{_e(caption)}">{_e(label)}</a>')
    intro = (
        "Ranked by ascending mean test SBMSE among rows on the same dataset version and "
        "data (sha256), task and split protocol, as <code>sbbench leaderboard</code> ranks "
        "them; means that agree to 4 significant digits share a rank. Scores are mean ± "
        "sample std over all (seed, fold) runs; CD and SBCD in the sbbench convention "
        "(symmetric, mean). <em>paper</em>: the published number for rows made by "
        "<code>sbbench reproduce</code>, next to ours in the paper's metric (one-sided "
        "m(X, Y), summed, for the SANN tables, where a collapsed prediction can score ~0: "
        "see <em>collapsed</em>). Click a column header to sort."
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>sbbench leaderboards</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<header>",
            "<h1>sbbench leaderboards</h1>",
            f"<p>{intro}</p>",
            '<p class="muted">Generated by <code>sbbench leaderboard --format html</code> from '
            "<code>leaderboards/*.csv</code>"
            + (" · " + " · ".join(links) if links else "")
            + (" · relaxed-E(3) figures: " + ", ".join(theta) if theta else "")
            + "</p>",
            f"<nav><ul>{''.join(nav)}</ul></nav>",
            "</header>",
            "<main>",
            *sections,
            "</main>",
            "<footer>sbbench · static page, no server or network needed.</footer>",
            f"<script>{_JS}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_html(
    boards: Mapping[str, Sequence[Mapping[str, Any]]], out_dir: str | os.PathLike
) -> Path:
    """Write :func:`render_html` to ``out_dir/index.html`` (atomically); return its path."""
    from .._io import atomic_write_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    atomic_write_bytes(path, render_html(boards, out).encode("utf-8"))  # umask mode
    return path
