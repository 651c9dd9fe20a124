"""baselines/: one defaults file per model, one protocol file per dataset, and a
(model, dataset) file only where the model departs from both (issue 18 item 17); every
pair resolves and builds, and resolves as it did before the restructuring (snapshot)."""

import json
from pathlib import Path

import pytest

from sbbench.datasets import names as dataset_names
from sbbench.models import BASE_MODELS, build
from sbbench.training import RunConfig, _config, resolve_config
from sbbench.training._config import baseline_file, baseline_files

ROOT = Path(__file__).resolve().parents[2] / "baselines"
PAIRS = [(m, d) for m in BASE_MODELS for d in dataset_names()]
#: folders of baselines/ that are not a model's (_config._NOT_MODELS)
OTHER_FOLDERS = ("datasets", "hessian", "grids")


def _baseline_yamls() -> list[Path]:
    """Every YAML merged into a baseline (not the grids, not the --config files)."""
    skip = ("grids", "hessian")
    return sorted(p for p in ROOT.rglob("*.yaml") if p.relative_to(ROOT).parts[0] not in skip)


def test_the_layout():
    """datasets/<d>.yaml for every dataset, <m>/defaults.yaml for every model, and in a
    model's folder only files named after a dataset; no other folder."""
    folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
    assert folders == {*BASE_MODELS, *OTHER_FOLDERS}
    assert {p.stem for p in (ROOT / "datasets").glob("*.yaml")} == set(dataset_names())
    for model in BASE_MODELS:
        assert (ROOT / model / "defaults.yaml").is_file()
        stray = {p.name for p in (ROOT / model).iterdir()} - {
            "defaults.yaml",
            *(f"{d}.yaml" for d in dataset_names()),
        }
        assert not stray, f"baselines/{model}/: {sorted(stray)} name no dataset"


def test_no_two_files_in_baselines_have_the_same_content():
    """36 files with 14 distinct contents before item 17; now one file per setting."""
    seen: dict[bytes, Path] = {}
    for path in sorted(p for p in ROOT.rglob("*") if p.is_file()):
        other = seen.setdefault(path.read_bytes(), path)
        assert other == path, f"{path.relative_to(ROOT)} repeats {other.relative_to(ROOT)}"


def test_every_baseline_file_states_only_what_differs():
    """Each key (each entry of a mapping) of each baseline file changes the resolved
    configuration of at least one pair that reads the file: none restates what the
    RunConfig defaults or an earlier file already give."""
    used: set[tuple[Path, str, object]] = set()
    for model, dataset in PAIRS:
        paths = baseline_files(model, dataset)
        layers = [_config._read_yaml(p) for p in paths]
        full = _merged(layers)
        for i, (path, layer) in enumerate(zip(paths, layers)):
            for key, value in layer.items():
                for sub in value if isinstance(value, dict) and value else [None]:
                    reduced = dict(layer)
                    if sub is None:
                        del reduced[key]
                    else:
                        reduced[key] = {k: v for k, v in value.items() if k != sub}
                    if _merged([*layers[:i], reduced, *layers[i + 1 :]]) != full:
                        used.add((path, key, sub))
    for path in _baseline_yamls():
        for key, value in _config._read_yaml(path).items():
            for sub in value if isinstance(value, dict) and value else [None]:
                what = key if sub is None else f"{key}.{sub}"
                assert (path, key, sub) in used, f"{path.relative_to(ROOT)}: {what} changes nothing"


def _merged(layers: list[dict]) -> dict:
    cfg = RunConfig(model="m", dataset="d").to_dict()
    for layer in layers:
        _config._merge(cfg, layer)
    return cfg


