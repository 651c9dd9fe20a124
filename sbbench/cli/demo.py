"""Show CD and SBCD on the square -> rectangle example (SANN Table 1), using only sbbench.metrics.

A square has the symmetry D4h. Stretching it into a rectangle breaks that
symmetry: the rectangle along x and the rectangle along y are equally valid
outcomes. The demo scores three predictions against the target "rectangle
along x": the rectangle along y (a valid outcome: SBCD = 0, CD > 0), the
undeformed square (what a strictly equivariant model is stuck with) and the
target itself.

Example:
  sbbench demo
"""

from __future__ import annotations

import argparse

from sbbench.cli import CLIError

HELP = "score three predictions for square -> rectangle with CD and SBCD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stretch",
        type=float,
        default=0.5,
        help="relative stretch s of the sides, 0 < s < 1: 2(1+s) x 2(1-s) (default 0.5)",
    )


def run(args: argparse.Namespace) -> int:
    import itertools

    import numpy as np

    from sbbench.metrics import chamfer, sbcd

    if not 0 < args.stretch < 1:  # also NaN; at 1 a side is 0, above it the sides flip
        raise CLIError(f"--stretch must be between 0 and 1 (exclusive), got {args.stretch}")
    square = np.array([[1.0, 1, 0], [-1, 1, 0], [-1, -1, 0], [1, -1, 0]])
    target = square * [1 + args.stretch, 1 - args.stretch, 1]
    # D4h: the 16 signed permutations of (x, y) combined with z -> +-z
    ops = []
    for perm in ((0, 1), (1, 0)):
        for sx, sy, sz in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[0, perm[0]], m[1, perm[1]], m[2, 2] = sx, sy, sz
            ops.append(m)
    ops.sort(key=lambda m: not np.allclose(m, np.eye(3)))
    ops = np.array(ops)
    rows = {
        "rectangle along y": target[:, [1, 0, 2]],
        "undeformed square": square,
        "rectangle along x": target,
    }
    print(f"target: rectangle along x, |Sym(square)| = {len(ops)} (D4h)")
    print(f"{'prediction':<22}{'CD':>10}{'SBCD':>10}")
    for name, pred in rows.items():
        cd, sb = float(chamfer(pred, target)), float(sbcd(pred, target, ops))
        print(f"{name:<22}{cd:>10.4f}{sb:>10.4f}")
    print("\nNext: 'sbbench --help' lists the commands; see README.md for the benchmark.")
    return 0
