"""relaxed_e3nn computes the same function as its frozen pre-issue-15 copy (float64).

``tests/models/_relaxed_e3nn_v1.py`` is the per-edge implementation as it was
before the fused contraction (commit 1325f6f). Same parameters (its
``state_dict`` loads unchanged), same outputs and gradients, for generic
(symmetry-breaking) theta, several widths, lmax 1 and 2, cutoff graphs,
isolated atoms, node attributes and velocities.
"""

import pytest
import torch
from torch_geometric.data import Batch

from sbbench.models import build
from sbbench.models._base import Inputs

from . import _relaxed_e3nn_v1 as v1
from ._data import random_molecules, sample

torch.set_num_threads(1)

CONFIGS = [
    dict(hidden=8, layers=1, lmax=2, l_relaxed=2),
    dict(hidden=8, layers=2, lmax=1, l_relaxed=2),  # the main job's network (qm7x.yaml)
    dict(hidden=4, layers=0, lmax=2, l_relaxed=1),
    dict(hidden=6, layers=1, lmax=2, l_relaxed=0, out_vectors=2),
    dict(hidden=4, layers=1, lmax=3, l_relaxed=2, cutoff=1.8),
    dict(hidden=4, layers=1, lmax=1, l_relaxed=3, node_attr_dim=2),
]


def _pair(seed=0, **hp):
    torch.manual_seed(seed)
    ref = v1.RelaxedE3NN(**hp).double()
    new = build("relaxed_e3nn", **hp).double()
    new.load_state_dict(ref.state_dict())  # the old layout loads unchanged
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():  # generic theta: every irrep, both parities, breaks the symmetry
        for conv in ref.convs:
            conv.theta.copy_(torch.randn(conv.theta.shape, generator=gen, dtype=torch.float64))
    new.load_state_dict(ref.state_dict())
    return ref, new


def _batch(hp):
    data = random_molecules((5, 1, 3, 4), seed=3, node_vec=True)  # a lone atom too
    if hp.get("node_attr_dim"):
        data.node_attr = torch.randn(data.num_nodes, hp["node_attr_dim"])
    data.pos = data.pos.double()
    data.node_vec = data.node_vec.double()
    return data


@pytest.mark.parametrize("hp", CONFIGS, ids=lambda hp: "-".join(f"{k}={v}" for k, v in hp.items()))
def test_same_outputs_and_gradients_as_frozen_v1(hp):
    ref, new = _pair(**hp)
    data = _batch(hp)
    out_ref, out_new = ref(data), new(data)
    assert out_new.shape == out_ref.shape
    scale = float(out_ref.detach().abs().max())
    assert scale > 1e-3
    assert float((out_new - out_ref).detach().abs().max()) < 1e-10 * max(scale, 1.0)
    inp = Inputs.from_batch(data)
    feat_ref, feat_new = ref.features(inp)[0], new.features(inp)[0]
    assert torch.allclose(feat_new, feat_ref, atol=1e-10, rtol=0)
    gen = torch.Generator().manual_seed(7)
    probe = torch.randn(out_ref.shape, generator=gen, dtype=torch.float64)
    (out_ref * probe).sum().backward()
    (out_new * probe).sum().backward()
    grads_ref = dict(ref.named_parameters())
    for name, p in new.named_parameters():
        g_ref = grads_ref[name].grad
        g_new = p.grad
        if g_ref is None:
            assert g_new is None or float(g_new.abs().max()) == 0, name
            continue
        tol = 1e-9 * max(float(g_ref.abs().max()), 1.0)
        assert float((g_new - g_ref).abs().max()) < tol, name
    assert new.regularization().item() == pytest.approx(ref.regularization().item(), rel=1e-12)
    rw_ref, rw_new = ref.relaxed_weights(), new.relaxed_weights()
    assert list(rw_new) == list(rw_ref)
    assert all(torch.equal(rw_new[k], rw_ref[k]) for k in rw_ref)


def test_same_outputs_on_a_single_isolated_atom():
    ref, new = _pair(hidden=4, layers=1, lmax=2, l_relaxed=2)
    data = Batch.from_data_list([sample([6], [[0.0, 0.0, 0.0]])])
    data.pos = data.pos.double()
    assert torch.allclose(new(data), ref(data), atol=1e-12, rtol=0)


