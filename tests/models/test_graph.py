import itertools

import torch

from sbbench.models._graph import molecule_graph, triplets


def _brute_force_edges(pos, batch, cutoff, loop=False):
    edges = set()
    for j, i in itertools.product(range(len(pos)), repeat=2):
        if batch[i] != batch[j] or (i == j and not loop):
            continue
        if cutoff is None or float((pos[i] - pos[j]).norm()) < cutoff:
            edges.add((j, i))
    return edges


def test_molecule_graph_matches_brute_force():
    gen = torch.Generator().manual_seed(1)
    pos = 2 * torch.randn(11, 3, generator=gen)
    for batch in (torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3]), torch.tensor([1, 0] * 5 + [2])):
        for cutoff in (None, 2.5):
            for loop in (False, True):
                ei = molecule_graph(pos, batch, cutoff, loop=loop)
                got = set(map(tuple, ei.t().tolist()))
                assert len(got) == ei.shape[1]
                assert got == _brute_force_edges(pos, batch, cutoff, loop)


def test_triplets_match_brute_force():
    gen = torch.Generator().manual_seed(2)
    pos = 1.5 * torch.randn(9, 3, generator=gen)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    edge_index = molecule_graph(pos, batch, 3.5)
    i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, 9)
    assert torch.equal(i, edge_index[1]) and torch.equal(j, edge_index[0])
    edges = edge_index.t().tolist()
    expected = set()
    for e1, (jj, ii) in enumerate(edges):
        for e2, (kk, jj2) in enumerate(edges):
            if jj2 == jj and kk != ii:
                expected.add((ii, jj, kk, e2, e1))
    got = list(
        zip(idx_i.tolist(), idx_j.tolist(), idx_k.tolist(), idx_kj.tolist(), idx_ji.tolist())
    )
    assert len(got) == len(set(got))
    assert set(got) == expected
    assert len(expected) > 10
