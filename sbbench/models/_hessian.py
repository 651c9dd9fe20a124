r"""Hessian-eigenvector output head (issue 17; SANN Sec. 6.2's conjecture).

The SANN paper explains PaiNN's success on the antisymmetric stretch of H2O by "the
vibrational modes can be recovered from the eigenvectors of the Hessian of the energy
with respect to the position". :class:`HessianHead` builds that mechanism for any model
that predicts an invariant molecular energy ``E(pos)``:

1. **Matrix.** ``H = d^2 E / dpos^2`` by double backward (``create_graph=True`` while
   training, so a loss on the eigenvector reaches the parameters), one ``3n x 3n``
   block per molecule (molecules never couple). ``E`` is O(3)- and
   permutation-invariant, so ``H(g x) = (P_g (x) R_g) H(x) (P_g (x) R_g)^T`` exactly:
   the matrix is strictly equivariant.
2. **Normal-mode analysis, as for a real Hessian** (``datasets/h2o_modes/make_modes.py``):
   mass weighting ``M^-1/2 H M^-1/2`` (masses of the most abundant isotope, from ``z``;
   ``mass_weighted=False``: unit masses) and projection onto the complement of the
   mass-weighted translations and rotations about the centre of mass
   (``project_rigid=True``; the 6 rigid-body modes, 5 for a linear molecule, are
   removed, not shifted). Normal modes are the Cartesian displacements
   ``d = M^-1/2 q`` of the eigenvectors ``q`` of that matrix; the target of
   ``h2o_modes`` is exactly such a ``d``. Without mass weighting the eigenvectors are
   Euclidean-orthogonal to the rigid translations (``sum_i d_i = 0``), which the B2
   mode of H2O is not (its oxygen moves against both hydrogens, sum_i d_i = -15 d_O):
   the literal "eigenvector of the Hessian" cannot be the normal mode.
3. **Mode selection by rank.** ``mode_rank`` indexes the internal eigenvalues in
   ascending order (negative: from the top, as in Python). For H2O's real Hessian:
   0 = bend (1617 cm^-1), 1 = symmetric stretch (3786), 2 = antisymmetric stretch
   (3891), the ranks the reproduction uses. The model has to learn a Hessian whose
   chosen eigenvalue sits at that rank.
4. **Sign.** An eigenvector is defined up to sign. It is fixed equivariantly by making
   its overlap with an equivariant reference vector field of the same model,
   ``w = -dE_ref/dpos`` (a second energy channel), non-negative. On an input without
   symmetry the overlap is a generic non-zero invariant, so the output is strictly
   equivariant. For an A1 mode at a symmetric input the overlap is an invariant too,
   so the sign follows the molecule (the output is Sym(x)-invariant, as it must be).
   For a mode that some g in Sym(x) flips (B2) the overlap with the Sym(x)-invariant
   ``w`` is exactly 0: the sign is then decided by rounding, which is where the
   symmetry breaks, and SBMSE's minimum over Sym(x) absorbs it. The hard sign has a
   straight-through gradient (``tanh`` of the normalised overlap) so that the
   reference field can learn which sign an A1 target has.
5. **Scale** (``normalize``): ``"total"`` (default) gives ``sum_i |d_i|^2 = 1``, the
   convention of ``h2o_modes`` ``targets="displacement"``; ``"atom"`` gives every atom
   a unit vector, the convention of ``targets="direction"``; ``"learned"`` multiplies
   the unit-norm pattern by ``softplus`` of a third invariant energy channel.
6. **Degenerate eigenvalues** make the eigenvector derivative ``1/(lambda_k - lambda_j)``
   blow up. :func:`eigh_broadened` replaces it by
   ``(lambda_k - lambda_j) / ((lambda_k - lambda_j)^2 + eps^2)`` with
   ``eps = eig_eps * max|lambda|`` (Lorentzian broadening); inside an exactly degenerate
   eigenspace the choice of eigenvector is the solver's (basis-dependent: another
   symmetry-breaking choice, e.g. for the T2 modes of a Td molecule).
7. **Learning the ordering.** At a symmetric input the eigenvector derivative couples
   only eigenvectors of the same irrep (``v_j^T dH v_k = 0`` otherwise, by Schur's
   lemma), so a loss on the selected eigenvector alone gives the *ordering* of the
   eigenvalues no gradient: a model that starts with an A1 eigenvalue at the rank of
   the B2 target stays there (SBMSE 2/3 on ``asym``, above the floor 1/3). With
   ``rank_grad=True`` (default) the forward pass keeps the hard rank, and the
   backward pass is that of a soft selection ``sum_j w_j s_j v_j`` with
   ``w = softmax(-((lambda_j - lambda_k) / T)^2)``, ``T = rank_tau * max|lambda|``
   (straight-through), which moves the right eigenvalue to the chosen rank. A mode
   whose sign Sym(x) flips gets the gradient of its better sign (:class:`_SoftRank`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sbbench.errors import InputError

__all__ = [
    "HessianHead",
    "HessianOutputMixin",
    "hessian_options",
    "NORMALIZE",
    "eigh_broadened",
    "molecule_hessians",
    "rigid_body_basis",
    "internal_basis",
]

NORMALIZE = ("total", "atom", "learned")


def _masses(z: Tensor, dtype: torch.dtype) -> Tensor:
    from ase.data import atomic_masses_common

    table = torch.as_tensor(atomic_masses_common, dtype=dtype, device=z.device)
    return table[z]


def rigid_body_basis(pos: Tensor, masses: Tensor) -> Tensor:
    """Orthonormal basis ``(3n, r)`` of the mass-weighted translations and rotations.

    ``r`` is 6 for a non-linear molecule, 5 for a linear one, 3 for one atom.
    """
    n = pos.shape[0]
    sqrt_m = masses.sqrt()
    com = (masses[:, None] * pos).sum(0) / masses.sum()
    r = pos - com
    eye = torch.eye(3, dtype=pos.dtype, device=pos.device)
    vecs = [(sqrt_m[:, None] * eye[a]).expand(n, 3).reshape(-1) for a in range(3)]
    vecs += [
        (torch.cross(eye[a].expand(n, 3), r, dim=-1) * sqrt_m[:, None]).reshape(-1)
        for a in range(3)
    ]
    u, s, _ = torch.linalg.svd(torch.stack(vecs, 1), full_matrices=False)
    return u[:, s > 1e-8 * s.max()]


def internal_basis(pos: Tensor, masses: Tensor) -> Tensor:
    """Orthonormal basis ``(3n, 3n - r)`` of the complement of :func:`rigid_body_basis`."""
    q = rigid_body_basis(pos, masses)
    proj = torch.eye(q.shape[0], dtype=pos.dtype, device=pos.device) - q @ q.T
    evals, evecs = torch.linalg.eigh(proj)
    return evecs[:, evals > 0.5]


class _EighBroadened(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, eps: float):
        evals, evecs = torch.linalg.eigh(a)
        ctx.save_for_backward(evals, evecs)
        ctx.eps = eps
        return evals, evecs

    @staticmethod
    def backward(ctx, g_evals: Tensor | None, g_evecs: Tensor | None):
        evals, evecs = ctx.saved_tensors
        inner = torch.zeros_like(evecs)
        if g_evecs is not None:
            diff = evals[..., None, :] - evals[..., :, None]  # [i, j] = l_j - l_i
            scale = evals.abs().amax(-1, keepdim=True)[..., None].clamp_min(1e-30)
            e2 = (ctx.eps * scale) ** 2
            denom = diff.pow(2) + e2
            off = ~torch.eye(evals.shape[-1], dtype=torch.bool, device=evals.device)
            f = torch.where(off & (denom > 0), diff / denom.clamp_min(1e-300), 0.0)
            inner = f * (evecs.transpose(-1, -2) @ g_evecs)
        if g_evals is not None:
            inner = inner + torch.diag_embed(g_evals)
        grad = evecs @ inner @ evecs.transpose(-1, -2)
        return 0.5 * (grad + grad.transpose(-1, -2)), None


def eigh_broadened(a: Tensor, eps: float = 1e-3) -> tuple[Tensor, Tensor]:
    """``torch.linalg.eigh`` with a Lorentzian-broadened eigenvector gradient.

    The factor ``1 / (lambda_j - lambda_i)`` of the eigenvector derivative becomes
    ``d / (d^2 + (eps max|lambda|)^2)``: finite at degeneracies, exact far from them.
    ``eps = 0`` gives torch's gradient (infinite at degeneracies).
    """
    return _EighBroadened.apply(a, float(eps))


def molecule_hessians(
    energy: Tensor, pos: Tensor, batch: Tensor, create_graph: bool
) -> tuple[list[Tensor], Tensor]:
    """Per-molecule Hessians ``d^2 E_b / dpos^2`` ``(3 n_b, 3 n_b)`` and the gradient.

    ``energy`` ``(B,)`` must depend on ``pos`` (which requires grad) twice
    differentiably. The Hessian is block diagonal over molecules, so ``3 max(n_b)``
    double-backward passes give all blocks (pass ``(a, c)`` contracts the gradient
    with a one-hot on the ``a``-th atom of every molecule, component ``c``). Atoms of
    a molecule must be contiguous (PyG batches are); the passes run batched
    (``is_grads_batched``).
    Returns ``(blocks, grad)`` with ``grad`` ``(N, 3)``.
    """
    (grad,) = torch.autograd.grad(energy.sum(), pos, create_graph=True)
    counts = torch.bincount(batch)
    ptr = torch.cumsum(counts, 0) - counts
    n_max = int(counts.max())
    sel = pos.new_zeros(n_max, 3, *pos.shape)
    for a in range(n_max):
        atoms = (ptr + a)[counts > a]
        for c in range(3):
            sel[a, c, atoms, c] = 1.0
    sel = sel.reshape(3 * n_max, *pos.shape)
    try:  # all passes at once (vmap over grad_outputs)
        (r,) = torch.autograd.grad(
            grad,
            pos,
            grad_outputs=sel,
            create_graph=create_graph,
            retain_graph=True,
            is_grads_batched=True,
        )
    except RuntimeError:  # an operation without a batching rule: one pass per row
        r = torch.stack(
            [
                torch.autograd.grad(
                    grad, pos, grad_outputs=s, create_graph=create_graph, retain_graph=True
                )[0]
                for s in sel
            ]
        )
    r = r.reshape(n_max, 3, *pos.shape)  # [a, c, atom, c']
    blocks = []
    for b in range(counts.numel()):
        n, p = int(counts[b]), int(ptr[b])
        h = r[:n, :, p : p + n, :].reshape(3 * n, 3 * n)
        blocks.append(0.5 * (h + h.T))
    return blocks, grad


#: overlap with the reference field below which a mode's sign counts as free (the mode is
#: flipped by some g in Sym(x), so its overlap with an invariant field is zero but rounding)
_FREE_COS = 1e-4


class _SoftRank(torch.autograd.Function):
    """Zero in the forward pass; the gradient of the soft selection ``signed @ weight``.

    A mode other than the chosen one whose sign is free (``free``: some g in Sym(x)
    flips it, :data:`_FREE_COS`) has its sign chosen by rounding, and the SB loss does
    not care which; its weight gets the gradient of the better sign, ``-|<g, v_j>|``,
    so the soft selection moves it towards the chosen rank whenever the loss gradient
    overlaps it. With the plain gradient a wrongly ordered start is pushed the wrong
    way half of the time: at an A1 prediction SBMSE ties between ``y`` and ``g y`` and
    takes ``y``, whatever sign the B2 eigenvector has.
    """

    @staticmethod
    def forward(ctx, weight: Tensor, signed: Tensor, free: Tensor) -> Tensor:
        ctx.save_for_backward(weight, signed, free)
        return signed.new_zeros(signed.shape[0])

    @staticmethod
    def backward(ctx, g: Tensor):
        weight, signed, free = ctx.saved_tensors
        c = signed.T @ g
        c = torch.where(free, -c.abs(), c)
        return c, g[:, None] * weight[None, :], None


def _hard_sign(c: Tensor, tau: float = 0.1) -> Tensor:
    """``+1``/``-1`` (``+1`` at 0) with the straight-through gradient of ``tanh(c / tau)``."""
    hard = torch.where(c >= 0, torch.ones_like(c), -torch.ones_like(c))
    soft = torch.tanh(c / tau)
    return hard + soft - soft.detach()


class HessianHead(nn.Module):
    """Eigenvector of a predicted Hessian as the per-atom output (module docstring).

    Parameters
    ----------
    mode_rank
        Rank of the chosen eigenvalue among the internal modes, ascending (negative:
        from the top). H2O: 0 bend, 1 symmetric stretch, 2 antisymmetric stretch.
    mass_weighted
        Diagonalise ``M^-1/2 H M^-1/2`` and return ``M^-1/2 q`` (normal modes);
        ``False``: the eigenvectors of ``H`` itself.
    project_rigid
        Remove the (mass-weighted) translations and rotations before diagonalising;
        ``False``: rank over all ``3n`` eigenvalues (the 3 translations are exact zero
        modes of any invariant energy, the rotations only at its stationary points).
    normalize
        ``"total"``, ``"atom"`` or ``"learned"`` (module docstring, item 5).
    eig_eps
        Relative Lorentzian broadening of the eigenvector gradient.
    rank_grad, rank_tau
        Straight-through soft-rank gradient and its relative temperature (item 7).
    """

    #: invariant energy channels the model must provide: E, E_ref (sign), E_scale
    n_energies = 3

    def __init__(
        self,
        mode_rank: int = 0,
        mass_weighted: bool = True,
        project_rigid: bool = True,
        normalize: str = "total",
        eig_eps: float = 1e-3,
        rank_grad: bool = True,
        rank_tau: float = 1.0,
    ):
        super().__init__()
        if normalize not in NORMALIZE:
            raise InputError(f"normalize must be one of {', '.join(NORMALIZE)}, got {normalize!r}")
        if not eig_eps >= 0 or not rank_tau > 0:
            raise InputError(f"need eig_eps >= 0 and rank_tau > 0, got {eig_eps}, {rank_tau}")
        self.mode_rank = int(mode_rank)
        self.mass_weighted = bool(mass_weighted)
        self.project_rigid = bool(project_rigid)
        self.normalize = normalize
        self.eig_eps = float(eig_eps)
        self.rank_grad = bool(rank_grad)
        self.rank_tau = float(rank_tau)

    def extra_repr(self) -> str:
        return (
            f"mode_rank={self.mode_rank}, mass_weighted={self.mass_weighted}, "
            f"project_rigid={self.project_rigid}, normalize={self.normalize!r}"
        )

    def forward(
        self, energy: Tensor, pos: Tensor, z: Tensor, batch: Tensor, create_graph: bool
    ) -> tuple[Tensor, list[Tensor]]:
        """Per-atom output ``(N, 3)`` and the per-molecule Hessians from ``energy`` ``(B, 3)``."""
        (ref,) = torch.autograd.grad(
            energy[:, 1].sum(), pos, create_graph=create_graph, retain_graph=True
        )
        blocks, _ = molecule_hessians(energy[:, 0], pos, batch, create_graph)
        ref = -ref
        masses = _masses(z, pos.dtype) if self.mass_weighted else torch.ones_like(pos[:, 0])
        if batch.numel() > 1 and not bool((batch[1:] >= batch[:-1]).all()):
            raise ValueError("the Hessian head needs the atoms of each molecule contiguous")
        counts = torch.bincount(batch)
        ptr = (torch.cumsum(counts, 0) - counts).tolist()
        outs = []
        for b, h in enumerate(blocks):
            n, p = int(counts[b]), ptr[b]
            m = masses[p : p + n]
            minv = m.rsqrt().repeat_interleave(3)
            h = h * minv[:, None] * minv[None, :]
            if self.project_rigid:
                with torch.no_grad():
                    basis = internal_basis(pos[p : p + n].detach(), m)
            else:
                basis = torch.eye(3 * n, dtype=pos.dtype, device=pos.device)
            dim = basis.shape[1]
            if not -dim <= self.mode_rank < dim:
                raise InputError(
                    f"mode_rank={self.mode_rank} but molecule {b} ({n} atoms) has {dim} "
                    f"{'internal ' if self.project_rigid else ''}modes"
                )
            k = self.mode_rank % dim
            evals, evecs = eigh_broadened(basis.T @ h @ basis, self.eig_eps)
            disp = minv[:, None] * (basis @ evecs)  # (3n, dim) Cartesian displacements
            disp = disp / disp.norm(dim=0, keepdim=True).clamp_min(1e-12)
            w = ref[p : p + n].reshape(-1)
            cos = (disp.T @ w) / (w.norm() + 1e-12)
            signed = disp * _hard_sign(cos)[None, :]
            out = signed[:, k]
            if self.rank_grad and create_graph and dim > 1:
                lam = evals / evals.detach().abs().max().clamp_min(1e-30)
                weight = torch.softmax(-(((lam - lam[k]) / self.rank_tau) ** 2), dim=0)
                free = cos.detach().abs() < _FREE_COS
                free[k] = False  # the chosen mode: its weight scales the output itself
                out = out + _SoftRank.apply(weight, signed, free)
            out = out.reshape(n, 3)
            if self.normalize == "atom":
                out = out / (out.pow(2).sum(-1, keepdim=True) + 1e-12).sqrt()
            elif self.normalize == "learned":
                out = out * nn.functional.softplus(energy[b, 2])
            outs.append(out)
        return torch.cat(outs, 0), blocks


def hessian_options(variant: str, out_vectors: int, **opts) -> dict:
    """The :class:`HessianHead` options that were set (``None`` = not set).

    Only ``variant="hessian"`` takes them (ValueError otherwise, so that a config never
    sets an option that is silently ignored); that variant predicts one mode.
    """
    given = {k: v for k, v in opts.items() if v is not None}
    if variant != "hessian":
        if given:
            raise InputError(
                f"{', '.join(sorted(given))} only apply to variant='hessian', not {variant!r}"
            )
        return {}
    if out_vectors != 1:
        raise InputError(f"variant='hessian' predicts one mode: out_vectors=1, got {out_vectors}")
    return given


class HessianOutputMixin:
    """For models with ``self.hessian_head`` and ``energies(inp, pos) -> (features, (B, 3))``."""

    def _hessian_run(self, inp) -> tuple[Tensor, Tensor, list[Tensor]]:
        from ._base import GradientMixin

        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            pos = GradientMixin.differentiable_pos(inp.pos)
            feats, energy = self.energies(inp, pos)
            out, blocks = self.hessian_head(energy, pos, inp.z, inp.batch, create_graph)
        if not create_graph:
            feats, out = feats.detach(), out.detach()
            blocks = [b.detach() for b in blocks]
        return feats, out, blocks

    def hessian_output(self, inp) -> tuple[Tensor, Tensor]:
        """``features()`` of the ``"hessian"`` variant: invariant features and ``(N, 3)``."""
        feats, out, _ = self._hessian_run(inp)
        return feats, out

    def hessians(self, data) -> list[Tensor]:
        """The predicted Cartesian Hessians ``d^2 E / dpos^2``, one ``(3n, 3n)`` per molecule.

        Atom-major order (``3 i + c``); the matrix before mass weighting and projection.
        """
        from ._base import Inputs

        inp = Inputs.from_batch(data)
        self.check(inp)
        return self._hessian_run(inp)[2]
