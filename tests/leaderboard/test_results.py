"""results.json: build, hash, write/load, recompute, and the checks that reject bad files."""

import copy
import gzip
import json

import numpy as np
import pytest
import torch

from sbbench.leaderboard import (
    content_hash,
    dataset_sha256,
    geometry_hash,
    load_results,
    make_results,
    recompute_scores,
    validate_results,
    write_results,
)
from sbbench.leaderboard._results import _summary
from sbbench.metrics import chamfer, sbcd
from tests.leaderboard._factory import C2V, build_results, toy_sample

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


def test_make_results_fills_provenance_and_summary(results):
    prov = results["provenance"]
    assert prov["versions"]["torch"] == torch.__version__
    assert prov["versions"]["sbbench"] and prov["hardware"]["device"] == "cpu"
    assert prov["date"].endswith("Z")
    assert results["seeds"] == [0, 1, 2]
    sb = [f["test"]["sbcd"] for f in results["folds"]]
    assert results["summary"]["test_sbcd"]["mean"] == pytest.approx(np.mean(sb), rel=1e-12)
    assert results["summary"]["test_sbcd"]["std"] == pytest.approx(np.std(sb, ddof=1), rel=1e-12)
    assert results["summary"]["test_sbcd"]["n"] == 6
    # The toy model predicts g.target + noise: SBCD sees through g, CD does not.
    assert results["summary"]["test_sbcd"]["mean"] < 0.5 * results["summary"]["test_cd"]["mean"]


def test_recomputed_scores_match_metrics_by_hand(results):
    fold = results["folds"][3]
    cds, sbs = [], []
    for p in fold["predictions"]:
        pred, target = np.array(p["pred"]), np.array(p["target"])
        cds.append(float(chamfer(pred, target)))
        sbs.append(float(sbcd(pred, target, np.array(p["sym_ops"]))))
    again = recompute_scores(results)[3]
    assert again["cd"] == pytest.approx(np.mean(cds), rel=1e-12)
    assert again["sbcd"] == pytest.approx(np.mean(sbs), rel=1e-12)


def test_exact_symmetric_prediction_has_zero_sbcd():
    # pred = C2.target exactly: SBCD must be 0 and CD must not.
    s = toy_sample(0)
    s["y"] = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 0]], np.float32)
    pred = s["y"] @ C2V[1].T
    fold = {
        "fold": 0,
        "seed": 0,
        "val": {"cd": 0.0, "sbcd": 0.0},
        "test": {"cd": float(chamfer(pred, s["y"])), "sbcd": 0.0},
        "train_time_s": 0.0,
        "equivariance_error": None,
        "predictions": [{"id": 0, "pred": pred, "target": s["y"], "sym_ops": C2V}],
    }
    r = build_results(folds=[fold], split={"protocol": "same", "n_folds": 1}, samples=None)
    assert recompute_scores(r)[0]["sbcd"] == 0.0 and r["folds"][0]["test"]["cd"] > 0.1


def test_torch_tensors_are_accepted():
    s = toy_sample(1)
    pred = torch.from_numpy(s["y"]) + 0.1
    cd = float(chamfer(pred.double(), torch.from_numpy(s["y"]).double()))
    sb = float(sbcd(pred.double(), torch.from_numpy(s["y"]).double(), torch.from_numpy(C2V)))
    fold = {
        "fold": torch.tensor(0),
        "seed": 7,
        "val": {"cd": torch.tensor(cd), "sbcd": sb},
        "test": {"cd": torch.tensor(cd), "sbcd": sb},
        "train_time_s": 0.0,
        "equivariance_error": torch.tensor(1e-6),
        "predictions": [
            {
                "id": torch.tensor(1),
                "pred": pred,
                "target": torch.from_numpy(s["y"]),
                "sym_ops": C2V,
            }
        ],
    }
    r = build_results(folds=[fold], split={"protocol": "same", "n_folds": 1}, samples=None)
    assert r["folds"][0]["fold"] == 0 and r["folds"][0]["predictions"][0]["id"] == 1
    json.dumps(r)  # plain JSON data only


def test_make_results_rejects_a_wrong_stored_score():
    r = build_results()
    folds = copy.deepcopy(r["folds"])
    folds[2]["test"]["sbcd"] *= 1.01
    with pytest.raises(ValueError, match=r"folds\[2\]\.test\.sbcd: stored"):
        build_results(folds=folds)


def test_validate_rejects_tampering(results):
    r = copy.deepcopy(results)
    r["folds"][0]["test"]["cd"] *= 0.5
    with pytest.raises(ValueError, match="content_hash"):
        validate_results(r)
    # Re-hashing does not help: the predictions give the true score.
    with pytest.raises(ValueError, match=r"folds\[0\]\.test\.cd: stored"):
        validate_results(_reseal(r))
    # Changing a prediction changes the recomputed score.
    r = copy.deepcopy(results)
    r["folds"][1]["predictions"][2]["pred"][0] = [5.0, 5.0, 5.0]
    with pytest.raises(ValueError, match=r"folds\[1\]\.test\.cd: stored"):
        validate_results(_rehash(r))


def test_tolerance_allows_float32_rounding(results):
    r = copy.deepcopy(results)
    for f in r["folds"]:
        f["test"]["sbcd"] = float(np.float32(f["test"]["sbcd"]))
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
    rng = np.random.default_rng(3)
    preds = []
    for i, (n, ops) in enumerate([(3, C2V), (6, C2V[:2]), (2, C2V[:1])]):
        target = rng.normal(size=(n, 6))  # k = 2 vectors per atom
        pred = target @ np.kron(np.eye(2), ops[-1]).T + rng.normal(0, 0.01, (n, 6))
        preds.append({"id": i, "pred": pred, "target": target, "sym_ops": ops})
    cd = np.mean([float(chamfer(p["pred"], p["target"])) for p in preds])
    sb = np.mean([float(sbcd(p["pred"], p["target"], p["sym_ops"])) for p in preds])
    fold = {
        "fold": 0,
        "seed": 0,
        "val": {"cd": cd, "sbcd": sb},
        "test": {"cd": cd, "sbcd": sb},
        "train_time_s": 0.0,
        "equivariance_error": None,
        "predictions": preds,
    }
    r = build_results(folds=[fold], split={"protocol": "same", "n_folds": 1}, samples=None)
    again = recompute_scores(r)[0]
    assert again["cd"] == pytest.approx(cd, rel=1e-9)
    assert again["sbcd"] == pytest.approx(sb, rel=1e-9) and sb < 0.01 < cd
