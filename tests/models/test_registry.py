import pytest
import torch

from sbbench.models import SYMMETRY_CLASSES, build, names

from ._data import random_molecules, sample


def test_names_lists_bases_and_modifiers():
    n = names()
    for base in ("schnet", "dimenetpp", "egnn", "painn", "relaxed_e3nn", "sann"):
        assert base in n
        assert f"{base}+mlp" in n and f"{base}+noise" in n
    assert not [x for x in n if "++" in x]  # no 'dimenet+++noise' (issue 18 item 2)


def test_dimenet_pp_is_listed_clean_and_its_old_spelling_still_builds():
    """``dimenetpp`` is the listed name; ``dimenet++`` (old leaderboard rows, their commands
    and baselines/dimenet++/) stays accepted, with or without modifiers."""
    from sbbench.models._registry import parse, registry_name

    for name in ("dimenetpp", "dimenet++", "DimeNet++", "dimenetpp+mlp", "dimenet+++mlp"):
        model = build(name, hidden=8, layers=1)
        assert type(getattr(model, "base", model)).__name__ == "DimeNetPPVector"
    assert (
        parse("dimenet+++noise+mlp")
        == parse("dimenetpp + noise + mlp")
        == (
            "dimenet++",
            ["noise", "mlp"],
        )
    )
    assert registry_name("dimenetpp+mlp") == "dimenet+++mlp"  # the baselines/ and rows' spelling
    assert registry_name("EGNN + mlp") == "egnn+mlp"
    with pytest.raises(ValueError, match=r"unknown model 'dimenet'; did you mean 'dimenetpp'"):
        build("dimenet+mlp")


def test_unknown_name_lists_valid_and_close_match():
    with pytest.raises(ValueError, match=r"did you mean 'egnn'.*Valid: schnet") as err:
        build("egn")
    assert str(err.value).endswith("each optionally with +noise and/or +mlp (sbbench ls)")
    assert "+mlp," not in str(err.value)  # bases only, not every base x modifier
    with pytest.raises(ValueError, match=r"unknown modifier 'mpl'.*\+mlp"):
        build("egnn+mpl")
    with pytest.raises(ValueError, match="repeats a modifier"):
        build("egnn+mlp+mlp")


def test_unknown_hparam_and_modifier_hparams():
    with pytest.raises(ValueError, match="does not accept hyperparameter.*hiden.*accepted: hidden"):
        build("egnn", hiden=3)
    with pytest.raises(ValueError, match=r"needs the '\+noise' modifier"):
        build("egnn", noise_std=0.01)
    for bad in (0.0005, 0.2):
        with pytest.raises(ValueError, match="noise_std must be within"):
            build("egnn+noise", noise_std=bad)


def test_modifiers_compose_in_any_order():
    a = build("egnn+noise+mlp", hidden=8, layers=1, noise_std=0.05)
    b = build("EGNN+mlp+noise", hidden=8, layers=1)
    for m in (a, b):
        assert m.symmetry_class == "symmetry-breaking"
        assert type(m.base).__name__ == "NoisyPositions"
    assert a.base.noise_std == 0.05


@pytest.mark.parametrize(
    "name",
    ["egnn", "painn", "schnet", "dimenet++", "relaxed_e3nn", "sann", "egnn+noise", "sann+mlp"],
)
def test_symmetry_class_and_output_shape(name):
    model = build(name, hidden=8, layers=1, out_vectors=2)
    expected = {"schnet": "invariant", "dimenet++": "invariant", "sann+mlp": "symmetry-breaking"}
    expected.update({"sann": "relaxed-equivariant", "relaxed_e3nn": "relaxed-equivariant"})
    assert model.symmetry_class == expected.get(name, "equivariant")
    assert model.symmetry_class in SYMMETRY_CLASSES
    batch = random_molecules((3, 4))
    assert model(batch).shape == (7, 6)


def test_bad_inputs_raise_value_error_naming_the_problem():
    model = build("egnn", hidden=8, layers=1, num_atom_types=10)
    good = sample([1, 6, 8], torch.randn(3, 3))
    with pytest.raises(ValueError, match="atomic number 12 at atom 1.*num_atom_types=10"):
        model(sample([1, 12, 8], torch.randn(3, 3)))
    bad = good.clone()
    bad.pos = torch.randn(3, 2)
    with pytest.raises(ValueError, match="'pos' must be a \\(N, 3\\)"):
        model(bad)
    bad = good.clone()
    bad.pos[2, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite coordinate at atom 2"):
        model(bad)
    bad = good.clone()
    bad.node_attr = torch.randn(3, 2)
    with pytest.raises(ValueError, match="node_attr of width 2.*node_attr_dim=0"):
        model(bad)


def test_noise_only_in_training():
    torch.manual_seed(0)
    model = build("egnn+noise", hidden=8, layers=1, noise_std=0.1)
    batch = random_molecules((4,))
    model.eval()
    assert torch.equal(model(batch), model(batch))
    model.train()
    assert not torch.allclose(model(batch), model(batch))


def test_regularization_passes_through_wrappers():
    plain = build("egnn", hidden=8, layers=1)
    assert plain.regularization().item() == 0.0
    model = build("relaxed_e3nn+noise+mlp", hidden=4, layers=0, theta_l2=2.0)
    with torch.no_grad():
        model.base.base.convs[0].theta[1] = 1.0
    assert model.regularization().item() == 2.0
