"""Plain, readable command-line text (issue 18 item 7).

``sbbench ls`` printed raw LaTeX (and float's docstring for COLLAPSE_THRESHOLD),
``sbbench qm7x --help`` RST markup, and ``fetch --help`` did not say where files go
or what happens when the download is impossible.
"""

from __future__ import annotations

import re

import pytest

from sbbench.cli import build_parser, main
from sbbench.cli.ls import plain_text

MARKUP = [
    (r"\\[A-Za-z]+", "LaTeX command"),
    (r"``", "RST literal"),
    (r":(func|class|data|meth|math|mod|attr):`", "RST role"),
    (r"\n-{3,}\n", "RST section underline"),
    (r"\{[^{}\s]*[_^\\][^{}]*\}", "LaTeX braces"),
]


def assert_plain(text: str) -> None:
    for pattern, what in MARKUP:
        found = re.search(pattern, text)
        assert found is None, f"{what} {found.group(0)!r} in:\n{text}"


def print_help(*argv: str) -> None:
    """``sbbench ARGV --help`` (argparse prints it and exits 0)."""
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*argv, "--help"])
    assert info.value.code == 0


@pytest.mark.parametrize(
    "argv",
    [["ls"], ["qm7x"], ["qm7x", "curate"], ["fetch"], ["symmetry"]],
    ids=lambda a: " ".join(a),
)
def test_help_is_plain(argv, capsys):
    print_help(*argv)
    out = capsys.readouterr().out
    assert out.startswith("usage: sbbench")
    assert_plain(out)


def test_ls_is_plain(capsys):
    assert main(["ls"]) == 0
    out = capsys.readouterr().out
    assert_plain(out)
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ") and ln.split()}
    assert "min_g CD(pred, g · target)" in lines["sbcd"]
    assert "min_g (1/N) Σ_i |f_π_g(i) - R_g y_i|^2" in lines["sbmse"]
    assert "floating point" not in lines["COLLAPSE_THRESHOLD"]  # was float's own docstring
    assert "0.1" in lines["COLLAPSE_THRESHOLD"] and "collapsed" in lines["COLLAPSE_THRESHOLD"]


@pytest.mark.parametrize(
    ("rst", "plain"),
    [
        ("``x`` (N, D) and :func:`sbcd_batch`", "x (N, D) and sbcd_batch"),
        (":class:`~sbbench.symmetry.PointGroup` and `y`", "PointGroup and y"),
        (r":math:`\min_{g} \mathrm{CD}(\mathrm{pred}, g \cdot y)`", "min_g CD(pred, g · y)"),
        (r":math:`\bar y_i = \frac{1}{|G|} \sum_g R_g^{\top} y_i`", "ȳ_i = (1/|G|) Σ_g R_g^T y_i"),
        (r"the target is :math:`\tfrac32 r_i`.", "the target is (3/2) r_i."),
        (r":math:`\varepsilon \le \sqrt{\alpha}`", "ε ≤ sqrt(α)"),
        ("**bold**, {identity}", "bold, {identity}"),
    ],
)
def test_plain_text(rst, plain):
    assert plain_text(rst) == plain


def test_fetch_help_says_where_and_what_if_offline(capsys):
    print_help("fetch")
    out = " ".join(capsys.readouterr().out.split())
    assert "$SBBENCH_DATA/qm7x" in out and "~/.cache/sbbench/data/qm7x" in out
    assert "NNNN.xz.part" in out and "resumes" in out
    assert "download is impossible" in out and "exit code 2" in out
    assert "shipped reference set" in out and "sbbench qm7x curate" in out


def test_fetch_offline_is_one_line_error_and_leaves_no_file(tmp_path, capsys):
    """What the help promises: no server -> one line, exit 2, nothing half-written."""
    dest = tmp_path / "qm7x"
    argv = ["fetch", "qm7x", "--dest", str(dest), "--files", "DupMols", "--no-progress"]
    assert main([*argv, "--url-base", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sbbench: error: download of http://127.0.0.1:9/")
    assert not (dest / "DupMols.dat").exists()
