r"""Charged particle in constant E and B fields (relaxed-E(3) paper, Sec. 5.2, App. B.2).

Physics
    Lorentz force :math:`\mathbf F = q(\mathbf E + \mathbf v \times \mathbf B)` with
    :math:`\mathbf E = [1, 0, 0]` and :math:`\mathbf B = [0, 1, 0]`, as in the paper.
    Natural units: charge q = 1 (option ``charge``), mass m = 1, field strengths 1,
    time in units of :math:`m / (q |B|)`; positions are reported in the ``pos``
    slot (nominally Å) and velocities in position units per time unit.

Trajectory
    ``n_trajectories`` trajectories (paper: 1), each from a random initial
    position and velocity (standard normal components, ``seed``), integrated
    with the classical 4th-order Runge-Kutta method for :math:`\dot x = v`,
    :math:`\dot v = (q/m)(E + v \times B)`
    with step ``dt`` (default 0.01) and recorded every ``stride`` (default 10)
    steps, ``n_steps`` (default 100) samples per trajectory. RK4's global error is
    O(dt^4); the tests check the work-energy theorem
    :math:`\tfrac12 m |v_t|^2 - \tfrac12 m |v_0|^2 = q E \cdot (x_t - x_0)`
    (the magnetic force does no work) to 1e-8.

Sample (one per recorded time step, N = 1 node)
    ``pos`` (1, 3) position, ``node_vec`` (1, 3) velocity, ``node_attr`` (1, 1)
    charge (the paper's :math:`1_o \oplus 0_e` input), ``z`` = [1], ``mol_id`` =
    trajectory index, target ``y`` (1, 3) = the force at that time step.

Symmetry
    The input (a point with a velocity) has the continuous symmetry
    :math:`C_{\infty v}` about v; the target breaks it *explicitly* through the
    fixed external fields, which are not part of the input. The target is a
    function of the input in the lab frame, so the task is scored without
    symmetry: ``sym_ops`` is the identity only and SBCD reduces to the plain
    error (the paper reports training MSE, Table 1).

Best strictly equivariant score
    A strictly E(3)-equivariant function of (v, q) can only return
    :math:`f(|v|, q)\,\hat{\mathbf v}` (no pseudovector can be formed from one
    polar vector), so at best it fits the component of F along v; the minimum
    squared error per sample is :math:`|F_\perp|^2 = |F|^2 - (F \cdot \hat v)^2`.
    :func:`equivariant_optimum` returns its dataset mean (per component: /3).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from torch_geometric.data import Data

from ._base import SBDataset, make_sample
from ._registry import register

__all__ = [
    "ChargedParticle",
    "E_FIELD",
    "B_FIELD",
    "lorentz_force",
    "trajectory",
    "equivariant_optimum",
]

E_FIELD = np.array([1.0, 0.0, 0.0])
B_FIELD = np.array([0.0, 1.0, 0.0])


def lorentz_force(v: np.ndarray, charge: float = 1.0) -> np.ndarray:
    """q (E + v x B) for velocities ``v`` (..., 3)."""
    return charge * (E_FIELD + np.cross(v, B_FIELD))


def trajectory(
    x0: np.ndarray, v0: np.ndarray, *, dt: float, n_steps: int, stride: int, charge: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """RK4 trajectory (mass 1): positions and velocities (n_steps, 3) every ``stride`` steps,
    starting with (x0, v0)."""
    state = np.concatenate([x0, v0]).astype(np.float64)

    def rhs(s: np.ndarray) -> np.ndarray:
        return np.concatenate([s[3:], lorentz_force(s[3:], charge)])

    out = np.empty((n_steps, 6))
    for k in range(n_steps):
        out[k] = state
        for _ in range(stride):
            k1 = rhs(state)
            k2 = rhs(state + 0.5 * dt * k1)
            k3 = rhs(state + 0.5 * dt * k2)
            k4 = rhs(state + dt * k3)
            state = state + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return out[:, :3], out[:, 3:]


def equivariant_optimum(dataset: Any, *, per_component: bool = False) -> float:
    """Mean over samples of |F_perp|^2, the least squared error of an equivariant model."""
    errs = []
    for data in dataset:
        v = data.node_vec[0].double().numpy()
        f = data.y[0].double().numpy()
        vhat = v / np.linalg.norm(v)
        errs.append(float(f @ f - (f @ vhat) ** 2))
    mean = float(np.mean(errs))
    return mean / 3.0 if per_component else mean


@register("charged_particle")
class ChargedParticle(SBDataset):
    """Force on a charged particle in E = x, B = y from its velocity (relaxed-E(3), Sec. 5.2)."""

    defaults: ClassVar[dict[str, Any]] = {
        "n_trajectories": 1,
        "n_steps": 100,
        "dt": 0.01,
        "stride": 10,
        "charge": 1.0,
        "seed": 0,
    }
    protocol = "same"
    version = 2  # 2: samples carry sym_perms (atom permutations of sym_ops)
    tol = 0.1

    @classmethod
    def validate(cls, opts: dict[str, Any]) -> None:
        for key in ("n_trajectories", "n_steps", "stride"):
            cls._require(opts, key, opts[key] >= 1, "a positive integer")
        cls._require(opts, "dt", opts["dt"] > 0, "a positive time step")
        cls._require(opts, "charge", opts["charge"] != 0, "non-zero")

    def build(self) -> list[Data]:
        o = self.options
        rng = np.random.default_rng(o["seed"])
        out: list[Data] = []
        for traj in range(o["n_trajectories"]):
            x0, v0 = rng.normal(size=3), rng.normal(size=3)
            xs, vs = trajectory(
                x0, v0, dt=o["dt"], n_steps=o["n_steps"], stride=o["stride"], charge=o["charge"]
            )
            for x, v in zip(xs, vs, strict=True):
                out.append(
                    make_sample(
                        [1],
                        x[None],
                        lorentz_force(v, o["charge"])[None],
                        idx=len(out),
                        tol=self.tol,
                        node_vec=v[None],
                        node_attr=[[o["charge"]]],
                        mol_id=traj,
                        ops=np.eye(3)[None],
                    )
                )
        return out
