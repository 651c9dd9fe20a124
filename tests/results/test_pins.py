"""Pinned dataset sha256 (sbbench/results/_pins.py) and the stale-data check of submit.

The pins must be the data the current code builds: these tests rebuild every pinned
dataset and task from scratch (a fresh cache folder, so an old cache cannot hide a
change) and fail when the data change without a version bump (then bump the dataset's
``version`` and run ``python datasets/pin_sha256.py``).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sbbench.datasets import get_class, load, names
from sbbench.leaderboard import (
    DATASET_VERSIONS,
    SubmissionRejected,
    check_dataset_version,
    dataset_sha256,
    read_leaderboard,
    submit,
)
from sbbench.results import _versions
from sbbench.results._pins import PINS
from sbbench.results._versions import options_key
from tests.results._factory import build_results, dataset_entry, samples_of

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[2]
CURRENT = [
    (name, version, key)
    for name, by_version in sorted(PINS.items())
    for version, pins in sorted(by_version.items())
    for key in sorted(pins)
    if version == str(get_class(name).version)
]


def test_there_are_pins_to_check():
    assert len(CURRENT) >= len(names())
    assert DATASET_VERSIONS == PINS  # the registry of accepted versions is the pins file


@pytest.mark.parametrize("name, version, key", CURRENT, ids=[f"{n}-{k}" for n, _, k in CURRENT])
def test_pinned_sha256_is_the_data_the_code_builds(tmp_path, name, version, key):
    ds = load(name, root=str(tmp_path), **json.loads(key))  # built now, not from a cache
    assert str(ds.version) == version
    assert options_key(ds.options) == key  # the options a harness records hit this pin
    assert dataset_sha256(ds) == PINS[name][version][key], (
        f"{name} version {version} with options {key} builds other data than its pin: "
        "bump the dataset's version and run python datasets/pin_sha256.py"
    )


def test_pins_hold_under_another_cpu_kernel_set(tmp_path):
    """The h2o_modes samples are rotated by a 3x3 product whose last bits depend on the
    BLAS kernels of the CPU: built with OpenBLAS forced to its Haswell kernels (what a
    CPU without AVX-512 runs), they must still hit their pin. Bit-exact hashing failed
    this on an AVX-512 machine."""
    key = json.dumps({"task": "asym", "targets": "displacement"})
    code = (
        "import json, sys; from sbbench.datasets import load; "
        "from sbbench.leaderboard import dataset_sha256; "
        f"print(dataset_sha256(load('h2o_modes', root=sys.argv[1], **json.loads({key!r}))))"
    )
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    ds = load("h2o_modes", task="asym", targets="displacement")
    assert out.stdout.strip() == PINS["h2o_modes"][str(ds.version)][options_key(ds.options)]


@pytest.mark.parametrize("name", sorted(names()))
def test_every_registered_dataset_is_pinned_at_its_current_version(name):
    cls = get_class(name)
    pins = PINS.get(name, {}).get(str(cls.version))
    assert pins, f"{name} has no pin for its current version {cls.version}"
    # Every task with default options (what `sbbench run --dataset name:task` records).
    for task in cls.tasks or (None,):
        opts = cls.check_options(**({} if task is None else {"task": task}))
        if name == "qm7x" and opts["source"] == "official":  # local files: checked by rebuild
            continue
        assert options_key(opts) in pins, f"{name} task {task}: default options not pinned"


def test_pins_file_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("pin_sha256", ROOT / "datasets/pin_sha256.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert set(gen.SHIPPED) == set(names())
    text = (ROOT / "sbbench/results/_pins.py").read_text(encoding="utf-8")
    assert gen.render(PINS) == text


# ----------------------------------------------------------------------------- submit


@pytest.fixture(scope="module")
def square():
    return load("square")


@pytest.fixture(scope="module")
def square_results(square):
    """Real results on the shipped square data (default options: pinned)."""
    return build_results(
        data=samples_of(square),
        dataset=dataset_entry(square),
        protocol="same",
        n_folds=1,
    )


def _no_rebuild(monkeypatch):
    def fail(name, options):
        raise AssertionError(f"rebuilt {name} {options} although it is pinned")

    monkeypatch.setattr(_versions, "built_sha256", fail)


def test_pinned_data_are_accepted_without_rebuilding(tmp_path, monkeypatch, square_results):
    ds = square_results["dataset"]
    assert ds["sha256"] == PINS["square"][ds["version"]][options_key(ds["options"])]
    _no_rebuild(monkeypatch)
    sub = submit(square_results, tmp_path / "square.csv")
    assert sub.warnings == []
    (row,) = read_leaderboard(sub.path)
    assert row["dataset_sha256"] == ds["sha256"] and row["dataset_version"] == "2"


def test_stale_pinned_data_are_rejected_and_the_csv_is_unchanged(
    tmp_path, monkeypatch, square, square_results
):
    path = tmp_path / "square.csv"
    submit(square_results, path)
    before = path.read_bytes()
    # The same run on other data under the same version and options, e.g. data built by an
    # older checkout before a change: here the data of square_order_param.
    other = load("square_order_param")
    stale = build_results(
        data=samples_of(square),
        dataset={**dataset_entry(square), "sha256": dataset_sha256(other)},
        protocol="same",
        n_folds=1,
        tag=1,
    )
    _no_rebuild(monkeypatch)
    with pytest.raises(SubmissionRejected, match=r"dataset\.sha256: .*stale"):
        submit(stale, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["square.csv", "square.csv.lock"]


def test_unpinned_options_are_checked_by_rebuilding(tmp_path, monkeypatch):
    big = load("square", side=2.0)
    key = options_key(big.options)
    assert key not in PINS["square"]["2"]
    calls = []
    real = _versions.built_sha256

    def spy(name, options):
        calls.append((name, options_key(options)))
        return real(name, options)

    monkeypatch.setattr(_versions, "built_sha256", spy)
    path = tmp_path / "square.csv"
    right = build_results(
        data=samples_of(big), dataset=dataset_entry(big), protocol="same", n_folds=1
    )
    sub = submit(right, path)
    assert calls and set(calls) == {("square", key)}
    assert sub.warnings == []
    before = path.read_bytes()
    # The side-1 data claimed as side 2: the rebuilt data differ.
    wrong = build_results(
        data=samples_of(big),
        dataset={**dataset_entry(big), "sha256": dataset_sha256(load("square"))},
        protocol="same",
        n_folds=1,
        tag=1,
    )
    with pytest.raises(SubmissionRejected, match=r"dataset\.sha256: .*side.:2\.0.*stale"):
        submit(wrong, path)
    assert path.read_bytes() == before


def test_check_dataset_version_rules(square):
    sha = dataset_sha256(square)
    check_dataset_version("square", "2", sha, square.options)
    with pytest.raises(ValueError, match="unknown version '1'"):
        check_dataset_version("square", "1", sha, square.options)
    with pytest.raises(ValueError, match="stale"):
        check_dataset_version("square", "2", "0" * 64, square.options)
    with pytest.raises(ValueError, match="cannot rebuild square"):
        check_dataset_version("square", "2", sha, {"side": -1.0})
    with pytest.raises(ValueError, match="unknown dataset 'sqare'. Did you mean 'square'"):
        check_dataset_version("sqare", "2", sha)


@pytest.mark.parametrize("field", ["y", "sym_ops", "sym_perms"])
def test_predictions_about_other_data_are_rejected(tmp_path, square, field):
    """Scores are recomputed from the stored targets/ops/perms; those must be the data's."""
    data = samples_of(square)
    first = data[0]
    if field == "y":
        first["y"] = np.asarray(first["y"]) * 1.5  # e.g. targets set to make the model look good
    elif field == "sym_ops":
        first["sym_ops"] = np.asarray(first["sym_ops"])[:1]  # a smaller (made-up) group
        first["sym_perms"] = np.asarray(first["sym_perms"])[:1]
    else:
        perms = np.asarray(first["sym_perms"]).copy()
        perms[1:] = perms[0]  # every operation claimed to fix every atom
        first["sym_perms"] = perms
    results = build_results(
        data=data, dataset=dataset_entry(square), protocol="same", n_folds=1, tag=2
    )
    path = tmp_path / "square.csv"
    key = "target" if field == "y" else field
    with pytest.raises(
        SubmissionRejected, match=rf"predictions\[\d+\]\.{key}: differs from sample"
    ):
        submit(results, path)
    assert not path.exists()
