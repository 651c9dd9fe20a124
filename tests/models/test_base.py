"""sbbench.models._base: the hooks of VectorModel that the harness calls on every model."""

from __future__ import annotations

import pytest

from sbbench.models import build


@pytest.mark.parametrize("name", ["egnn", "egnn+mlp", "relaxed_e3nn+noise"])
def test_report_says_nothing_by_default(tmp_path, name):
    model = build(name, out_vectors=1)
    assert model.report(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_relaxed_e3nn_reports_its_relaxed_weights(tmp_path):
    from sbbench.models.relaxed_e3nn import describe

    model = build("relaxed_e3nn", out_vectors=1)
    text = model.report(tmp_path)
    assert text.startswith("relaxed weights (first seed/fold; figure theta.png):\n")
    assert text.endswith(str(describe(model.relaxed_weights())))
    assert (tmp_path / "theta.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["theta.png"]