@pytest.mark.parametrize(("model", "dataset"), PAIRS, ids=lambda x: x)
def test_every_pair_resolves_and_builds(model, dataset):
    cfg = resolve_config(model, dataset)
    paths = baseline_files(model, dataset)
    assert paths[0] == ROOT / "datasets" / f"{dataset}.yaml"
    assert paths[1] == ROOT / model / "defaults.yaml"
    assert cfg.baseline == " + ".join(f"baselines/{p.parent.name}/{p.name}" for p in paths)
    build(cfg.model, **cfg.model_hparams)


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("dimenetpp", "dimenet++"),
        ("dimenetpp+mlp", "dimenet++"),
        ("dimenet+++mlp", "dimenet++"),
        ("DimeNetPP + Noise", "dimenet++"),
        ("egnn+noise", "egnn"),
        ("painn+noise+mlp", "painn"),
        ("relaxed_e3nn+mlp", "relaxed_e3nn"),
    ],
)
def test_every_spelling_finds_its_baseline(name, base):
    """baselines/ uses the registry spelling of the base; the alias and +modifier forms
    must find it (``dimenet+++mlp`` used to look up baselines/dimenet/ and ran on defaults)."""
    for dataset in ("square", "qm7x"):
        assert baseline_files(name, dataset) == baseline_files(base, dataset)
        assert ROOT / base / "defaults.yaml" in baseline_files(name, dataset)
        assert baseline_file(name, dataset) == baseline_file(base, dataset)
        got, want = resolve_config(name, dataset).to_dict(), resolve_config(base, dataset).to_dict()
        assert {**got, "model": base} == want
    assert baseline_file("relaxed_e3nn+noise", "qm7x") == ROOT / "relaxed_e3nn" / "qm7x.yaml"
    assert baseline_file("egnn", "square") is None  # egnn does on square what every model does


