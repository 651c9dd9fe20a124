"""Config resolution of the model hyperparameters: every constructor default is filled in,
so one configuration has one spelling in results.json and on the boards (issue 18 item 11)."""

import inspect
from types import SimpleNamespace

import pytest
import torch

from sbbench.models import build
from sbbench.models._hessian import HessianHead
from sbbench.models._registry import BASE_MODELS, defaults, model_class
from sbbench.models.modifiers import MLPHead, NoisyPositions
from sbbench.training import RunConfig, run_experiment
from sbbench.training._experiment import _model_hparams


def _resolved(model: str, hparams: dict, *, y_width: int = 3, node_attr: int | None = None):
    """What a run on samples with ``y`` of ``y_width`` columns records as model hparams."""
    sample = SimpleNamespace(
        y=torch.zeros(3, y_width),
        node_attr=None if node_attr is None else torch.zeros(3, node_attr),
    )
    return _model_hparams(
        RunConfig(model=model, dataset="h2o_modes", model_hparams=hparams), sample
    )


def _signature_defaults(cls) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name not in ("self", "base")
    }


def test_two_spellings_of_one_painn_configuration_are_one():
    # h2o_modes ranked `painn hidden=64 layers=3` and `... variant=tensor` (the default)
    # as two configurations: Table 2 left variant out, Table 7 set it
    table2 = _resolved("painn", {"hidden": 64, "layers": 3})
    table7 = _resolved("painn", {"hidden": 64, "layers": 3, "variant": "tensor"})
    assert table2 == table7
    assert table2 == {**_signature_defaults(model_class("painn")), "hidden": 64, "layers": 3}
    assert table2["variant"] == "tensor" and table2["mode_rank"] is None  # not set


@pytest.mark.parametrize("base", list(BASE_MODELS))
def test_every_constructor_default_is_recorded(base):
    hp = _resolved(f"{base}+noise+mlp", {})
    expected = {
        **_signature_defaults(model_class(base)),
        **_signature_defaults(NoisyPositions),
        **_signature_defaults(MLPHead),
    }
    assert hp == expected  # sann and dimenet+++mlp rows recorded only {"out_vectors": 1}
    assert _resolved(base, {}) == _signature_defaults(model_class(base))


def test_what_the_data_and_the_config_set_wins_over_the_defaults():
    hp = _resolved("egnn+mlp", {"hidden": 16, "mlp_hidden": 8}, y_width=6, node_attr=2)
    assert (hp["out_vectors"], hp["node_attr_dim"]) == (2, 2)  # from the data
    assert (hp["hidden"], hp["mlp_hidden"], hp["layers"]) == (16, 8, 4)  # config, default


@pytest.mark.parametrize("model", ["painn", "egnn+mlp"])
def test_hessian_options_resolve_to_the_heads_defaults(model):
    head = _signature_defaults(HessianHead)
    given = {"variant": "hessian", "mode_rank": 2}
    hp = _resolved(model, given)
    assert hp == _resolved(model, {**head, **given})  # explicit defaults: the same spelling
    assert {k: hp[k] for k in head} == {**head, "mode_rank": 2}


@pytest.mark.parametrize("base", list(BASE_MODELS))
def test_recorded_hyperparameters_build_the_same_model(base):
    """Passing every default explicitly builds what the recorded subset built."""
    small = {"hidden": 8, "layers": 1}
    for name, given in ((base, small), (f"{base}+noise+mlp", small)):
        torch.manual_seed(0)
        a = build(name, **small)
        torch.manual_seed(0)
        b = build(name, **defaults(name, **given))
        sa, sb = a.state_dict(), b.state_dict()
        assert list(sa) == list(sb)
        assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_run_records_the_complete_set(tmp_path):
    cfg = RunConfig(
        model="sann",
        dataset="square",
        folds=1,
        epochs=1,
        batch_size=2,
        model_hparams={"hidden": 8, "layers": 1},
        threads=1,
        equivariance_samples=0,
    )
    results = run_experiment(cfg, tmp_path / "o", quiet=True).results
    assert results["hyperparameters"]["model"] == defaults("sann", hidden=8, layers=1)
    assert results["hyperparameters"]["model"]["sym_tol"] == 0.1


@pytest.mark.parametrize("typed", ["dimenetpp+mlp", "DimeNetPP+MLP", "dimenet+++mlp"])
def test_a_model_alias_resolves_to_the_one_spelling_rows_carry(typed):
    """Whatever alias is typed, the resolved config (and so results.json, the run folder
    and the leaderboard row) names the model as the registry does and the committed
    rows do: ``dimenet+++mlp``, not a second board entry ``dimenetpp+mlp``."""
    from sbbench.training import resolve_config

    cfg = resolve_config(typed, "square")
    assert cfg.model == "dimenet+++mlp"
    assert cfg.to_dict() == resolve_config("dimenet+++mlp", "square").to_dict()
