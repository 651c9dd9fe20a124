"""Registry, options, cache, splits, batching and ASE I/O of sbbench.datasets."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

import sbbench.datasets as sd
from sbbench.metrics import sbcd, sbcd_batch

OWN = ["charged_particle", "h2o_modes", "shapes", "square", "square_order_param"]


# ----------------------------------------------------------------------------- registry


def test_names_lists_all_datasets_including_lazy_qm7x():
    assert set(OWN) | {"qm7x"} <= set(sd.names())
    assert sd.names() == sorted(sd.names())


def test_import_is_light():
    code = (
        "import sys, sbbench.datasets as sd; sd.names(); "
        "print(sorted(m for m in ('pyscf', 'h5py') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_name_lists_valid_and_suggests():
    with pytest.raises(ValueError, match=r"Did you mean 'square'\?.*Valid names: .*h2o_modes"):
        sd.load("sqare")


def test_name_task_syntax_equals_task_option(sb_root):
    a = sd.load("h2o_modes:asym", root=sb_root)
    b = sd.load("h2o_modes", root=sb_root, task="asym")
    assert a.task == b.task == "asym"
    assert torch.equal(a[0].y, b[0].y)
    with pytest.raises(ValueError, match="conflicting tasks"):
        sd.load("h2o_modes:asym", root=sb_root, task="sym")
    with pytest.raises(ValueError, match="empty task"):
        sd.load("h2o_modes:", root=sb_root)


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("h2o_modes", {"task": "asymm"}, r"unknown task 'asymm'. Did you mean 'asym'"),
        ("shapes", {"task": "sphere"}, "Valid tasks: cube, prism, asym"),
        ("square", {"sidee": 2.0}, r"unknown option\(s\) \['sidee'\]; valid options: rotate"),
        ("square", {"side": -1.0}, "side=-1.0 must be a positive length"),
        ("square", {"side": "big"}, "option 'side' must be float"),
        ("square", {"rotate": 1}, "option 'rotate' must be bool"),
        ("h2o_modes", {"n_samples": 0}, "n_samples=0 must be a positive integer"),
        ("h2o_modes", {"n_samples": 2.5}, "option 'n_samples' must be int"),
        ("charged_particle", {"n_steps": -3}, "n_steps=-3 must be a positive integer"),
        ("charged_particle", {"dt": 0.0}, "dt=0.0 must be a positive time step"),
        ("charged_particle", {"dt": float("nan")}, "must be finite"),
        ("shapes", {"side": 0}, "side=0.0 must be a positive length"),
    ],
)
def test_bad_options_raise_clear_errors(tmp_path, name, options, match):
    with pytest.raises(ValueError, match=match):
        sd.load(name, root=tmp_path, **options)


# ----------------------------------------------------------------------------- cache


def test_cache_keyed_on_options(tmp_path):
    a = sd.load("square", root=tmp_path)
    b = sd.load("square", root=tmp_path, side=2.0)
    assert a.cache_key != b.cache_key
    assert torch.allclose(b[0].pos, 2 * a[0].pos)
    meta = json.loads((tmp_path / "square" / a.cache_key / "processed" / "meta.json").read_text())
    assert meta["options"] == {"side": 1.0, "rotate": False, "seed": 0}
    again = sd.load("square", root=tmp_path)
    assert again.cache_key == a.cache_key and torch.equal(again[1].y, a[1].y)


def test_default_root_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SBBENCH_CACHE", str(tmp_path / "env_cache"))
    assert sd.default_root() == tmp_path / "env_cache"
    ds = sd.load("square")
    assert (tmp_path / "env_cache" / "square" / ds.cache_key / "processed" / "data.pt").is_file()
    monkeypatch.delenv("SBBENCH_CACHE")
    assert str(sd.default_root()).endswith(".cache/sbbench")


@pytest.mark.parametrize("damage", ["truncate", "flip_byte", "drop_meta", "bad_json", "other"])
def test_corrupted_cache_is_rebuilt_not_used(tmp_path, damage):
    ds = sd.load("shapes:prism", root=tmp_path)
    good_y = ds[0].y.clone()
    proc = tmp_path / "shapes" / ds.cache_key / "processed"
    data, meta = proc / "data.pt", proc / "meta.json"
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[:50])
    elif damage == "flip_byte":
        raw = bytearray(data.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        data.write_bytes(bytes(raw))
    elif damage == "drop_meta":
        meta.unlink()
    elif damage == "bad_json":
        meta.write_text("{not json")
    else:
        m = json.loads(meta.read_text())
        m["options"]["side"] = 3.0
        meta.write_text(json.dumps(m))
    with pytest.warns(UserWarning, match="rebuilding it"):
        again = sd.load("shapes:prism", root=tmp_path)
    assert torch.equal(again[0].y, good_y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sd.load("shapes:prism", root=tmp_path)  # the rebuilt cache is valid


# ----------------------------------------------------------------------------- splits


class _Fake(list):
    protocol = "random"


def _fake(n, mols=None):
    from torch_geometric.data import Data

    out = _Fake()
    for i in range(n):
        d = Data(idx=torch.tensor([i]))
        if mols is not None:
            d.mol_id = torch.tensor([mols[i]])
        out.append(d)
    return out


def test_kfold_same_protocol_for_toy_tasks(sb_root):
    ds = sd.load("square", root=sb_root)
    assert ds.protocol == "same"
    folds = sd.kfold(ds, 10, seed=0)
    assert len(folds) == 10
    for tr, va, te in folds:
        assert tr.tolist() == va.tolist() == te.tolist() == [0, 1]


@pytest.mark.parametrize("k", [3, 5, 10])
def test_kfold_random_partitions_and_is_deterministic(k):
    ds = _fake(53)
    folds = sd.kfold(ds, k, seed=7)
    tests = np.concatenate([te for _, _, te in folds])
    assert sorted(tests.tolist()) == list(range(53))
    for tr, va, te in folds:
        assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
        assert len(tr) + len(va) + len(te) == 53
        assert tr.dtype == np.int64
    if k == 5:
        assert [len(te) for _, _, te in folds] == [11, 11, 11, 10, 10]
    again = sd.kfold(ds, k, seed=7)
    assert all(np.array_equal(a, b) for fa, fb in zip(folds, again) for a, b in zip(fa, fb))
    other = sd.kfold(ds, k, seed=8)
    assert not all(np.array_equal(fa[2], fb[2]) for fa, fb in zip(folds, other))


def test_kfold_group_keeps_molecules_together():
    rng = np.random.default_rng(0)
    mols = rng.integers(0, 12, size=60)
    ds = _fake(60, mols.tolist())
    for tr, va, te in sd.kfold(ds, 4, seed=1, group="molecule"):
        parts = [set(mols[p].tolist()) for p in (tr, va, te)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert len(tr) + len(va) + len(te) == 60


def test_kfold_repeated_holdout_fractions():
    """SANN Table 3: 10 independent random 60/20/20 splits, optionally grouped."""
    mols = np.repeat(np.arange(20), 5)
    ds = _fake(100, mols.tolist())
    folds = sd.kfold(ds, 10, seed=3, fractions=(0.6, 0.2, 0.2))
    assert len(folds) == 10
    for tr, va, te in folds:
        assert (len(tr), len(va), len(te)) == (60, 20, 20)
        assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    assert len({tuple(te) for _, _, te in folds}) == 10  # independent splits
    again = sd.kfold(ds, 10, seed=3, fractions=(0.6, 0.2, 0.2))
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(folds, again))
    for tr, va, te in sd.kfold(ds, 4, seed=0, group="molecule", fractions=(0.6, 0.2, 0.2)):
        parts = [set(mols[p].tolist()) for p in (tr, va, te)]
        assert [len(p) for p in parts] == [12, 4, 4]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    with pytest.raises(ValueError, match="summing to 1"):
        sd.kfold(ds, 3, seed=0, fractions=(0.6, 0.2, 0.3))
    with pytest.raises(ValueError, match="no training items"):
        sd.kfold(_fake(2), 3, seed=0, fractions=(0.2, 0.4, 0.4))


def test_kfold_errors():
    with pytest.raises(ValueError, match="positive integer"):
        sd.kfold(_fake(5), 0, seed=0)
    with pytest.raises(ValueError, match="needs k >= 3"):
        sd.kfold(_fake(5), 2, seed=0)
    with pytest.raises(ValueError, match="cannot make 6 folds from 5 samples"):
        sd.kfold(_fake(5), 6, seed=0)
    with pytest.raises(ValueError, match="sample 0 has none"):
        sd.kfold(_fake(5), 3, seed=0, group="molecule")
    with pytest.raises(ValueError, match="group must be"):
        sd.kfold(_fake(5, [0] * 5), 3, seed=0, group="atom")
    with pytest.raises(ValueError, match="protocol must be"):
        sd.kfold(_fake(5), 3, seed=0, protocol="loo")


# ----------------------------------------------------------------------------- batching


def test_every_dataset_follows_the_contract(sb_root):
    for spec in [
        "square",
        "square_order_param",
        "shapes:asym",
        "charged_particle",
        "h2o_modes:bend",
    ]:
        ds = sd.load(spec, root=sb_root)
        for i in range(len(ds)):
            sd.check_sample(ds[i], where=f"{spec}[{i}]")
            assert int(ds[i].idx) == i


def test_batching_ragged_groups_feeds_sbcd_batch(sb_root):
    """Mixed datasets (G = 16, 8, 48, 4 ops) batch into sym_ops (sum G, 3, 3) + num_ops (B,)."""
    samples = [
        sd.load("square", root=sb_root)[0],
        sd.load("square_order_param", root=sb_root)[1],
        sd.load("shapes:prism", root=sb_root)[0],
        sd.load("h2o_modes:asym", root=sb_root)[1],
    ]
    keep = ["z", "pos", "y", "sym_ops", "num_ops", "orbit", "idx"]
    samples = [s.__class__(**{k: s[k] for k in keep}) for s in samples]
    batch = next(iter(DataLoader(samples, batch_size=4, shuffle=False)))
    assert batch.num_ops.tolist() == [16, 8, 48, 4]
    assert batch.sym_ops.shape == (76, 3, 3)
    assert batch.orbit.max() == 1  # per-molecule labels, not offset
    ops_batch = torch.repeat_interleave(torch.arange(4), batch.num_ops)
    pred = batch.pos + 0.1
    mean, per = sbcd_batch(
        pred, batch.y, batch.sym_ops, batch.batch, ops_batch, return_per_sample=True
    )
    expect = [float(sbcd(pred[batch.batch == b], s.y, s.sym_ops)) for b, s in enumerate(samples)]
    assert np.allclose(per.numpy(), expect, atol=1e-6)
    assert np.isclose(float(mean), np.mean(expect), atol=1e-6)


# ----------------------------------------------------------------------------- ASE


def test_ase_roundtrip_through_extxyz(sb_root, tmp_path):
    import ase.io

    for spec in ["square_order_param", "h2o_modes:asym", "charged_particle"]:
        ds = sd.load(spec, root=sb_root)
        path = tmp_path / f"{spec.replace(':', '_')}.extxyz"
        ase.io.write(path, sd.to_ase(ds, target="label"), format="extxyz")
        back = sd.from_ase(path, target="label", tol=ds.tol)
        assert len(back) == len(ds)
        for a, b in zip(ds, back):
            assert torch.equal(a.z, b.z)
            assert torch.allclose(a.pos, b.pos, atol=1e-6)
            assert torch.allclose(a.y, b.y, atol=1e-6)
            if spec != "charged_particle":  # its identity-only ops are a documented override
                assert a.num_ops == b.num_ops
                assert torch.equal(a.orbit, b.orbit)
            for key in ("node_vec", "node_attr", "mol_id"):
                if getattr(a, key, None) is not None:
                    assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6)


def test_from_ase_gives_c2v_water_with_dipoles():
    from ase import Atoms

    w = Atoms("OH2", positions=[[0, 0, 0.119], [0, 0.763, -0.477], [0, -0.763, -0.477]])
    w.arrays["dip"] = np.array([[0, 0, 0.3], [0, 0.1, -0.1], [0, -0.1, -0.1]])
    ds = sd.from_ase([w, w.copy()], target="dip")
    assert ds[0].num_ops.item() == 4 and ds[0].orbit.tolist() == [0, 1, 1]
    assert ds[1].y.shape == (3, 3) and ds[1].pos.dtype == torch.float32


def test_from_ase_validation_names_frame_and_key():
    from ase import Atoms

    good = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
    good.arrays["f"] = np.zeros((2, 3))
    no_key = good.copy()
    del no_key.arrays["f"]
    with pytest.raises(ValueError, match=r"frame 1: atoms.arrays has no 'f'"):
        sd.from_ase([good, no_key], target="f")
    bad_shape = good.copy()
    bad_shape.arrays["f"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"frame 0: target 'f' has 2 columns"):
        sd.from_ase([bad_shape], target="f")
    nan = good.copy()
    nan.arrays["f"] = np.full((2, 3), np.nan)
    with pytest.raises(ValueError, match=r"frame 2: array 'f' contains NaN"):
        sd.from_ase([good, good, nan], target="f")
    with pytest.raises(ValueError, match=r"frame 1: expected ase.Atoms, got dict"):
        sd.from_ase([good, {}], target="f")
    with pytest.raises(ValueError, match="no such file"):
        sd.from_ase("/nonexistent/x.extxyz", target="f")
    with pytest.raises(ValueError, match="at least one frame"):
        sd.from_ase([], target="f")


def test_force_reload_rebuilds_silently(tmp_path):
    ds = sd.load("square", root=tmp_path)
    marker = tmp_path / "square" / ds.cache_key / "processed" / "marker"
    marker.touch()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = sd.load("square", root=tmp_path, force_reload=True)
    assert not marker.exists()  # the processed folder was rebuilt
    assert torch.equal(again[1].y, ds[1].y)
