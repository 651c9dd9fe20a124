"""results.json: build, hash, write/load, recompute, and the checks that reject bad files."""

import copy
import gzip
import json

import numpy as np
import pytest
import torch

from sbbench.leaderboard import (
    DEFAULT_METRIC,
    FORMAT_VERSION,
    PAPER_METRIC,
    SCORES,
    content_hash,
    dataset_sha256,
    geometry_hash,
    load_results,
    make_results,
    recompute_scores,
    validate_results,
    write_results,
)
from sbbench.metrics import chamfer, is_collapsed, sbcd, sbmse
from sbbench.results._results import _summary
from tests.results._factory import (
    C2V,
    CD,
    CD_PAPER,
    SCORE_KEYS,
    act,
    build_results,
    image_perms,
    make_fold,
    prediction,
    sample_scores,
    toy_sample,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def results():
    return build_results()


def _rehash(r):
    try:
        r["content_hash"] = content_hash(r)
    except ValueError:  # NaN/inf: cannot be hashed, validate must name it
        pass
    return r


def _reseal(r):
    """What a cheater would do after editing scores: fix the summary and the hash."""
    r["summary"] = _summary(r["folds"])
    return _rehash(r)


def test_roundtrip_keeps_content_and_hash(tmp_path, results):
    path = write_results(tmp_path / "run" / "results.json", results)
    loaded = load_results(path)
    assert loaded == results
    assert content_hash(loaded) == results["content_hash"]
    # The hash is over canonical JSON, so it does not depend on the file's layout.
    (tmp_path / "other.json").write_text(json.dumps(results, indent=4))
    assert content_hash(load_results(tmp_path / "other.json")) == results["content_hash"]
    gz = write_results(tmp_path / "results.json.gz", results)
    assert gzip.decompress(gz.read_bytes()).startswith(b"{")
    assert load_results(gz) == results
    assert not list(tmp_path.rglob("*.tmp"))  # no temporary files left behind


def test_hash_excludes_itself_and_sees_every_field(results):
    r = copy.deepcopy(results)
    r["content_hash"] = "0" * 64
    assert content_hash(r) == results["content_hash"]
    r["folds"][0]["predictions"][0]["pred"][0][0] += 1e-9
    assert content_hash(r) != results["content_hash"]


def test_constants_are_the_v2_spec():
    assert FORMAT_VERSION == 2
    assert SCORES == SCORE_KEYS
    assert DEFAULT_METRIC == CD and PAPER_METRIC == CD_PAPER


def test_toy_perms_are_the_exact_images_and_the_targets_break_the_symmetry():
    # C2 swaps opposite corners, the mirrors swap neighbours.
    assert image_perms(toy_sample(0)["pos"], C2V).tolist() == [
        [0, 1, 2, 3],
        [2, 3, 0, 1],
        [1, 0, 3, 2],
        [3, 2, 1, 0],
    ]
    for i in range(6):
        s = toy_sample(i)
        for g in range(1, len(C2V)):
            moved = act(C2V[g], s["sym_perms"][g], s["y"])
            # g.y is a different answer (ordered and as a cloud) that SBMSE and SBCD accept.
            scores = sample_scores(moved, s["y"], C2V, s["sym_perms"])
            assert scores["mse"] > 0.2 and scores["cd"] > 0.2
            assert scores["sbmse"] < 1e-10 and scores["sbcd"] < 1e-10


def test_make_results_fills_provenance_and_summary(results):
    prov = results["provenance"]
    assert prov["versions"]["torch"] == torch.__version__
    assert prov["versions"]["sbbench"] and prov["hardware"]["device"] == "cpu"
    assert prov["date"].endswith("Z")
    assert results["format_version"] == 2
    assert results["seeds"] == [0, 1, 2]
    assert results["loss"] == "sbmse" and results["loss_chamfer"] is None
    summary = results["summary"]
    assert set(summary) == {
        *(f"test_{k}" for k in SCORES),
        "val_sbmse",
        "val_sbcd",
        "test_collapsed",
        "equivariance_error",
    }
    for key in SCORES:
        values = [f["test"][key] for f in results["folds"]]
        assert summary[f"test_{key}"]["mean"] == pytest.approx(np.mean(values), rel=1e-12)
        assert summary[f"test_{key}"]["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-12)
        assert summary[f"test_{key}"]["n"] == 6
    val = [f["val"]["sbmse"] for f in results["folds"]]
    assert summary["val_sbmse"]["mean"] == pytest.approx(np.mean(val), rel=1e-12)
    assert summary["test_collapsed"] == {"count": 0, "n": 18}
    # The toy model predicts g.target + noise: SBMSE and SBCD see through g, MSE and CD not.
    assert summary["test_sbmse"]["mean"] < 0.05 * summary["test_mse"]["mean"]
    assert summary["test_sbcd"]["mean"] < 0.05 * summary["test_cd"]["mean"]


def test_recomputed_scores_match_metrics_by_hand(results):
    fold = results["folds"][3]
    by_hand = {k: [] for k in SCORES}
    collapsed = 0
    for p in fold["predictions"]:
        pred, target = np.array(p["pred"]), np.array(p["target"])
        ops, perms = np.array(p["sym_ops"]), np.array(p["sym_perms"])
        by_hand["sbmse"].append(float(sbmse(pred, target, ops, perms)))
        by_hand["mse"].append(float(sbmse(pred, target, np.eye(3)[None], np.arange(4)[None])))
        by_hand["cd"].append(float(chamfer(pred, target)))  # the sbbench default
        by_hand["sbcd"].append(float(sbcd(pred, target, ops)))
        one_sided = dict(symmetric=False, reduction="sum")
        by_hand["cd_paper"].append(float(chamfer(pred, target, **one_sided)))
        by_hand["sbcd_paper"].append(float(sbcd(pred, target, ops, **one_sided)))
        collapsed += is_collapsed(pred, target)
    again = recompute_scores(results)[3]
    assert set(again) == {*SCORES, "collapsed"}
    for key in SCORES:
        assert again[key] == pytest.approx(np.mean(by_hand[key]), rel=1e-9), key
        assert fold["test"][key] == pytest.approx(again[key], rel=1e-6), key
    assert again["collapsed"] == collapsed == fold["test"]["collapsed"] == 0


def _exact(g, y):
    """A one-fold protocol-'same' prediction of exactly C2V[g].y (atoms permuted)."""
    s = toy_sample(0)
    s["y"] = np.asarray(y, np.float32)
    return s, prediction(0, act(C2V[g], s["sym_perms"][g], s["y"]), s)


def test_exact_symmetric_prediction_has_zero_sbmse_and_sbcd():
    # pred = C2.target exactly (atoms permuted as C2 moves them): SBMSE and SBCD are 0,
    # MSE and CD are not.
    _, p = _exact(1, [[1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 0]])
    r = build_results(
        folds=[make_fold(0, 0, [p])], split={"protocol": "same", "n_folds": 1}, samples=None
    )
    again = recompute_scores(r)[0]
    assert again["sbmse"] == 0.0 and again["sbcd"] == 0.0 and again["sbcd_paper"] == 0.0
    test = r["folds"][0]["test"]
    assert test["mse"] > 1.0 and test["cd"] > 0.1 and test["cd_paper"] > 0.1
    assert test["collapsed"] == 0


def test_sbmse_needs_the_atom_permutation():
    # The rotated target without moving the atoms is not g.y: SBCD (unordered) still sees
    # it as 0, SBMSE does not, so SBMSE depends on the stored sym_perms.
    s, p = _exact(1, [[1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 0]])
    unpermuted = np.asarray(s["y"], np.float64) @ C2V[1].T
    scores = sample_scores(unpermuted, s["y"], C2V, s["sym_perms"])
    assert scores["sbcd"] < 1e-12 and scores["sbmse"] > 1.0
    assert sample_scores(p["pred"], s["y"], C2V, s["sym_perms"])["sbmse"] == 0.0


def test_torch_tensors_are_accepted():
    s = toy_sample(1)
    y = torch.from_numpy(s["y"])
    pred = y + 0.1
    sc = sample_scores(pred.numpy(), s["y"], C2V, s["sym_perms"])
    scores = {k: torch.tensor(v) for k, v in sc.items()}
    fold = {
        "fold": torch.tensor(0),
        "seed": 7,
        "val": scores,
        "test": {**scores, "collapsed": torch.tensor(0)},
        "train_time_s": 0.0,
        "equivariance_error": torch.tensor(1e-6),
        "predictions": [
            {
                "id": torch.tensor(1),
                "pred": pred,
                "target": y,
                "sym_ops": torch.from_numpy(C2V),
                "sym_perms": torch.from_numpy(s["sym_perms"]),
            }
        ],
    }
    r = build_results(folds=[fold], split={"protocol": "same", "n_folds": 1}, samples=None)
    assert r["folds"][0]["fold"] == 0 and r["folds"][0]["predictions"][0]["id"] == 1
    assert r["folds"][0]["predictions"][0]["sym_perms"] == s["sym_perms"].tolist()
    assert r["folds"][0]["test"]["collapsed"] == 0
    json.dumps(r)  # plain JSON data only


@pytest.mark.parametrize("key", [*SCORE_KEYS, "collapsed"])
def test_make_results_rejects_a_wrong_stored_score(key):
    r = build_results()
    folds = copy.deepcopy(r["folds"])
    if key == "collapsed":
        folds[2]["test"]["collapsed"] += 1
    else:
        folds[2]["test"][key] *= 1.01
    with pytest.raises(ValueError, match=rf"folds\[2\]\.test\.{key}: stored"):
        build_results(folds=folds)


@pytest.mark.parametrize("key", ["cd", "sbmse", "mse", "sbcd_paper"])
def test_validate_rejects_tampering(results, key):
    r = copy.deepcopy(results)
    r["folds"][0]["test"][key] *= 0.5
    with pytest.raises(ValueError, match="content_hash"):
        validate_results(r)
    # Re-hashing does not help: the predictions give the true score.
    with pytest.raises(ValueError, match=rf"folds\[0\]\.test\.{key}: stored"):
        validate_results(_reseal(r))


def test_validate_rejects_a_changed_prediction(results):
    # Changing a prediction changes the recomputed scores; SBMSE is checked first.
    r = copy.deepcopy(results)
    r["folds"][1]["predictions"][2]["pred"][0] = [5.0, 5.0, 5.0]
    with pytest.raises(ValueError, match=r"folds\[1\]\.test\.sbmse: stored"):
        validate_results(_rehash(r))
    # Changing only the permutations changes SBMSE (and nothing the Chamfer scores see).
    r = copy.deepcopy(results)
    p = r["folds"][1]["predictions"][0]
    p["sym_perms"] = [p["sym_perms"][0]] * len(p["sym_perms"])
    with pytest.raises(ValueError, match=r"folds\[1\]\.test\.sbmse: stored"):
        validate_results(_rehash(r))


def test_validate_rejects_a_tampered_collapse_count():
    r = build_results(collapse_ids=[0])
    assert r["folds"][0]["test"]["collapsed"] == 1
    bad = copy.deepcopy(r)
    bad["folds"][0]["test"]["collapsed"] = 0  # hide the collapsed prediction
    with pytest.raises(ValueError, match="content_hash"):
        validate_results(bad)
    with pytest.raises(ValueError, match=r"folds\[0\]\.test\.collapsed: stored 0 but the pre"):
        validate_results(_reseal(copy.deepcopy(bad)))
    # Without resealing the summary, the summary no longer matches the folds.
    with pytest.raises(ValueError, match=r"summary\.test_collapsed\.count: 3 but the folds give 2"):
        validate_results(_rehash(bad))


def test_collapsed_prediction_is_counted_and_warned(toy_known):
    r = build_results(collapse_ids=[0])  # sample 0 is tested in fold 0 of each seed
    for f in r["folds"]:
        assert f["test"]["collapsed"] == (1 if f["fold"] == 0 else 0)
    assert r["summary"]["test_collapsed"] == {"count": 3, "n": 18}
    assert recompute_scores(r)[0]["collapsed"] == 1
    # What the collapse games: the one-sided Chamfer score of that prediction is 0.
    p = r["folds"][0]["predictions"][0]
    assert p["id"] == 0
    assert np.ptp(np.array(p["pred"]), axis=0).max() == 0.0  # every atom at one point
    scores = sample_scores(p["pred"], p["target"], p["sym_ops"], p["sym_perms"])
    assert scores["cd_paper"] == 0.0 and scores["sbcd_paper"] == 0.0
    assert scores["sbmse"] > 0.1 and scores["cd"] > 0.1
    warnings = validate_results(r)
    assert [w for w in warnings if "collapsed" in w] == [
        w for w in warnings if w.startswith("3 of 18 test predictions are collapsed")
    ]
    assert len([w for w in warnings if "collapsed" in w]) == 1
    assert validate_results(build_results()) == []  # nothing collapsed: no warning


def test_tolerance_allows_float32_rounding(results):
    r = copy.deepcopy(results)
    for f in r["folds"]:
        f["test"]["sbcd"] = float(np.float32(f["test"]["sbcd"]))
        f["test"]["sbmse"] = float(np.float32(f["test"]["sbmse"]))
        f["test"]["cd"] *= 1 + 2e-5
    validate_results(_reseal(r))


@pytest.mark.parametrize(
    "mutate, match",
    [
        (
            lambda r: r["folds"][0]["predictions"][0]["pred"][1].__setitem__(0, float("nan")),
            r"folds\[0\]\.predictions\[0\]\.pred\[1\]\[0\]: NaN",
        ),
        (lambda r: r["folds"][0]["predictions"][0]["target"].pop(), "pred shape"),
        (lambda r: r["folds"][0]["predictions"][0].update(sym_ops=[[1, 0], [0, 1]]), "3-d array"),
        (lambda r: r["folds"][1].update(seed=r["folds"][0]["seed"], fold=0), "appears twice"),
        (lambda r: r["summary"]["test_cd"].update(mean=1.0), r"summary\.test_cd\.mean"),
        (lambda r: r.update(seeds=[0, 1]), "seeds"),
        (lambda r: r["folds"][0]["split"]["test"].append(99), "split.test"),
        (lambda r: r["folds"][0].update(fold=5), "n_folds"),
        (
            lambda r: r["folds"][0]["predictions"][1].pop("sym_perms"),
            r"folds\[0\]\.predictions\[1\]: missing required field 'sym_perms'",
        ),
        (
            lambda r: r["folds"][0]["predictions"][1].update(sym_perms=[[0, 1, 2, 3]]),
            r"folds\[0\]\.predictions\[1\]\.sym_perms: expected integer \(G, N\) = \(4, 4\)",
        ),
        (
            lambda r: r["folds"][0]["predictions"][1]["sym_perms"][1].__setitem__(0, 2.5),
            r"folds\[0\]\.predictions\[1\]\.sym_perms: expected integer",
        ),
        (
            lambda r: r["folds"][2]["predictions"][1]["sym_perms"].__setitem__(1, [0, 0, 1, 2]),
            r"folds\[2\]\.predictions\[1\]: .*not a permutation",
        ),
        (lambda r: r["folds"][0]["test"].pop("collapsed"), r"folds\[0\]\.test: missing"),
        (lambda r: r["folds"][0]["val"].update(collapsed=0), r"folds\[0\]\.val: unknown field"),
        (lambda r: r["folds"][0]["test"].update(collapsed=-1), r"folds\[0\]\.test\.collapsed"),
        (lambda r: r["folds"][0]["val"].pop("sbmse"), r"folds\[0\]\.val: missing .*'sbmse'"),
        (
            lambda r: r["summary"]["test_collapsed"].update(n=17),
            r"summary\.test_collapsed\.n: 17 but the folds give 18",
        ),
        (lambda r: r["summary"]["val_sbmse"].update(std=0.5), r"summary\.val_sbmse\.std"),
        (
            lambda r: r.update(loss_chamfer={"symmetric": False, "reduction": "sum", "p": 2}),
            r"loss_chamfer: matches none",
        ),
        (lambda r: r.update(metric={"reduction": "mean"}), "unknown field 'metric'"),
        (lambda r: r.update(format_version=1), "format_version: expected 2"),
    ],
)
def test_validate_errors(results, mutate, match):
    r = copy.deepcopy(results)
    mutate(r)
    with pytest.raises(ValueError, match=match):
        validate_results(_rehash(r))


def test_non_orthogonal_ops_are_reported_with_their_path(results):
    r = copy.deepcopy(results)
    r["folds"][4]["predictions"][1]["sym_ops"][1][0][0] = -2.0
    with pytest.raises(ValueError, match=r"folds\[4\]\.predictions\[1\]"):
        validate_results(_rehash(r))


def test_warnings(toy_known):
    few = build_results(seeds=(0,), split={"protocol": "random", "n_folds": 3, "group_by": None})
    warnings = validate_results(few)
    assert any("only 1 seed" in w for w in warnings)
    assert any("only 2 of 3 folds" in w for w in warnings)
    assert validate_results(build_results()) == []


def test_unknown_dataset_is_a_warning_for_validate(results):
    warnings = validate_results(results)  # 'toy' is not registered here
    assert any("unknown dataset 'toy'" in w and "submit will reject" in w for w in warnings)


def test_overlap_warnings(toy_known):
    r = build_results(split={"protocol": "grouped", "n_folds": 2, "group_by": "molecule"})
    assert validate_results(r) == []
    # Sample 0 (test in fold 0) gets the molecule id of sample 3 (train in fold 0) and
    # sample 1 the geometry of sample 4.
    samples = copy.deepcopy(r["samples"])
    samples[0]["mol_id"] = samples[3]["mol_id"]
    samples[1]["geometry_hash"] = samples[4]["geometry_hash"]
    w = validate_results(
        build_results(split=r["split"], samples=samples, seeds=(0, 1, 2)), recompute=False
    )
    assert "folds[0]: 1 test sample(s) share a molecule with train" in w
    assert "folds[0]: 1 test sample(s) share a geometry with train" in w
    # Under the random protocol molecule overlap is expected and said so.
    w = validate_results(build_results(samples=samples), recompute=False)
    assert any("expected under the random split" in x for x in w)
    # Under the train = test protocol nothing is reported.
    same = build_results(samples=samples, split={"protocol": "same", "n_folds": 2})
    assert validate_results(same, recompute=False) == []
    # The same sample id in train and test.
    folds = copy.deepcopy(r["folds"])
    folds[1]["split"]["train"].append(folds[1]["split"]["test"][0])
    w = validate_results(build_results(folds=folds, split=r["split"]), recompute=False)
    assert "folds[1]: 1 test sample id(s) also in train" in w


def test_geometry_hash():
    s = toy_sample(2)
    h = geometry_hash(s["z"], s["pos"])
    assert h == geometry_hash(s["z"], s["pos"] + np.array([3.0, -1.0, 0.5]))  # translation
    assert h == geometry_hash(torch.from_numpy(s["z"]), torch.from_numpy(s["pos"]))
    moved = s["pos"].copy()
    moved[0, 0] += 1e-3
    assert h != geometry_hash(s["z"], moved)
    assert h != geometry_hash(s["z"] + 1, s["pos"])
    with pytest.raises(ValueError, match="positions"):
        geometry_hash(s["z"], s["pos"][:3])


class _Sample:
    def __init__(self, i):
        s = toy_sample(i)
        self.z, self.pos = torch.from_numpy(s["z"]), torch.from_numpy(s["pos"])
        self.y, self.sym_ops = torch.from_numpy(s["y"]), torch.from_numpy(C2V).float()
        self.sym_perms = torch.from_numpy(s["sym_perms"]).reshape(-1)  # as the contract


def test_dataset_sha256():
    data = [_Sample(i) for i in range(4)]
    h = dataset_sha256(data)
    assert h == dataset_sha256([_Sample(i) for i in range(4)])
    assert h != dataset_sha256(data[::-1])
    data[2].y = data[2].y.clone()
    data[2].y[0, 0] += 1e-3
    assert h != dataset_sha256(data)
    with pytest.raises(ValueError, match="empty"):
        dataset_sha256([])


def test_dataset_sha256_ignores_last_bit_noise_not_data_changes():
    """Bits that differ between CPUs (a few ulp, signed zeros, 1e-17 residues in
    sym_ops) leave the hash alone; a change of 1e-5 in one coordinate does not."""
    data = [_Sample(i) for i in range(3)]
    h = dataset_sha256(data)
    noisy = [_Sample(i) for i in range(3)]
    for s in noisy:
        s.pos = torch.nextafter(s.pos, torch.full_like(s.pos, 10.0))  # one ulp up
        s.y = torch.nextafter(s.y, torch.full_like(s.y, -10.0))
        ops = s.sym_ops.clone()
        ops[ops == 0] = -0.0
        ops[0, 0, 1] = 1e-17
        s.sym_ops = ops
    assert not torch.equal(noisy[0].pos, data[0].pos)
    assert dataset_sha256(noisy) == h
    noisy[1].pos = noisy[1].pos.clone()
    noisy[1].pos[0, 2] += 1e-5
    assert dataset_sha256(noisy) != h


def test_dataset_sha256_sees_sym_perms():
    data = [_Sample(i) for i in range(2)]
    h = dataset_sha256(data)
    # The same permutations as (G, N) or flattened (G*N,) hash alike; others do not.
    data[1].sym_perms = data[1].sym_perms.reshape(4, 4)
    assert dataset_sha256(data) == h
    data[1].sym_perms = data[1].sym_perms[[0, 2, 1, 3]]  # rows no longer match sym_ops
    assert dataset_sha256(data) != h
    data[1].sym_perms = None  # no annotation at all
    assert dataset_sha256(data) != h


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"a": 1,')
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        load_results(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        load_results(tmp_path / "list.json")


def test_make_results_rejects_unstorable_values():
    with pytest.raises(ValueError, match=r"hyperparameters\.act: cannot store"):
        build_results(hyperparameters={"act": torch.nn.ReLU})


def test_make_results_signature_is_keyword_only():
    with pytest.raises(TypeError):
        make_results({"name": "toy"})  # type: ignore[misc]


def test_recompute_with_clouds_and_groups_of_different_sizes():
    # Three samples with 3, 6 and 2 atoms (k = 2 vectors per atom) whose positions are
    # invariant under their groups (C2v, C2, C1), with perms from the positions.
    geometries = [
        (np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, 1.0]]), C2V),
        (
            np.array(
                [[1.0, 0.5, 0], [-1.0, -0.5, 0], [0, 2, 1], [0, -2, 1], [3, 1, 2], [-3, -1, 2]]
            ),
            C2V[:2],
        ),
        (np.array([[0.0, 0, 0], [1.0, 2, 3]]), C2V[:1]),
    ]
    rng = np.random.default_rng(3)
    preds = []
    for i, (pos, ops) in enumerate(geometries):
        perms = image_perms(pos, ops)
        n = len(pos)
        target = rng.normal(size=(n, 6))
        pred = act(ops[-1], perms[-1], target) + rng.normal(0, 0.01, (n, 6))
        preds.append({"id": i, "pred": pred, "target": target, "sym_ops": ops, "sym_perms": perms})
    r = build_results(
        folds=[make_fold(0, 0, preds)], split={"protocol": "same", "n_folds": 1}, samples=None
    )
    again = recompute_scores(r)[0]
    per = [sample_scores(p["pred"], p["target"], p["sym_ops"], p["sym_perms"]) for p in preds]
    for key in SCORES:
        assert again[key] == pytest.approx(np.mean([x[key] for x in per]), rel=1e-6), key
    assert again["sbmse"] < 0.01 < again["mse"] and again["sbcd"] < 0.01 < again["cd"]
