"""SANN: symmetry-adapted neural network (SANN paper, Sec. 5 and App. B-C).

1. **Canonicalisation** (Def. 3.5, eq. 5). Every molecule is put in the frame
   ``F`` of :func:`sbbench.symmetry.detect` (ASUN-style): canonical
   coordinates ``c_i = (x_i - centroid) @ F``. Frames and equivalence
   classes (``orbits``, the quotient M/Sym(M)) are computed once per distinct
   molecule (cached by its coordinates) or taken from the batch when it
   carries ``frame`` (one (3, 3) per molecule) together with ``orbit``.
2. **Graphs** (Sec. 5). Within every equivalence class: fully connected with
   self-loops. Across classes: one representative per class (the asymmetric
   unit, built greedily as in App. B: each next representative is the class
   member nearest to those already chosen), fully connected with self-loops.
3. **Symmetry-adapted message passing** (the three equations of Sec. 5)::

       f_[c]  = UPD(AGG{ phi(f_i, f_j, c_j - c_i) : i, j in class c })
       g      = UPD(AGG{ psi(f_[c], f_[c'], r_c' - r_c) : classes c, c' })
       f_i   <- Attention(f_i, f_[c(i)], g)

   with MLPs for UPD/AGG messages and a single-head attention of atom ``i``
   over the three tokens ``(f_i, f_[c(i)], g)`` followed by a residual MLP.
4. **Output.** ``k`` vectors per atom predicted in the canonical frame and
   mapped back, ``y_i = F y_i^canonical``.

Every step after canonicalisation depends only on the labelled canonical
point set (never on atom order: ties in the representative choice are broken
by canonical coordinates), so the model is **relaxed equivariant**
(Def. 3.3, Prop. 3.6): ``f(g.x) = g.sigma.f(x)`` with ``sigma`` in Sym(x), and
exactly equivariant for molecules without symmetry. It can therefore break
the symmetry of its input (square -> rectangle).

**Inputs.** ``z``, ``pos``; optional ``node_attr`` (extra scalars, set
``node_attr_dim``) and ``node_vec`` (vectors, canonicalised with the frame).
``cutoff`` is accepted for interface uniformity and must be None (the SANN
graphs are defined by the equivalence classes).

**Symmetry class: relaxed-equivariant.**
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import torch
from torch import Tensor, nn

from sbbench.errors import InputError

from ._base import Inputs, VectorModel, mlp
from ._graph import molecule_graph

__all__ = ["SANN", "canonical_structure"]

_CACHE_SIZE = 20000


def _lex_key(points: np.ndarray) -> list[tuple[float, ...]]:
    """Order-independent tie-break keys: canonical coordinates rounded to 1e-6 Å."""
    return [tuple(np.round(p, 6).tolist()) for p in points]


def canonical_structure(
    pos: np.ndarray,
    z: np.ndarray,
    tol: float,
    frame: np.ndarray | None = None,
    orbits: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame, equivalence classes and asymmetric-unit representatives of one molecule.

    Parameters
    ----------
    pos, z
        ``(n, 3)`` positions (Å) and ``(n,)`` atomic numbers.
    tol
        Detector tolerance in Å.
    frame, orbits
        Precomputed frame ``(3, 3)`` and classes ``(n,)``; detected if None.

    Returns
    -------
    frame : ndarray (3, 3)
    classes : ndarray (n,)
        Class id per atom, classes numbered in an atom-order independent
        way (by their lexicographically largest canonical member).
    reps : ndarray (C,)
        Representative atom of every class (the asymmetric unit).
    """
    if frame is None or orbits is None:
        from sbbench.symmetry import detect

        group = detect(pos, z, tol=tol)
        frame, orbits = np.asarray(group.frame), np.asarray(group.orbits)
    canon = (pos - pos.mean(0)) @ frame
    keys = _lex_key(canon)
    labels = np.unique(orbits)
    # order classes by (atomic number, largest canonical member): independent of atom order
    members = {c: np.flatnonzero(orbits == c) for c in labels}
    order = sorted(labels, key=lambda c: (int(z[members[c][0]]), max(keys[i] for i in members[c])))
    classes = np.empty(len(pos), dtype=np.int64)
    for new, c in enumerate(order):
        classes[members[c]] = new
    reps: list[int] = []
    for c in order:
        m = members[c]
        if reps:
            d = np.linalg.norm(canon[m][:, None, :] - canon[reps][None, :, :], axis=-1).min(1)
        else:
            d = np.zeros(len(m))
        near = m[d <= d.min() + 1e-6]
        reps.append(int(max(near, key=lambda i: keys[i])))
    return frame, classes, np.asarray(reps, dtype=np.int64)


