"""How well does a model inpaint photographs it never saw, against the classical tools?

    python -m vit_inpaint.cli.evaluate --ckpt CKPT [--out-dir DIR] [--scales 4 1] [--photos ...]

On the test photographs only (data/sources.py PHOTO_SPLITS["test"]), at each scale (4: shrunk 4x,
1: full resolution), for each mask kind (holes of 2, 4 and 8 pixels, dropout, strokes) and each
coverage bin (0-10%, ..., 50-60%): one mask per photograph, drawn from a fixed seed with a coverage
inside the bin, filled by the model and by each classical method (evaluation/classical.py).
The command (cli/evaluate.py) writes into --out-dir:
    evaluation.csv   one row per scale x kind x bin x method: hidden-pixel MSE and PSNR (pooled over
                     the photographs), seconds per megapixel
    evaluation.md    the same as Markdown tables, and the summary the targets are stated in
    evaluation.png   MSE against coverage, one line per method, one panel per scale x mask kind
and prints evaluation.md.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

KINDS = ("holes2", "holes4", "holes8", "dropout", "strokes")
BINS = ((0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))
CLASSICAL = ("biharmonic", "telea", "navier_stokes", "neighbour_mean")
# The targets are stated over coverage up to 30% (issue: geometric mean over kinds and bins).
TARGET_COVERAGE = 0.3


def mask_of(kind: str, low: float, high: float):
    """The masking strategy of a kind, drawing coverages inside [low, high)."""
    from vit_inpaint.data.free_masks import DropoutMasking, HolesMasking, StrokesMasking

    low = max(low, 0.01)  # a mask hides at least a pixel or so
    if kind.startswith("holes"):
        side = int(kind[len("holes") :])
        return HolesMasking(side, side, coverage_min=low, coverage_max=high)
    if kind == "dropout":
        return DropoutMasking(low, high)
    if kind == "strokes":
        return StrokesMasking(1.0, 3.0, coverage_min=low, coverage_max=high)
    raise ValueError(f"unknown mask kind {kind!r}")


@dataclass
class Result:
    scale: int
    kind: str
    low: float
    high: float
    method: str
    squared_error: float  # summed over the hidden pixels of every photograph
    hidden: int
    seconds: float
    megapixels: float

    @property
    def mse(self) -> float:
        return self.squared_error / self.hidden

    @property
    def psnr(self) -> float:
        return 10 * math.log10(1.0 / self.mse) if self.mse > 0 else float("inf")

    @property
    def seconds_per_megapixel(self) -> float:
        return self.seconds / self.megapixels


def evaluate(fill_model, photos, scales, kinds=KINDS, bins=BINS, seed=0, methods=CLASSICAL):
    """Every (scale, kind, bin) case filled by the model and each classical method."""
    import torch

    from vit_inpaint.data.seeds import stream_seed
    from vit_inpaint.data.sources import load_photo
    from vit_inpaint.evaluation.classical import METHODS

    fills = {"model": fill_model, **{name: METHODS[name] for name in methods}}
    results = []
    for scale in scales:
        images = {name: load_photo(name, scale).numpy().astype(np.float64) for name in photos}
        for k, kind in enumerate(kinds):
            for b, (low, high) in enumerate(bins):
                totals = {name: [0.0, 0, 0.0, 0.0] for name in fills}
                for p, image in enumerate(images.values()):
                    gen = torch.Generator().manual_seed(stream_seed(seed, scale, k, b, p))
                    mask = mask_of(kind, low, high)(1, *image.shape, gen)[0].numpy()
                    for method, fill in fills.items():
                        start = time.perf_counter()
                        filled = fill(image, mask)
                        seconds = time.perf_counter() - start
                        total = totals[method]
                        total[0] += float(((filled[mask] - image[mask]) ** 2).sum())
                        total[1] += int(mask.sum())
                        total[2] += seconds
                        total[3] += image.size / 1e6
                for method, (sq, n, sec, mp) in totals.items():
                    results.append(Result(scale, kind, low, high, method, sq, n, sec, mp))
                print(
                    f"scale {scale} {kind} {low:.0%}-{high:.0%}: "
                    + ", ".join(f"{r.method} {r.mse:.3g}" for r in results[-len(fills) :]),
                    file=sys.stderr,
                )
    return results


def summary(results: list[Result]) -> list[str]:
    """The targets: model / method as the geometric mean over kinds and bins up to 30%, per
    scale, and each kind's own geometric mean against biharmonic."""
    lines = []
    by = {(r.scale, r.kind, r.low, r.method): r.mse for r in results}
    for scale in sorted({r.scale for r in results}, reverse=True):
        cases = sorted(
            {
                (r.kind, r.low)
                for r in results
                if r.scale == scale and r.high <= TARGET_COVERAGE + 1e-9
            }
        )
        for method in sorted({r.method for r in results} - {"model"}):
            ratios = [
                by[(scale, kind, low, "model")] / by[(scale, kind, low, method)]
                for kind, low in cases
            ]
            if ratios:
                lines.append(
                    f"- scale 1/{scale}: model / {method} = {_geomean(ratios):.3f} (geometric "
                    f"mean over {len(ratios)} kind x bin cases up to {TARGET_COVERAGE:.0%})"
                )
        for kind in sorted({k for k, _ in cases}):
            ratios = [
                by[(scale, kind, low, "model")] / by[(scale, kind, low, "biharmonic")]
                for k2, low in cases
                if k2 == kind and (scale, kind, low, "biharmonic") in by
            ]
            if ratios:
                lines.append(f"  - {kind}: model / biharmonic = {_geomean(ratios):.3f}")
    return lines


