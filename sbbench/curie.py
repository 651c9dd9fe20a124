r"""The Curie check: can a strictly equivariant model fit this dataset at all?

Curie's principle: an equivariant f maps an input with symmetry group Sym(x)
to an output at least as symmetric, :math:`f(x)_{\pi_g(i)} = R_g f(x)_i` for
every :math:`g \in \mathrm{Sym}(x)`. For every sample this module compares
Sym(input) with the stabilizer of the target. Sym(input) is recomputed from
everything a model sees (:func:`sbbench.datasets.input_symmetry`: positions,
atom types, ``node_attr``, ``node_vec``), not taken from the sample's
``sym_ops``: a dataset may evaluate with a smaller group (``charged_particle``
scores with the identity because its fields are fixed in the lab frame), yet
its input is still more symmetric than its target. The stabilizer is

.. math:: \mathrm{Stab}(y) = \{g \in \mathrm{Sym}(x) :
          \max_i \lVert R_g y_i - y_{\pi_g(i)} \rVert \le \varepsilon\},

with :math:`\varepsilon` = ``target_tol`` times the largest target component
of the sample (near that tolerance the passing operations need not be closed
under products; the largest subgroup that passes is taken,
:func:`sbbench.symmetry.largest_subgroup`), and reports the **equivariant
floor**: CD and SBCD of the symmetrized target
:math:`\bar y_i = \frac{1}{|G|} \sum_g R_g^{\top} y_{\pi_g(i)}`
(the Reynolds projection of y onto the outputs an equivariant model can
produce, :meth:`sbbench.symmetry.PointGroup.reynolds`; the mean of g·y over Sym(x)).
In SBMSE the floor is exact: an equivariant output is invariant under Sym(x), so its
SBMSE equals its MSE, which the projection minimises, giving
:math:`\frac{1}{N}\sum_i \lVert y_i - \bar y_i \rVert^2`. A floor above zero means a
strictly equivariant model cannot reach a perfect score, on exactly symmetric inputs:
where an input is symmetric only within the detection tolerance
(``input_asymmetry`` > 0, e.g. QM7-X conformers) the model sees the asymmetry and the
floor binds at exact symmetry only (``load("qm7x", symmetrize=True)`` makes it bind).
The projection is the best equivariant output in the least-squares sense; for CD/SBCD
the true optimum
can be a little lower (``sbbench.datasets.best_equivariant_score`` searches for it).

Group names are :func:`sbbench.symmetry.group_label`: a linear input has the infinite
group D*h or C*v, checked on its finite subgroup D8h or C8v and printed as
``D*h (as D8h)``, as ``sbbench symmetry`` prints it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import numpy as np

__all__ = ["CurieReport", "curie_check", "sample_check", "summary_line"]

DEFAULT_TARGET_TOL = 1e-2
"""Relative tolerance on the target: |R y_i - y_pi(i)| <= 1e-2 * max|y| counts as preserved."""


FLOOR_ZERO = 1e-9
"""Floors below this are round-off of an exactly reachable target, reported as reachable."""

EXACT_SYMMETRY = 1e-4
"""Å: inputs within this of their group count as exactly symmetric (float32 positions)."""


@dataclasses.dataclass
class SampleCurie:
    """Curie facts of one sample."""

    input_group: str
    target_group: str
    order_input: int
    order_target: int
    floor_cd: float
    floor_sbcd: float
    floor_sbmse: float
    #: Å, max over g in Sym(x) and atoms of |R_g x_i - x_pi(i)|: how far the input is
    #: from exact symmetry (0 up to rounding for symmetric inputs, up to the tolerance)
    input_asymmetry: float = 0.0

    @property
    def breaks(self) -> bool:
        return self.order_target < self.order_input


@dataclasses.dataclass
class CurieReport:
    """Dataset-level summary of :func:`curie_check`."""

    dataset: str
    n_samples: int
    n_breaking: int
    pairs: dict[str, int]
    floor_cd: float
    floor_sbcd: float
    floor_sbmse: float
    samples: list[SampleCurie]
    tol: float = 0.1

    @property
    def input_asymmetry(self) -> float:
        """Å, the largest :attr:`SampleCurie.input_asymmetry` of the dataset."""
        return max((s.input_asymmetry for s in self.samples), default=0.0)

    @property
    def fraction_breaking(self) -> float:
        return self.n_breaking / max(self.n_samples, 1)

    def format(self) -> str:
        lines = [
            f"Curie check of {self.dataset}: {self.n_breaking} of {self.n_samples} samples "
            f"({100 * self.fraction_breaking:.1f}%) have a target less symmetric than the input.",
        ]
        for pair, count in sorted(self.pairs.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {pair}: {count} samples")
        lines.append(
            f"Equivariant floor at exact symmetry (symmetrized target): "
            f"SBMSE {self.floor_sbmse:.5g}, CD {self.floor_cd:.5g}, SBCD {self.floor_sbcd:.5g}"
        )
        if any("(as " in pair for pair in self.pairs):
            lines.append(
                "'D*h (as D8h)': the infinite group of a linear molecule (C*v, D*h; Kh of one "
                "atom), checked on the finite subgroup in brackets (sbbench.symmetry.group_label)."
            )
        if max(self.floor_sbcd, self.floor_sbmse) > FLOOR_ZERO:
            if self.input_asymmetry > EXACT_SYMMETRY:
                lines.append(
                    f"The inputs are symmetric only to within {self.input_asymmetry:.3g} Å "
                    f"(detection tolerance {self.tol:g} Å): a strictly equivariant model sees "
                    "that asymmetry and can score below this floor, which binds at exact "
                    "symmetry only (for QM7-X, load with symmetrize=True to make it bind)."
                )
            else:
                lines.append(
                    "A strictly equivariant model cannot score below this floor; "
                    "symmetry-breaking or relaxed models can."
                )
        return "\n".join(lines)


def sample_check(
    pos: Any,
    z: Any,
    y: Any,
    ops: Any,
    *,
    tol: float = 0.1,
    target_tol: float = DEFAULT_TARGET_TOL,
    metric: dict[str, Any] | None = None,
) -> SampleCurie:
    """Curie facts of one sample: input/target groups and the equivariant floor.

    ``ops`` (G, 3, 3) is Sym(input), identity first (e.g. ``input_symmetry(...)
    .operations``); a ValueError says which operation does not map the input onto
    itself. The detector returns *exact* group elements, fitted to the symmetrised
    structure: applied to the raw positions they can move an atom by more than
    ``tol`` (up to ~2 tol near the threshold), so they are matched to atoms within
    3 tol, the detector's own screening radius.
    """
    from sbbench.metrics import chamfer, sbcd, sbmse
    from sbbench.symmetry import PointGroup, group_label, largest_subgroup

    pos = np.asarray(pos, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    pg = PointGroup.from_operations(ops, pos, z, tol=3 * tol)
    ops, perms = pg.operations, pg.permutations
    pos_c = pos - pg.centroid
    n, d = y.shape
    blocks = y.reshape(n, d // 3, 3)
    scale = max(float(np.abs(y).max()), 1e-12)
    rows = np.swapaxes(ops, 1, 2)  # R^T: x @ R^T = R x on row-stacked points
    asym = float(np.linalg.norm(pos_c @ rows - pos_c[perms], axis=-1).max())
    moved = np.einsum("nka,gba->gnkb", blocks, ops)  # R_g y_i
    dev = np.abs(moved - blocks[perms]).max(axis=(1, 2, 3))
    # near the tolerance the passing operations need not form a group: take the
    # largest subgroup that passes (e.g. 26 of D8h's 32 for a near-linear molecule)
    keep = largest_subgroup(ops, dev, target_tol * scale)
    ybar = pg.reynolds(y)
    kw = metric or {}
    return SampleCurie(
        input_group=group_label(ops, pos, tol=tol),
        target_group=group_label(ops[keep], pos, tol=tol),
        order_input=len(ops),
        order_target=len(keep),
        floor_cd=float(chamfer(ybar, y, **kw)),
        floor_sbcd=float(sbcd(ybar, y, ops, **kw)),
        floor_sbmse=float(sbmse(ybar, y, ops, perms)),
        input_asymmetry=asym,
    )


def curie_check(
    dataset: Any,
    *,
    name: str | None = None,
    target_tol: float = DEFAULT_TARGET_TOL,
    metric: dict[str, Any] | None = None,
) -> CurieReport:
    """Run :func:`sample_check` on every sample of a dataset (Data contract)."""
    from sbbench.datasets import input_symmetry

    tol = max(float(getattr(dataset, "tol", 0.1)), 1e-3)
    samples = []
    for d in dataset:
        extra = {
            key: getattr(d, key).numpy()
            for key in ("node_attr", "node_vec")
            if getattr(d, key, None) is not None
        }
        pos, z = d.pos.numpy(), d.z.numpy()
        ops = input_symmetry(pos, z, tol=tol, **extra).operations
        check = sample_check(
            pos, z, d.y.numpy(), ops, tol=tol, target_tol=target_tol, metric=metric
        )
        samples.append(check)
    pairs = Counter(f"{s.input_group} -> {s.target_group}" for s in samples if s.breaks)
    return CurieReport(
        dataset=name or type(dataset).__name__,
        n_samples=len(samples),
        n_breaking=sum(s.breaks for s in samples),
        pairs=dict(pairs),
        floor_cd=float(np.mean([s.floor_cd for s in samples])),
        floor_sbcd=float(np.mean([s.floor_sbcd for s in samples])),
        floor_sbmse=float(np.mean([s.floor_sbmse for s in samples])),
        samples=samples,
        tol=tol,
    )


def summary_line(dataset: str, task: str | None, options: dict[str, Any]) -> str:
    """The paragraph ``sbbench run`` prints before training."""
    from sbbench.datasets import load

    opts = dict(options)
    if task:
        opts["task"] = task
    label = dataset + (f":{task}" if task else "")
    return curie_check(load(dataset, **opts), name=label).format()
