"""The sweep report's figures of numbers, drawn with matplotlib's Agg canvas: validation curves
(each seed, and mean ± std over seeds) and the train-mask x test-mask heat map. Its pictures of
models (reconstructions, attention maps) are viz/figures.py's."""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import numpy as np

from vit_inpaint.report.runs import TEST_MASKS, Configuration, cross_eval_rows
from vit_inpaint.viz.figures import new_figure, save, wrapped

# The baselines drawn on the validation curves, with their line styles.
CURVE_BASELINES = {"bayes": "--", "mean_fill": ":"}
# Two reference levels this close (relative) are drawn as one line, labelled as equal: on
# uniform noise mean fill is the Bayes limit, and two lines would hide each other.
SAME_LEVEL = 0.01


def seeds_in_title(configurations: list[Configuration]) -> str:
    """The seeds behind a figure, for its title: 1 seed, mean over 3 seeds, mean over 1-3 seeds
    (finished seeds per configuration)."""
    counts = sorted({len(c.finished) for c in configurations if c.finished}) or [0]
    if counts == [1]:
        return "1 seed"
    seeds = f"{counts[0]}-{counts[-1]}" if len(counts) > 1 else str(counts[0])
    return f"mean over {seeds} seeds"


def reference_levels(configurations: list[Configuration]) -> list[tuple[float, str, str, str]]:
    """The horizontal lines of the validation curves, each drawn once: (level, label, colour,
    line style).

    A baseline's level is the mean of its final value over a configuration's runs. One line per
    baseline when every configuration's level is the same (black), else one per configuration
    (its colour); mean fill joins the Bayes line where the two are equal."""

    def level(c: Configuration, baseline: str) -> float | None:
        values = [v for job in c.jobs if (v := job.final_value(f"val/mse_{baseline}")) is not None]
        return statistics.fmean(values) if values else None

    def same(a: float, b: float) -> bool:
        return abs(a - b) <= SAME_LEVEL * max(abs(a), abs(b))

    levels = {b: {c.label: level(c, b) for c in configurations} for b in CURVE_BASELINES}
    levels = {b: {k: v for k, v in by.items() if v is not None} for b, by in levels.items()}
    bayes, fill = levels["bayes"], levels["mean_fill"]
    merged = bool(bayes) and all(k in fill and same(v, fill[k]) for k, v in bayes.items())
    equal = f" = mean fill (within {SAME_LEVEL:.0%})" if merged else ""
    names = {"bayes": f"Bayes limit{equal}", "mean_fill": "mean fill"}
    colours = {c.label: f"C{index % 10}" for index, c in enumerate(configurations)}
    # Each seed draws its own validation images, hence its own levels: a run can end below the
    # mean over its seeds, which the label must own up to.
    if any(len(c.jobs) > 1 for c in configurations):
        names = {b: f"{name}, mean over seeds" for b, name in names.items()}
    lines = []
    for baseline, by_label in levels.items():
        if not by_label or (merged and baseline == "mean_fill"):
            continue
        values, style = list(by_label.values()), CURVE_BASELINES[baseline]
        if all(same(v, values[0]) for v in values):
            every = " (every configuration)" if len(configurations) > 1 else ""
            lines.append((statistics.fmean(values), f"{names[baseline]}{every}", "black", style))
        else:
            label = names[baseline]
            lines += [(v, f"{k}: {label}", colours[k], style) for k, v in by_label.items()]
    return lines


def plot_val_curves(configurations: list[Configuration], path: Path) -> str | None:
    """val/mse against step for every run (one colour per configuration, one marker per seed),
    and the Bayes limit and mean fill as horizontal lines, each drawn once and labelled with its
    value. Returns why it was skipped, if so."""
    figure = new_figure(9, 5)
    axes = figure.add_subplot()
    curves = 0
    for index, c in enumerate(configurations):
        colour = f"C{index % 10}"
        for job, marker in zip(c.jobs, itertools.cycle("osD^v<>p*")):  # marker: seed
            points = job.scalars.get("val/mse")
            if not points:
                continue
            steps, values = zip(*points, strict=True)
            label = wrapped(job.label + (" (failed)" if job.failed else ""))
            axes.plot(steps, values, color=colour, marker=marker, markersize=3, label=label)
            curves += 1
    if curves == 0:
        return "no run logged val/mse"
    for value, name, colour, style in reference_levels(configurations):
        label = wrapped(f"{name}: {value:.4f}", width=40)
        axes.axhline(value, color=colour, linestyle=style, linewidth=1, label=label)
    axes.set_xlabel("training step")
    axes.set_ylabel("val/mse on hidden pixels (pixel² on [0,1])")
    axes.set_title("Validation mse of every run (lower is better)")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    save(figure, path)
    return None


# The seed curves' panels: metric -> (its Bayes reference, the y axis' label). Fine-tuned and
# from-scratch runs of one task are compared here, step for step (a fine-tuned run counts its
# steps from 0 too: init_from copies weights, not the step).
SEED_CURVES = {
    "val/mse_over_bayes": (None, "val/mse / Bayes limit (1 = optimal)"),
    "val/acc": ("val/acc_bayes", "val/acc"),
    "val/nll": ("val/nll_bayes", "val/nll (nats)"),
}


