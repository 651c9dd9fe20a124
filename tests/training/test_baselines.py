"""Every config in baselines/ resolves and builds its model (no silent typos in the zoo)."""

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
