"""sbbench._vocabulary: the one definition of the Chamfer conventions and split protocols."""

from __future__ import annotations

import dataclasses
import json

import pytest

from sbbench._vocabulary import (
    REDUCTIONS,
    SANN_PAPER,
    SBBENCH_DEFAULT,
    SPLIT_PROTOCOLS,
    ChamferConvention,
    check_split_protocol,
    split_group_by,
)


def test_named_conventions():
    assert SBBENCH_DEFAULT == ChamferConvention(symmetric=True, reduction="mean", squared=True)
    assert SANN_PAPER == ChamferConvention(symmetric=False, reduction="sum", squared=True)
    assert ChamferConvention() == SBBENCH_DEFAULT
    assert SANN_PAPER.one_sided and not SBBENCH_DEFAULT.one_sided
    assert REDUCTIONS == ("mean", "sum")
    assert "SANN paper" in str(SANN_PAPER) and "sbbench default" in str(SBBENCH_DEFAULT)


def test_round_trip_keeps_the_recorded_key_order():
    for conv in (SBBENCH_DEFAULT, SANN_PAPER, ChamferConvention(True, "sum", False)):
        d = conv.to_dict()
        assert list(d) == ["symmetric", "reduction", "squared"]
        assert ChamferConvention.from_dict(d) == conv
        assert ChamferConvention.from_dict(json.loads(json.dumps(d))) == conv
    assert SANN_PAPER.to_dict() == {"symmetric": False, "reduction": "sum", "squared": True}


def test_equality_is_of_objects_not_of_json_text():
    # two spellings of the paper's convention: different JSON text, one convention
    short = {"symmetric": False, "reduction": "sum"}
    full = {"reduction": "sum", "squared": True, "symmetric": False}
    assert json.dumps(short) != json.dumps(full)
    assert ChamferConvention.from_dict(short) == ChamferConvention.from_dict(full) == SANN_PAPER
    assert len({ChamferConvention.from_dict(short), SANN_PAPER}) == 1  # hashable
    assert ChamferConvention.from_dict(SANN_PAPER) is SANN_PAPER


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SBBENCH_DEFAULT.symmetric = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "value, match",
    [
        ({"symmetric": True, "p": 2}, r"loss_chamfer: unknown key 'p' \(valid: symmetric, "),
        ({"symmetric": "no"}, r"loss_chamfer: symmetric must be true or false, got 'no'"),
        ({"squared": 1}, r"loss_chamfer: squared must be true or false, got 1"),
        ({"reduction": "none"}, r"loss_chamfer: reduction must be one of mean, sum, got 'none'"),
        ({"reduction": ["sum"]}, r"reduction must be one of mean, sum"),
        ("symmetric", r"loss_chamfer must be a mapping of symmetric, reduction, squared"),
        (None, r"loss_chamfer must be a mapping"),
    ],
)
def test_bad_conventions_name_the_field_and_the_value(value, match):
    with pytest.raises(ValueError, match=match):
        ChamferConvention.from_dict(value, what="loss_chamfer")


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="Chamfer convention: reduction must be one of"):
        ChamferConvention(reduction="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Chamfer convention: symmetric must be true or false"):
        ChamferConvention(symmetric=0)  # type: ignore[arg-type]


def test_split_protocols():
    assert SPLIT_PROTOCOLS == ("same", "random", "grouped")
    for p in SPLIT_PROTOCOLS:
        assert check_split_protocol(p) == p
    assert split_group_by("grouped") == "molecule"
    assert split_group_by("random") is None and split_group_by("same") is None
    with pytest.raises(ValueError, match=r"split must be one of same, random, grouped, got 'x'"):
        check_split_protocol("x", what="split")
    with pytest.raises(ValueError, match=r"split protocol must be one of .*, got None"):
        split_group_by(None)  # type: ignore[arg-type]


def test_every_layer_uses_the_one_definition():
    """The names each layer exports are the vocabulary's, not copies that could drift."""
    from sbbench import reproduce
    from sbbench.datasets import SPLIT_PROTOCOLS as DATASET_PROTOCOLS
    from sbbench.datasets import _base
    from sbbench.leaderboard import DEFAULT_METRIC, PAPER_METRIC, RESULTS_SCHEMA
    from sbbench.training import RunConfig
    from sbbench.training._config import PAPER_CHAMFER

    assert DATASET_PROTOCOLS is SPLIT_PROTOCOLS and _base.PROTOCOLS is SPLIT_PROTOCOLS
    assert DEFAULT_METRIC == SBBENCH_DEFAULT.to_dict()
    assert PAPER_METRIC == PAPER_CHAMFER == reproduce.SANN_METRIC == SANN_PAPER.to_dict()
    assert RunConfig(model="m", dataset="d").chamfer == SBBENCH_DEFAULT
    schema = RESULTS_SCHEMA["properties"]
    assert set(schema["split"]["properties"]["protocol"]["enum"]) == set(SPLIT_PROTOCOLS)
    lc = schema["loss_chamfer"]["anyOf"][0]["properties"]
    assert set(lc) == set(ChamferConvention.KEYS)
    assert tuple(lc["reduction"]["enum"]) == REDUCTIONS


def test_kfold_knows_every_protocol():
    from sbbench.datasets import kfold
    from sbbench.datasets._splits import resolve_protocol

    class Sample:
        def __init__(self, mol):
            import torch

            self.mol_id = torch.tensor([mol])

    class Data(list):
        protocol = "grouped"

    data = Data(Sample(i // 2) for i in range(12))
    assert resolve_protocol(data) == "grouped" and resolve_protocol([]) == "random"
    assert resolve_protocol(data, "same") == "same"
    with pytest.raises(ValueError, match="protocol must be one of same, random, grouped"):
        resolve_protocol(data, "leave-one-out")
    for train, val, test in kfold(data, 3, 0):  # the dataset's grouped protocol
        mols = [{data[i].mol_id.item() for i in part} for part in (train, val, test)]
        assert not (mols[0] & mols[2]) and not (mols[1] & mols[2])


def test_leaderboard_compares_conventions_as_objects():
    """Rows whose loss_chamfer spell one convention two ways are one configuration."""
    from sbbench.leaderboard import GROUP_COLUMNS
    from sbbench.leaderboard._board import config_key

    base = {c: "x" for c in GROUP_COLUMNS}
    base.update(model="sann", hyperparameters="{}", loss="sbcd", seeds="[0]", n_folds=2)
    short = {**base, "loss_chamfer": json.dumps({"symmetric": False, "reduction": "sum"})}
    full = {**base, "loss_chamfer": json.dumps(SANN_PAPER.to_dict())}
    other = {**base, "loss_chamfer": json.dumps(SBBENCH_DEFAULT.to_dict())}
    assert config_key(short) == config_key(full) != config_key(other)
    assert config_key({**base, "loss": "sbmse", "loss_chamfer": "null"})
