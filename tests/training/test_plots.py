"""The run's figures say what they show: element legend, equal axes, visible predictions,
and a colour bar with what f is on theta.png (issue 18 item 9)."""

from __future__ import annotations

import matplotlib.figure
import numpy as np
import pytest
import torch

from sbbench.training import _plots

WATER = np.array([[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]])


@pytest.fixture
def captured(monkeypatch):
    """Every figure saved, kept open for inspection."""
    figs = []
    monkeypatch.setattr(
        matplotlib.figure.Figure, "savefig", lambda self, *a, **k: figs.append(self)
    )
    return figs


def test_arrows_have_an_element_legend_equal_axes_and_prominent_predictions(tmp_path, captured):
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(3, 3)), 3 * rng.normal(size=(3, 3))
    _plots.plot_arrows(tmp_path / "a.png", WATER, np.array([8, 1, 1]), pred, target, title="t")
    (fig,) = captured
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["H", "O", "true", "predicted"]
    spans = [np.ptp(lim) for lim in (ax.get_xlim(), ax.get_ylim(), ax.get_zlim())]
    assert np.allclose(spans, spans[0])
    tips = np.concatenate([WATER + pred, WATER + target])
    for k, lim in enumerate((ax.get_xlim(), ax.get_ylim(), ax.get_zlim())):
        assert lim[0] <= tips[:, k].min() and tips[:, k].max() <= lim[1]
    true_q, pred_q = [c for c in ax.collections if c.get_label() in ("true", "predicted")]
    assert pred_q.get_label() == "predicted"  # drawn last, on top
    assert pred_q.get_linewidth()[0] > true_q.get_linewidth()[0]
    assert all(len(a.get_major_ticks()) <= 6 for a in (ax.xaxis, ax.yaxis, ax.zaxis))


def test_theta_figure_has_a_colour_bar_and_says_what_f_is(tmp_path, captured):
    from sbbench.models import build
    from sbbench.models.relaxed_e3nn import describe

    torch.manual_seed(0)
    model = build("relaxed_e3nn", hidden=8, layers=1, l_relaxed=2)
    with torch.no_grad():
        for conv in model.convs:
            conv.theta.add_(0.3 * torch.randn_like(conv.theta))
    describe(model.relaxed_weights(), plot=tmp_path / "theta.png")
    (fig,) = captured
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and "f" in bars[0].get_ylabel()
    assert len(fig.axes) == len(model.convs) + 1
    text = fig._suptitle.get_text()
    assert "spherical signal" in text and "1o, 2e" in text
