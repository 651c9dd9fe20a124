"""Pure-torch molecular graphs: radius graphs, fully connected graphs and triplets.

PyG 2.8's ``radius_graph`` needs ``torch-cluster``/``pyg-lib`` and DimeNet's
``triplets`` needs ``torch-sparse``; neither is installable here, so the model
zoo builds its graphs with plain tensor operations.

Edge convention (PyG ``flow="source_to_target"``): ``edge_index[0]`` is the
source atom ``j`` and ``edge_index[1]`` the target atom ``i``; messages
``j -> i`` are aggregated at ``i``. Graphs never connect atoms of different
molecules.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sbbench.errors import InputError

__all__ = ["molecule_graph", "triplets", "edge_vectors"]


def _pairs_within_molecules(batch: Tensor) -> tuple[Tensor, Tensor]:
    """All ordered pairs ``(j, i)`` of atoms in the same molecule, including ``j == i``.

    Costs O(sum_b n_b^2) memory when ``batch`` is sorted (always so for PyG
    batches); an unsorted ``batch`` falls back to a dense N x N mask.
    """
    n = batch.numel()
    device = batch.device
    if n == 0:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return empty, empty
    if bool((batch[1:] >= batch[:-1]).all()):
        counts = torch.bincount(batch)
        ptr = torch.cumsum(counts, 0) - counts  # start index of every molecule
        deg = counts[batch]  # partners per atom (molecule size)
        dst = torch.repeat_interleave(torch.arange(n, device=device), deg)
        first = torch.cumsum(deg, 0) - deg
        offset = torch.arange(dst.numel(), device=device) - torch.repeat_interleave(first, deg)
        src = ptr[batch[dst]] + offset
        return src, dst
    same = batch[:, None] == batch[None, :]
    dst, src = same.nonzero(as_tuple=True)
    return src, dst


def molecule_graph(
    pos: Tensor,
    batch: Tensor,
    cutoff: float | None = None,
    *,
    loop: bool = False,
) -> Tensor:
    """Edges between atoms of the same molecule closer than ``cutoff`` (Å).

    Parameters
    ----------
    pos
        ``(N, 3)`` atom positions in Å.
    batch
        ``(N,)`` molecule index of every atom.
    cutoff
        Radius in Å; ``None`` connects every pair of atoms of a molecule
        (fully connected graph).
    loop
        Keep self-loops ``i -> i``.

    Returns
    -------
    Tensor
        ``(2, E)`` LongTensor, row 0 source ``j``, row 1 target ``i``; both
        directions of every pair are present.
    """
    if cutoff is not None and not cutoff > 0:
        raise InputError(f"cutoff must be a positive distance in Å or None, got {cutoff!r}")
    src, dst = _pairs_within_molecules(batch)
    keep = torch.ones_like(src, dtype=torch.bool)
    if not loop:
        keep &= src != dst
    if cutoff is not None:
        with torch.no_grad():
            dist = (pos[src] - pos[dst]).norm(dim=-1)
        keep &= dist < cutoff
    return torch.stack([src[keep], dst[keep]])


def edge_vectors(pos: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
    """Return ``r_ij = pos[i] - pos[j]`` (target minus source) and its length.

    The length is computed with a tiny floor inside the square root so that its
    gradient stays finite on self-loops (where ``r_ij = 0``).
    """
    vec = pos[edge_index[1]] - pos[edge_index[0]]
    length = (vec.pow(2).sum(-1) + 1e-20).sqrt()
    return vec, length


def triplets(
    edge_index: Tensor, num_nodes: int
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Angle triplets ``k -> j -> i`` (``k != i``) of a graph, in pure torch.

    Drop-in replacement of ``torch_geometric.nn.models.dimenet.triplets``
    (which needs ``torch-sparse``) with the same return signature.

    Returns
    -------
    tuple of Tensor
        ``(i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji)``: target and source of
        every edge, the node indices of every triplet, and for every triplet
        the index of its edge ``k -> j`` and of its edge ``j -> i``.
    """
    row, col = edge_index  # j -> i
    device = row.device
    num_edges = row.numel()
    # Incoming edges of every node, grouped by target.
    order = torch.argsort(col, stable=True)
    in_count = torch.bincount(col, minlength=num_nodes)
    in_ptr = torch.cumsum(in_count, 0) - in_count
    # Every edge j -> i pairs with every incoming edge k -> j of its source j.
    n_per_edge = in_count[row]
    idx_ji = torch.repeat_interleave(torch.arange(num_edges, device=device), n_per_edge)
    first = torch.cumsum(n_per_edge, 0) - n_per_edge
    offset = torch.arange(idx_ji.numel(), device=device) - torch.repeat_interleave(
        first, n_per_edge
    )
    idx_kj = order[in_ptr[row[idx_ji]] + offset]
    idx_i, idx_j, idx_k = col[idx_ji], row[idx_ji], row[idx_kj]
    mask = idx_i != idx_k
    return (
        col,
        row,
        idx_i[mask],
        idx_j[mask],
        idx_k[mask],
        idx_kj[mask],
        idx_ji[mask],
    )
