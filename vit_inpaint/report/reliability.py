"""The sweep report's reliability diagram of task=classify runs: accuracy against confidence on
the test split, raw and temperature-scaled, pooled over seeds (each run's reliability.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vit_inpaint.report.runs import Configuration
from vit_inpaint.viz.figures import new_figure, save, wrapped


def read_reliability(c: Configuration) -> tuple[dict | None, int]:
    """The test split's reliability counts of `c`'s finished seeds, summed (each run's
    reliability.json, tasks/classification.py), and how many runs they pool; None if no run
    wrote a readable one."""
    pooled, runs = None, 0
    for job in c.finished:
        try:
            record = json.loads((job.path / "reliability.json").read_text())
            record = {kind: dict(record[kind]) for kind in ("raw", "calibrated")}
            if pooled is not None:
                record = {
                    kind: {
                        key: [a + b for a, b in zip(pooled[kind][key], values, strict=True)]
                        for key, values in record[kind].items()
                    }
                    for kind in record
                }
        except (OSError, ValueError, TypeError, KeyError):
            continue  # a run from before calibration, or an unreadable file: left out
        pooled, runs = record, runs + 1
    return pooled, runs


def plot_reliability(configurations: list[Configuration], path: Path) -> str | None:
    """One panel per classification configuration: the test split's accuracy against the
    top-class confidence (15 bins, pooled over seeds), raw and temperature-scaled, with the
    diagonal of perfect calibration; marker area ~ share of the images. Returns why it was
    skipped, if so."""
    # Lazily: tasks/ loads torch, which a report without classification runs never needs.
    from vit_inpaint.tasks.calibration import reliability_points

    panels = [(c, *read_reliability(c)) for c in configurations]
    panels = [panel for panel in panels if panel[1] is not None]
    if not panels:
        return "no classification run wrote reliability.json"
    figure = new_figure(4.0 * len(panels), 4.3)
    for index, (c, pooled, seeds) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), index + 1)
        axes.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=1, label="calibrated")
        for kind, colour in (("raw", "C3"), ("calibrated", "C0")):
            points = np.array(reliability_points(pooled[kind]))
            label = "raw" if kind == "raw" else "temperature-scaled (T from val)"
            axes.plot(points[:, 0], points[:, 1], color=colour, marker=None, label=label)
            axes.scatter(points[:, 0], points[:, 1], s=20 + 400 * points[:, 2], color=colour,
                         alpha=0.6)  # fmt: skip
        axes.set_xlim(0, 1.02)
        axes.set_ylim(0, 1.02)
        axes.set_xlabel("confidence (top class)")
        axes.set_ylabel("accuracy")
        axes.set_title(wrapped(f"{c.label} ({seeds} seed{'s' * (seeds > 1)})"), fontsize="small")
        axes.grid(alpha=0.3)
        axes.legend(fontsize="x-small", loc="upper left")
    figure.suptitle("Reliability on the test split (below the diagonal: over-confident)")
    save(figure, path)
    return None