def test_an_unknown_model_or_dataset_falls_back_to_what_exists(tmp_path):
    assert baseline_files("egnn", "no_such_dataset") == [ROOT / "egnn" / "defaults.yaml"]
    assert baseline_files("datasets", "square") == [ROOT / "datasets" / "square.yaml"]
    assert resolve_config("egnn", "no_such_dataset").folds == RunConfig("m", "d").folds


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("epochz: 3\n", "epochz", "unknown config key 'epochz' (did you mean 'epochs'?)"),
        ("epochs: ten\n", "epochs", "epochs must be an integer, got 'ten' (str)"),
        ("epochs: 10.0\n", "epochs", "epochs must be an integer, got 10.0 (float)"),
        ("lr: 1e-3\n", "lr", "lr must be a number, got '1e-3' (str) (YAML reads 1e-3 as text"),
        ("model_hparams: 64\n", "model_hparams", "model_hparams must be a mapping, got 64"),
        ("seeds: 0\n", "seeds", "seeds must be a list of integers, got 0 (int)"),
        ("split: 3\n", "split", "split must be a string or null, got 3 (int)"),
        ("folds: null\n", "folds", "folds must be an integer, got None"),
        ("folds: true\n", "folds", "folds must be an integer, got True (bool)"),
    ],
)
@pytest.mark.parametrize(
    "where", ["datasets/square.yaml", "egnn/defaults.yaml", "egnn/square.yaml"]
)
def test_a_bad_baseline_file_is_an_error_naming_the_file_and_the_key(
    tmp_path, monkeypatch, where, text, key, message
):
    for path in ("datasets/square.yaml", "egnn/defaults.yaml", "egnn/square.yaml"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("batch_size: 2\n")
    monkeypatch.setattr(_config, "_baselines_dir", lambda: tmp_path)
    assert resolve_config("egnn", "square").batch_size == 2  # the good files
    (tmp_path / where).write_text("# a comment\n" + text)
    with pytest.raises(ValueError) as err:
        resolve_config("egnn", "square")
    assert str(err.value).startswith(f"{tmp_path / where}: ")
    assert message in str(err.value)  # the message names the key
    # the same check for a --config file
    extra = tmp_path / "extra.yaml"
    extra.write_text(text)
    with pytest.raises(ValueError, match=f"^{extra}: .*{key}"):
        resolve_config("schnet", "qm7x", config_file=extra)


def test_every_value_of_every_shipped_file_has_its_fields_type():
    """_read_yaml checks key and type; every file of baselines/ passes, the Hessian
    --config files included."""
    for path in [*_baseline_yamls(), *sorted((ROOT / "hessian").glob("*.yaml"))]:
        _config._read_yaml(path)


@pytest.mark.parametrize("model", ["egnn", "painn"])
@pytest.mark.parametrize("mode", ["sym", "bend", "asym"])
def test_the_hessian_configs_serve_every_model_with_the_head(model, mode):
    path = ROOT / "hessian" / f"h2o_modes-{mode}.yaml"
    cfg = resolve_config(model, f"h2o_modes:{mode}", config_file=path)
    rank = {"bend": 0, "sym": 1, "asym": 2}[mode]
    assert cfg.model_hparams == {
        "hidden": 64,
        "layers": 3,
        "variant": "hessian",
        "mode_rank": rank,
        "normalize": "total",
    }


def test_every_file_of_baselines_ships_in_the_wheel():
    """pyproject's package-data globs for sbbench._baselines match every file (the Hessian
    configs in <model>/hessian/ did not ship before item 17). tests/datasets/qm7x/
    test_shipped.py builds a wheel; this is the fast check of the globs themselves."""
    import tomllib

    pyproject = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["sbbench._baselines"]
    shipped = {p for pattern in globs for p in ROOT.glob(pattern)}  # setuptools' glob rule
    files = {p for p in ROOT.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert files - shipped == set()


# --- the resolved configuration of every pair, pinned (issue 18 item 17) ------------------

SNAPSHOT = Path(__file__).with_name("baseline_snapshot.json")
"""What :func:`snapshot` returned before baselines/ was restructured (item 17)."""

#: spellings beyond :func:`sbbench.models.names` that must find their baseline: the legacy
#: DimeNet++ name with and without modifiers, and modifiers composed in either order
EXTRA_SPELLINGS = (
    "dimenet++",
    "dimenet+++mlp",
    "dimenet+++noise",
    "egnn+noise+mlp",
    "painn+mlp+noise",
)


def _hessian_config(model: str, mode: str) -> Path:
    """The ``--config`` file of the Hessian-eigenvector rows (issue 17) for ``model``."""
    return ROOT / "hessian" / f"h2o_modes-{mode}.yaml"  # <model>/hessian/ before item 17


def snapshot() -> dict[str, dict]:
    """The resolved configuration of every (model, dataset) pair, keyed ``"model dataset"``.

    Models: every listed name (bases and base+modifier) and :data:`EXTRA_SPELLINGS`, on every
    dataset; the base models also on every ``dataset:task``; egnn and painn also with the
    Hessian ``--config`` files (key suffix ``" --config hessian"``). Each value is
    :meth:`RunConfig.to_dict` without ``baseline``, which names the files the values came
    from (a layout detail); every value that reaches a run is kept.
    Regenerate, only when a baseline is meant to change:
    ``python tests/training/test_baselines.py``.
    """
    from sbbench.datasets import names as dataset_names
    from sbbench.datasets._registry import get_class
    from sbbench.models import BASE_MODELS
    from sbbench.models import names as model_names

    def entry(model: str, dataset: str, config_file: Path | None = None) -> dict:
        cfg = resolve_config(model, dataset, config_file=config_file).to_dict()
        del cfg["baseline"]
        return cfg

    out = {}
    for model in [*model_names(), *EXTRA_SPELLINGS]:
        for dataset in dataset_names():
            out[f"{model} {dataset}"] = entry(model, dataset)
    for model in BASE_MODELS:
        for dataset in dataset_names():
            for task in get_class(dataset).tasks:
                out[f"{model} {dataset}:{task}"] = entry(model, f"{dataset}:{task}")
    for model in ("egnn", "painn"):
        for mode in ("sym", "bend", "asym"):
            key = f"{model} h2o_modes:{mode} --config hessian"
            out[key] = entry(model, f"h2o_modes:{mode}", _hessian_config(model, mode))
    return out


def _write_snapshot() -> None:
    """Write :func:`snapshot` to :data:`SNAPSHOT`, one pair per line (reviewable diffs)."""
    lines = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in snapshot().items()]
    SNAPSHOT.write_text("{\n" + ",\n".join(lines) + "\n}\n")


def test_every_pair_resolves_as_the_snapshot():
    """Restructuring baselines/ (item 17) changed no resolved value of any pair."""
    expected = json.loads(SNAPSHOT.read_text())
    got = json.loads(json.dumps(snapshot()))  # tuples -> lists, as in the fixture
    assert sorted(got) == sorted(expected)
    changed = {k: (expected[k], got[k]) for k in expected if got[k] != expected[k]}
    example = next(iter(changed.items()), None)
    assert not changed, f"{len(changed)} pairs resolve differently, e.g. {example}"


if __name__ == "__main__":
    _write_snapshot()