def _geomean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values))


def markdown(results: list[Result], header: str) -> str:
    methods = list(dict.fromkeys(r.method for r in results))
    lines = [header, "", "## Summary (hidden-pixel MSE ratios; below 1: the model is better)", ""]
    lines += summary(results) + [""]
    for scale in sorted({r.scale for r in results}, reverse=True):
        lines += [f"## Scale 1/{scale}: hidden-pixel MSE (PSNR dB)", ""]
        lines.append("| mask | coverage | " + " | ".join(methods) + " |")
        lines.append("| --- | --- | " + " | ".join("---" for _ in methods) + " |")
        cases = dict.fromkeys((r.kind, r.low, r.high) for r in results if r.scale == scale)
        for kind, low, high in cases:
            row = {r.method: r for r in results if (r.scale, r.kind, r.low) == (scale, kind, low)}
            cells = [f"{row[m].mse:.3g} ({row[m].psnr:.1f})" for m in methods]
            lines.append(f"| {kind} | {low:.0%}-{high:.0%} | " + " | ".join(cells) + " |")
        lines += ["", f"Seconds per megapixel at scale 1/{scale} (mean over cases):", ""]
        for m in methods:
            speeds = [
                r.seconds_per_megapixel for r in results if r.scale == scale and r.method == m
            ]
            lines.append(f"- {m}: {statistics.fmean(speeds):.3g} s/MP")
        lines.append("")
    return "\n".join(lines)


def csv_text(results: list[Result]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "scale",
            "kind",
            "coverage_low",
            "coverage_high",
            "method",
            "mse",
            "psnr",
            "seconds_per_megapixel",
            "hidden_pixels",
        ]
    )
    for r in results:
        writer.writerow(
            [
                r.scale,
                r.kind,
                r.low,
                r.high,
                r.method,
                f"{r.mse:.6g}",
                f"{r.psnr:.3f}",
                f"{r.seconds_per_megapixel:.4g}",
                r.hidden,
            ]
        )
    return out.getvalue()


def figure_png(results: list[Result]) -> bytes:
    from vit_inpaint.viz.figures import new_figure

    scales = sorted({r.scale for r in results}, reverse=True)
    kinds = list(dict.fromkeys(r.kind for r in results))
    methods = list(dict.fromkeys(r.method for r in results))
    figure = new_figure(3.2 * len(kinds), 2.8 * len(scales) + 0.6)
    grid = figure.subplots(len(scales), len(kinds), squeeze=False)
    for i, scale in enumerate(scales):
        for j, kind in enumerate(kinds):
            axes = grid[i, j]
            for m, method in enumerate(methods):
                points = [
                    r for r in results if (r.scale, r.kind, r.method) == (scale, kind, method)
                ]
                axes.plot(
                    [100 * (r.low + r.high) / 2 for r in points],
                    [r.mse for r in points],
                    marker="o",
                    markersize=3,
                    label=method,
                    color=f"C{m}",
                    linewidth=2.5 if method == "model" else 1.2,
                )
            axes.set_yscale("log")
            axes.set_title(f"{kind}, scale 1/{scale}", fontsize="small")
            axes.set_xlabel("coverage (%)", fontsize="small")
            if j == 0:
                axes.set_ylabel("hidden-pixel MSE", fontsize="small")
            axes.grid(alpha=0.3)
    grid[0, -1].legend(fontsize="x-small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()
