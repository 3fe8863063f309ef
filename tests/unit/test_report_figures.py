"""The report's figures from made-up runs (no training, no files): what a reader sees in them,
read off the matplotlib figure before it is saved. test_report.py checks the PNGs of a real
sweep."""

from __future__ import annotations

import io

import pytest

from tests.unit.test_findings import sweep
from vit_inpaint.report import figures


@pytest.fixture
def drawn(monkeypatch) -> list:
    """The figures the plot functions draw, in order, instead of their PNGs."""
    captured = []
    monkeypatch.setattr(figures, "save", lambda figure, path: captured.append(figure))
    return captured


def with_curves(configurations, curves: dict[str, list[tuple[int, float]]]):
    """Gives every job these validation scalars, as if read from its TensorBoard events."""
    for c in configurations:
        for job in c.jobs:
            job.__dict__["scalars"] = curves  # what the cached property would have read
    return configurations


def cross(pixel: float, patch: float) -> dict[str, float]:
    return {"test/mse": 0.1, "test/pixel/mse_over_bayes": pixel, "test/pixel/mse": 0.1,
            "test/patch2x2/mse_over_bayes": patch, "test/patch2x2/mse": 0.1}  # fmt: skip


def test_cross_eval_shows_3_decimals_on_a_scale_anchored_at_the_bayes_limit(drawn):
    configurations = sweep({"masking=pixel": [cross(1.004, 1.013)],
                            "masking=patch2x2": [cross(1.02, 1.006)]})  # fmt: skip

    assert figures.plot_cross_eval(configurations, io.BytesIO()) is None

    (axes, _colour_bar) = drawn[0].axes
    assert sorted(t.get_text() for t in axes.texts) == ["1.004", "1.006", "1.013", "1.020"]
    # White at the Bayes limit and half a unit of range: 2% stays pale, not the whole map.
    assert axes.images[0].get_clim() == (1.0, 1.5)
    assert axes.get_title() == "Cross-evaluation, 1 seed"
    assert len(axes.patches) == 2  # the own-mask cells, outlined
    assert [t.get_text() for t in axes.get_yticklabels()] == ["pixel", "patch2x2"]


def test_seed_curves_shade_a_spread_only_where_there_are_seeds(drawn):
    curves = {"val/mse_over_bayes": [(1, 1.5), (2, 1.2)]}
    one = with_curves(sweep({"masking=pixel": [{}], "masking=patch2x2": [{}]}), curves)
    two = with_curves(sweep({"masking=pixel": [{}, {}], "masking=patch2x2": [{}, {}]}), curves)

    figures.plot_seed_curves(one, io.BytesIO())
    figures.plot_seed_curves(two, io.BytesIO())

    (single,), (several,) = drawn[0].axes[:1], drawn[1].axes[:1]
    assert not single.collections  # nothing shaded
    assert "1 seed (no spread to shade" in drawn[0].get_suptitle()
    assert len(several.collections) == 2  # one band per configuration
    assert "mean over 2 seeds; shaded: ± one standard deviation" in drawn[1].get_suptitle()


def reference_lines(figure) -> list[str]:
    axes = figure.axes[0]
    return [line.get_label() for line in axes.get_lines() if line.get_xdata()[0] == 0]


def test_val_curves_draw_equal_references_once_and_say_they_are_equal(drawn):
    noise = {"val/mse_bayes": 0.0833, "val/mse_mean_fill": 0.0834}
    configurations = sweep({"masking=pixel": [noise], "masking=patch2x2": [noise]})
    with_curves(configurations, {"val/mse": [(1, 0.1), (2, 0.09)]})

    figures.plot_val_curves(configurations, io.BytesIO())

    # axhline spans x from 0 to 1 in axes coordinates: that is how it is told from a curve.
    assert reference_lines(drawn[0]) == [
        "Bayes limit = mean fill (within 1%)\n(every configuration): 0.0833"
    ]


def test_val_curves_draw_a_reference_per_configuration_where_levels_differ(drawn):
    pixel = {"val/mse_bayes": 0.01, "val/mse_mean_fill": 0.05}
    patch = {"val/mse_bayes": 0.02, "val/mse_mean_fill": 0.05}
    configurations = sweep({"masking=pixel": [pixel], "masking=patch2x2": [patch]})
    with_curves(configurations, {"val/mse": [(1, 0.1), (2, 0.09)]})

    figures.plot_val_curves(configurations, io.BytesIO())

    assert [label.replace("\n", " ") for label in reference_lines(drawn[0])] == [
        "masking=pixel: Bayes limit: 0.0100",
        "masking=patch2x2: Bayes limit: 0.0200",
        "mean fill (every configuration): 0.0500",
    ]
    styles = [line.get_linestyle() for line in drawn[0].axes[0].get_lines()[-3:]]
    assert styles == ["--", "--", ":"]  # Bayes dashed, mean fill dotted