def seed_mean_std(c: Configuration, key: str):
    """(steps, mean, std, seeds) over the seeds of `c` at the steps every seed logged `key`;
    None if no seed did. std is None with one seed: there is no spread to show."""

    curves = [dict(job.scalars[key]) for job in c.jobs if job.scalars.get(key)]
    if not curves:
        return None
    steps = sorted(set.intersection(*(set(curve) for curve in curves)))
    values = np.array([[curve[step] for step in steps] for curve in curves])
    std = values.std(axis=0, ddof=1) if len(curves) > 1 else None
    return np.array(steps), values.mean(axis=0), std, len(curves)


def plot_seed_curves(configurations: list[Configuration], path: Path) -> str | None:
    """One panel per metric of SEED_CURVES that some run logged: per configuration, the mean over
    its seeds against the step, shaded ± one sample std where it has several seeds; the Bayes
    limit dashed. Returns why it was skipped, if so."""
    panels = {
        key: [(c, curve) for c in configurations if (curve := seed_mean_std(c, key)) is not None]
        for key in SEED_CURVES
    }
    panels = {key: lines for key, lines in panels.items() if lines}
    if not panels:
        return "no run logged " + ", ".join(SEED_CURVES)
    figure = new_figure(6.5 * len(panels) + 3.5, 4.5)  # + the legend, right of the panels
    shaded = False
    for index, (key, lines) in enumerate(panels.items()):
        axes = figure.add_subplot(1, len(panels), index + 1)
        reference, ylabel = SEED_CURVES[key]
        for c, (steps, mean, std, seeds) in lines:
            colour = f"C{configurations.index(c) % 10}"
            label = wrapped(f"{c.label} ({seeds} seed{'s' * (seeds > 1)})")
            axes.plot(steps, mean, color=colour, label=label)
            if std is not None:
                axes.fill_between(steps, mean - std, mean + std, color=colour, alpha=0.2)
                shaded = True
        jobs = [job for c, _ in lines for job in c.jobs] if reference else []
        bayes = [value for job in jobs if (value := job.final_value(reference)) is not None]
        if key == "val/mse_over_bayes" or bayes:
            level = statistics.fmean(bayes) if bayes else 1.0
            axes.axhline(level, color="black", linestyle="--", linewidth=1, label="Bayes limit")
        axes.set_xlabel("training step")
        axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3)
    # One legend for all panels (a configuration has one colour throughout), outside the last
    # panel: inside, a dozen configurations' labels cover the curves' first steps.
    handles = {}
    for axes in figure.axes:
        for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    figure.axes[-1].legend(
        handles.values(), handles.keys(), loc="upper left", bbox_to_anchor=(1.01, 1.0),
        fontsize="x-small",
    )  # fmt: skip
    seeds = seeds_in_title(configurations)
    if shaded:
        title = f"Validation curves, {seeds}; shaded: ± one standard deviation over seeds"
    else:  # nothing to shade: say so, and how to get a spread
        title = f"Validation curves, {seeds} (no spread to shade: sweep seed=0,1,2 for one)"
    figure.suptitle(title)
    save(figure, path)
    return None


# The heat map's colours reach their darkest this far above the reference (1 = Bayes limit):
# a 2% gap then reads as the small gap it is, not as the whole colour range.
CROSS_EVAL_SPAN = 0.5


def plot_cross_eval(configurations: list[Configuration], path: Path) -> str | None:
    """The train-mask x test-mask matrix as an annotated heat map, averaged over seeds: mse over
    the Bayes limit where the runs measured it (white at 1, the limit), else the mse itself
    (white at 0). The cells of a model tested on its own kind of mask are outlined."""
    from matplotlib.patches import Rectangle

    rows = cross_eval_rows(configurations)
    if not rows:
        return "no cross-evaluation metrics (test/<mask>/mse) in these runs"

    def matrix(metric: str):
        means = [[c.mean(f"test/{mask}/{metric}") for mask in TEST_MASKS] for _, c in rows]
        return np.array([[np.nan if m is None else m for m in row] for row in means])

    values = matrix("mse_over_bayes")
    if not np.isnan(values).all():
        reference, span = 1.0, max(CROSS_EVAL_SPAN, np.nanmax(values) - 1.0)
        name = "test mse / Bayes limit (1 = optimal)"
    else:
        values = matrix("mse")
        reference, span = 0.0, np.nanmax(values)
        name = "test mse (pixel² on [0,1])"
    figure = new_figure(2.5 + 1.6 * len(TEST_MASKS), 1.6 + 0.8 * len(rows))
    axes = figure.add_subplot()
    image = axes.imshow(
        np.ma.masked_invalid(values), cmap="Reds", vmin=reference, vmax=reference + span
    )
    for (row, column), value in np.ndenumerate(values):
        if not np.isnan(value):
            # Dark text on the light end of the map, white on the dark end.
            colour = "white" if value - reference > 0.6 * span else "black"
            axes.text(column, row, f"{value:.3f}", ha="center", va="center", color=colour)
    for row, (_, c) in enumerate(rows):
        if c.train_mask in TEST_MASKS:
            column = TEST_MASKS.index(c.train_mask)
            outline = Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, linewidth=2)
            axes.add_patch(outline)
    axes.set_xticks(range(len(TEST_MASKS)), TEST_MASKS)
    axes.set_yticks(range(len(rows)), [wrapped(label) for label, _ in rows])
    axes.set_xlabel("test mask (outlined: the model's own training mask)")
    axes.set_ylabel("training mask")
    axes.set_title(f"Cross-evaluation, {seeds_in_title([c for _, c in rows])}")
    figure.colorbar(image, ax=axes, label=wrapped(name, width=24))
    save(figure, path)
    return None