@pytest.mark.slow  # ~6 s
def test_old_checkpoint_loads_and_wrong_layout_fails_clearly(tmp_path):
    torch.manual_seed(0)
    ref = v1.RelaxedE3NN(hidden=8, layers=2, lmax=1, l_relaxed=2)
    path = tmp_path / "old.pt"
    torch.save(ref.state_dict(), path)
    new = build("relaxed_e3nn", hidden=8, layers=2, lmax=1, l_relaxed=2)
    new.load_state_dict(torch.load(path))
    data = random_molecules((4, 3))
    assert torch.allclose(new(data), ref(data), atol=1e-5)
    other = build("relaxed_e3nn", hidden=8, layers=2, lmax=1, l_relaxed=1)
    with pytest.raises(RuntimeError, match="convs.0.theta has 18 components.*l_relaxed=1"):
        other.load_state_dict(torch.load(path))
    deeper = build("relaxed_e3nn", hidden=8, layers=3, lmax=1, l_relaxed=2)
    with pytest.raises(RuntimeError, match="it has 3 convolutions.*layers=2"):
        deeper.load_state_dict(torch.load(path))
    sd = {f"base.{k}": v for k, v in torch.load(path).items()}  # inside a +noise wrapper
    build("relaxed_e3nn+noise", hidden=8, layers=2, lmax=1, l_relaxed=2).load_state_dict(sd)
    wrapped = build("relaxed_e3nn+noise", hidden=8, layers=2, lmax=1, l_relaxed=0)
    with pytest.raises(RuntimeError, match="base.convs.0.theta has 18 components"):
        wrapped.load_state_dict(sd)


@pytest.mark.parametrize("implementation", ["per_edge", "e3nn"])
def test_implementations_compute_the_same_function(implementation):
    hp = dict(hidden=4, layers=1, lmax=2, l_relaxed=2)
    ref, fused = _pair(**hp)
    torch.manual_seed(0)
    other = build("relaxed_e3nn", implementation=implementation, **hp).double()
    other.load_state_dict(fused.state_dict(), strict=implementation != "e3nn")
    data = _batch(hp)
    # stock e3nn bakes its Clebsch-Gordan constants at construction (float32 here): ~1e-8
    tol = 1e-10 if implementation == "per_edge" else 1e-6
    assert torch.allclose(other(data), fused(data), atol=tol, rtol=0)
    with pytest.raises(ValueError, match="implementation must be one of"):
        build("relaxed_e3nn", implementation="cuda", **hp)


@pytest.mark.parametrize("knob", ["_CHUNK_FLOATS", "_DZ_CHUNK_FLOATS"])
def test_fused_in_many_chunks_matches(monkeypatch, knob):
    """The fused contraction runs over chunks of atoms (cache-sized) and its backward
    builds dZ in sub-chunks; force one atom per chunk, or per sub-chunk with Z kept."""
    import sbbench.models._relaxed_tp as rtp

    hp = dict(hidden=8, layers=1, lmax=2, l_relaxed=2)
    ref, new = _pair(**hp)
    data = _batch(hp)
    monkeypatch.setattr(rtp, knob, 1)
    out_new = new(data)
    out_ref = ref(data)
    assert torch.allclose(out_new, out_ref, atol=1e-10, rtol=0)
    probe = torch.randn(out_ref.shape, dtype=torch.float64)
    g_new = torch.autograd.grad((out_new * probe).sum(), list(new.parameters()))
    g_ref = torch.autograd.grad((out_ref * probe).sum(), list(ref.parameters()))
    for a, b in zip(g_new, g_ref, strict=True):
        assert torch.allclose(a, b, atol=1e-9, rtol=0)


def test_float32_model_close_to_float64():
    torch.manual_seed(0)
    model = build("relaxed_e3nn", hidden=8, layers=1, lmax=2, l_relaxed=2)
    data = random_molecules((5, 4))
    out32 = model(data)
    out64 = model.double()(_to64(data))
    assert out32.dtype == torch.float32
    assert torch.allclose(out32.double(), out64, atol=1e-5)


def _to64(data):
    data = data.clone()
    data.pos = data.pos.double()
    return data


def test_reused_z_buffer_keeps_every_graph_exact():
    """Z lives in a buffer reused across steps; graphs that are still to be
    differentiated (two forwards before one backward, retain_graph) keep their own."""
    import copy
    import pickle

    hp = dict(hidden=4, layers=1, lmax=2, l_relaxed=2)
    _, model = _pair(**hp)
    d1, d2 = _batch(hp), _to64(random_molecules((3, 5), seed=5))

    def grads(run):
        model.zero_grad()
        run()
        return [p.grad.clone() for p in model.parameters()]

    g1 = grads(lambda: model(d1).sum().backward())
    g2 = grads(lambda: model(d2).sum().backward())
    both = grads(lambda: (model(d1).sum() + model(d2).sum()).backward())
    for a, b, c in zip(g1, g2, both, strict=True):
        assert torch.allclose(a + b, c, atol=1e-12, rtol=0)

    def retained():
        first = model(d1).sum()
        first.backward(retain_graph=True)
        second = model(d2).sum()  # may not overwrite the retained graph's Z
        first.backward()
        second.backward()

    for a, b, c in zip(g1, g2, grads(retained), strict=True):
        assert torch.allclose(2 * a + b, c, atol=1e-12, rtol=0)

    workspace = model.convs[0].fused._workspace
    model(d1).sum().backward()
    buffer = workspace._buf.data_ptr()
    model(d1).sum().backward()
    assert workspace._buf.data_ptr() == buffer  # reused by a plain training loop
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone.convs[0].fused._workspace._buf is None
        assert torch.allclose(clone(d1), model(d1), atol=1e-12, rtol=0)