class _SANNLayer(nn.Module):
    """Within-class, across-class and attention updates of one SANN layer (Sec. 5)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.within = mlp([2 * hidden + 4, hidden, hidden], last_act=True)
        self.class_upd = mlp([hidden, hidden, hidden])
        self.across = mlp([2 * hidden + 4, hidden, hidden], last_act=True)
        self.global_upd = mlp([hidden, hidden, hidden])
        self.q = nn.Linear(hidden, hidden, bias=False)
        self.k = nn.Linear(hidden, hidden, bias=False)
        self.v = nn.Linear(hidden, hidden, bias=False)
        self.o = nn.Linear(hidden, hidden)
        self.ff = mlp([hidden, hidden, hidden])
        self.norm1 = nn.LayerNorm(hidden)
        self.norm2 = nn.LayerNorm(hidden)
        self.hidden = hidden

    @staticmethod
    def _geometry(a: Tensor, b: Tensor) -> Tensor:
        rel = b - a
        return torch.cat([rel, (rel.pow(2).sum(-1, keepdim=True) + 1e-12).sqrt()], dim=-1)

    @staticmethod
    def _mean(values: Tensor, index: Tensor, size: int) -> Tensor:
        out = values.new_zeros(size, values.shape[1]).index_add_(0, index, values)
        count = torch.bincount(index, minlength=size).clamp(min=1).to(values.dtype)
        return out / count[:, None]

    def forward(self, f, canon, cls, cls_edges, reps, rep_edges, cls_mol, num_classes, num_mols):
        src, dst = cls_edges  # atom pairs within a class (self-loops included)
        m = self.within(torch.cat([f[dst], f[src], self._geometry(canon[dst], canon[src])], -1))
        f_cls = self.class_upd(self._mean(m, cls[dst], num_classes))  # (C, H)
        a, b = rep_edges  # class pairs of a molecule (self-loops included)
        geo = self._geometry(canon[reps[b]], canon[reps[a]])
        mc = self.across(torch.cat([f_cls[b], f_cls[a], geo], -1))
        g = self.global_upd(self._mean(mc, cls_mol[b], num_mols))  # (B, H)
        tokens = torch.stack([f, f_cls[cls], g[cls_mol[cls]]], dim=1)  # (N, 3, H)
        att = torch.einsum("nh,nth->nt", self.q(f), self.k(tokens)) / math.sqrt(self.hidden)
        att = torch.softmax(att, dim=1)
        f = self.norm1(f + self.o(torch.einsum("nt,nth->nh", att, self.v(tokens))))
        return self.norm2(f + self.ff(f))


class SANN(VectorModel):
    """Symmetry-adapted neural network (SANN paper, Sec. 5).

    Parameters
    ----------
    hidden
        Feature width.
    layers
        Number of SANN layers.
    out_vectors
        Number ``k`` of output vectors per atom.
    cutoff
        Must be None (graphs come from the equivalence classes).
    sym_tol
        Detector tolerance in Å for frames and classes.
    num_atom_types, node_attr_dim
        See :class:`~sbbench.models._base.VectorModel`.
    """

    symmetry_class = "relaxed-equivariant"
    uses_node_vec = True

    def __init__(
        self,
        hidden: int = 64,
        layers: int = 3,
        out_vectors: int = 1,
        cutoff: float | None = None,
        sym_tol: float = 0.1,
        num_atom_types: int = 100,
        node_attr_dim: int = 0,
    ):
        super().__init__(
            out_vectors=out_vectors, num_atom_types=num_atom_types, node_attr_dim=node_attr_dim
        )
        if cutoff is not None:
            raise InputError("sann builds its graphs from equivalence classes; cutoff must be None")
        if not float(sym_tol) > 0:
            raise InputError(f"sym_tol must be a positive distance in Å, got {sym_tol}")
        self.hidden, self.sym_tol = int(hidden), float(sym_tol)
        self.embedding = nn.Embedding(self.num_atom_types, self.hidden)
        self.inp = mlp([self.hidden + 6 + self.node_attr_dim, self.hidden, self.hidden])
        self.layers = nn.ModuleList(_SANNLayer(self.hidden) for _ in range(int(layers)))
        self.out = mlp([self.hidden, self.hidden, 3 * self.out_vectors])
        self._cache: OrderedDict[bytes, tuple] = OrderedDict()

    @property
    def feature_dim(self) -> int:
        return self.hidden

    def _structure(self, pos: np.ndarray, z: np.ndarray, frame, orbit) -> tuple:
        if frame is not None:
            return canonical_structure(pos, z, self.sym_tol, frame, orbit)
        key = pos.tobytes() + z.tobytes()
        hit = self._cache.get(key)
        if hit is None:
            hit = canonical_structure(pos, z, self.sym_tol)
            self._cache[key] = hit
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return hit

    def _graphs(self, inp: Inputs):
        """Frames ``(N, 3, 3)`` per atom, class ids, class edges, reps, class-to-molecule."""
        pos = inp.pos.detach().cpu().double().numpy()
        z = inp.z.cpu().numpy()
        batch = inp.batch.cpu().numpy()
        frames_in = None
        if inp.frame is not None and inp.orbit is not None:
            frames_in = inp.frame.detach().cpu().double().numpy().reshape(-1, 3, 3)
            if frames_in.shape[0] != inp.num_graphs:
                n_frames = frames_in.shape[0]
                raise ValueError(
                    f"batch 'frame' holds {n_frames} frames for {inp.num_graphs} molecules"
                )
            orbit_in = inp.orbit.cpu().numpy()
        frames = np.zeros((inp.num_graphs, 3, 3))
        cls = np.zeros(len(z), dtype=np.int64)
        reps, cls_mol = [], []
        offset = 0
        for m in range(inp.num_graphs):
            idx = np.flatnonzero(batch == m)
            if frames_in is not None:
                fr, orb = frames_in[m], orbit_in[idx]
            else:
                fr, orb = None, None
            frame, classes, rep = self._structure(pos[idx], z[idx], fr, orb)
            frames[m] = frame
            cls[idx] = classes + offset
            reps.append(idx[rep])
            cls_mol += [m] * len(rep)
            offset += len(rep)
        dev = inp.pos.device
        cls_t = torch.as_tensor(cls, device=dev)
        reps_t = torch.as_tensor(np.concatenate(reps), device=dev)
        cls_mol_t = torch.as_tensor(np.asarray(cls_mol, dtype=np.int64), device=dev)
        frames_t = torch.as_tensor(frames, dtype=inp.pos.dtype, device=dev)
        cls_edges = molecule_graph(inp.pos, cls_t, None, loop=True)
        rep_edges = molecule_graph(inp.pos[reps_t], cls_mol_t, None, loop=True)
        return frames_t, cls_t, cls_edges, reps_t, rep_edges, cls_mol_t, offset

    def features(self, inp: Inputs) -> tuple[Tensor, Tensor]:
        frames, cls, cls_edges, reps, rep_edges, cls_mol, num_classes = self._graphs(inp)
        count = torch.bincount(inp.batch, minlength=inp.num_graphs).clamp(min=1)
        centroid = inp.pos.new_zeros(inp.num_graphs, 3).index_add(0, inp.batch, inp.pos)
        centroid = centroid / count[:, None].to(inp.pos.dtype)
        frame = frames[inp.batch]  # (N, 3, 3), columns = canonical axes
        canon = torch.einsum("ni,nij->nj", inp.pos - centroid[inp.batch], frame)
        parts = [canon, self.embedding(inp.z).to(canon.dtype)]
        vec = inp.node_vec if inp.node_vec is not None else torch.zeros_like(canon)
        parts.append(torch.einsum("ni,nij->nj", vec, frame))
        if inp.node_attr is not None:
            parts.append(inp.node_attr)
        f = self.inp(torch.cat(parts, dim=-1))
        for layer in self.layers:
            f = layer(
                f, canon, cls, cls_edges, reps, rep_edges, cls_mol, num_classes, inp.num_graphs
            )
        out = self.out(f).reshape(f.shape[0], self.out_vectors, 3)
        out = torch.einsum("nkj,nij->nki", out, frame)  # back to the input frame: F y
        return f, out.reshape(f.shape[0], -1)
