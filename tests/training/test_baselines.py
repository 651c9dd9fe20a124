"""Every config in baselines/ resolves and builds its model (no silent typos in the zoo)."""

import json
from pathlib import Path

import pytest

from sbbench.models import build
from sbbench.training import resolve_config

ROOT = Path(__file__).resolve().parents[2] / "baselines"
CONFIGS = sorted(p for p in ROOT.glob("*/*.yaml") if p.parent.name != "grids")


def test_every_model_and_dataset_has_a_baseline():
    from sbbench.datasets import names as dataset_names
    from sbbench.models import BASE_MODELS

    have = {(p.parent.name, p.stem) for p in CONFIGS}
    missing = [(m, d) for m in BASE_MODELS for d in dataset_names() if (m, d) not in have]
    assert not missing, f"no baselines/<model>/<dataset>.yaml for {missing}"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_baseline_resolves_and_builds(path):
    cfg = resolve_config(path.parent.name, path.stem)
    assert cfg.baseline == f"baselines/{path.parent.name}/{path.name}"
    build(cfg.model, **cfg.model_hparams)


@pytest.mark.parametrize("name", ["dimenetpp", "dimenet++", "dimenetpp+mlp", "dimenet+++mlp"])
def test_every_spelling_of_dimenet_finds_its_baseline(name):
    """baselines/ uses the registry spelling; the alias and +modifier forms must find it
    (``dimenet+++mlp`` used to look up baselines/dimenet/ and ran on defaults)."""
    from sbbench.training._config import baseline_file

    for dataset in ("square", "qm7x"):
        assert baseline_file(name, dataset) == baseline_file("dimenet++", dataset) is not None


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
    return ROOT / model / "hessian" / f"h2o_modes-{mode}.yaml"


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
