"""How well does a model inpaint photographs it never saw, against the classical tools?

    python -m vit_inpaint.cli.evaluate [--ckpt CKPT] [--scales 4 1] [--photos ...] [--masks ...]

On the inpainter's test photographs (data/settings.py INPAINTER_SPLITS["test"]: a face, an outdoor
scene, an animal, an object, a texture and a page of text) or the user's own image files
(evaluation/photo_inputs.py: read as the inpaint tool reads them, then gray), at each scale
(4: shrunk 4x, 1: full resolution), for each mask kind (holes of 2, 4 and 8 pixels, dropout,
strokes) and each coverage bin (0-10%, ..., 50-60%): one mask per photograph, drawn from a fixed
seed with a coverage inside the bin, filled by the model and by each classical method
(evaluation/classical.py). With the user's own masks (one per photograph) those masks are the
one case, of kind "user".
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
# A photograph shrunk below this many pixels a side leaves the 8-pixel holes no room.
SMALLEST = 8


@dataclass
class Photo:
    """One photograph to evaluate on, and the user's mask for it (True = hidden) if any."""

    name: str  # a bundled photograph's name, or the path of a file as given
    pixels: np.ndarray | None = None  # a file's gray (H, W) pixels; None: the bundled `name`
    mask: np.ndarray | None = None

    def at(self, scale: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(gray image, mask) shrunk `scale` times; a shrunk mask hides a block when it hides
        any of its pixels, so no pixel the user hid is ever scored as visible."""
        import torch

        from vit_inpaint.data.sources import block_mean, load_photo

        if self.pixels is None:
            image = load_photo(self.name, scale).numpy().astype(np.float64)
        else:
            image = block_mean(torch.from_numpy(self.pixels), scale).numpy()
        if self.mask is None:
            return image, None
        return image, block_mean(torch.from_numpy(self.mask).double(), scale).numpy() > 0


def check_scales(photos: list[Photo], scales: list[int]) -> None:
    """Raises ValueError for a photograph too small at a scale, or a mask hiding all of it there."""
    for photo in photos:
        for scale in scales:
            image, mask = photo.at(scale)
            if min(image.shape) < SMALLEST:
                raise ValueError(
                    f"{photo.name} shrunk {scale}x is {image.shape[0]}x{image.shape[1]} pixels, "
                    f"under {SMALLEST}x{SMALLEST}: leave out this scale or this photograph"
                )
            if mask is not None and mask.all():
                raise ValueError(
                    f"the mask of {photo.name} shrunk {scale}x hides every pixel (a block is "
                    "hidden when any of its pixels is): leave out this scale"
                )


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


def coverage_text(low: float, high: float) -> str:
    return f"{low:.0%}" if low == high else f"{low:.0%}-{high:.0%}"


def _cases(shrunk, scale, kinds, bins, seed):
    """(kind, low, high, a mask per photograph) of each case at a scale: the user's masks as the
    one case of kind "user" (low = high = their pooled coverage), or else a mask per kind x bin
    x photograph drawn from the seed."""
    import torch

    from vit_inpaint.data.seeds import stream_seed

    if shrunk[0][1] is not None:
        masks = [mask for _, mask in shrunk]
        coverage = sum(int(m.sum()) for m in masks) / sum(m.size for m in masks)
        yield "user", coverage, coverage, masks
        return
    for k, kind in enumerate(kinds):
        for b, (low, high) in enumerate(bins):
            masks = []
            for p, (image, _) in enumerate(shrunk):
                gen = torch.Generator().manual_seed(stream_seed(seed, scale, k, b, p))
                masks.append(mask_of(kind, low, high)(1, *image.shape, gen)[0].numpy())
            yield kind, low, high, masks


def evaluate(fill_model, photos, scales, kinds=KINDS, bins=BINS, seed=0, methods=CLASSICAL):
    """Every case (_cases) at every scale filled by the model and each classical method; photos:
    Photo objects or bundled photographs' names."""
    from vit_inpaint.evaluation.classical import METHODS

    photos = [photo if isinstance(photo, Photo) else Photo(photo) for photo in photos]
    fills = {"model": fill_model, **{name: METHODS[name] for name in methods}}
    results = []
    for scale in scales:
        shrunk = [photo.at(scale) for photo in photos]
        for kind, low, high, masks in _cases(shrunk, scale, kinds, bins, seed):
            totals = {name: [0.0, 0, 0.0, 0.0] for name in fills}
            for (image, _), mask in zip(shrunk, masks, strict=True):
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
                f"scale {scale} {kind} {coverage_text(low, high)}: "
                + ", ".join(f"{r.method} {r.mse:.3g}" for r in results[-len(fills) :]),
                file=sys.stderr,
            )
    return results


def summary(results: list[Result]) -> list[str]:
    """The targets: model / method as the geometric mean over kinds and bins up to 30% (or the
    user's masks, whatever their coverage), per scale, and each kind's own geometric mean
    against biharmonic."""
    lines = []
    by = {(r.scale, r.kind, r.low, r.method): r.mse for r in results}
    for scale in sorted({r.scale for r in results}, reverse=True):
        kept = {
            (r.kind, r.low, r.high)
            for r in results
            if r.scale == scale and (r.kind == "user" or r.high <= TARGET_COVERAGE + 1e-9)
        }
        cases = sorted((kind, low) for kind, low, _ in kept)
        # Say the coverage that was run: fewer bins stop below the targets' 30%.
        reach = max((high for _, _, high in kept), default=0.0)
        over = f"geometric mean over {len(cases)} kind x bin cases up to {reach:.0%}"
        if [kind for kind, _ in cases] == ["user"]:  # one case: its ratio, nothing to average
            over = f"the user's masks, {reach:.0%} of the pixels hidden"
        for method in sorted({r.method for r in results} - {"model"}):
            ratios = [
                by[(scale, kind, low, "model")] / by[(scale, kind, low, method)]
                for kind, low in cases
            ]
            if ratios:
                lines.append(
                    f"- scale 1/{scale}: model / {method} = {_geomean(ratios):.3f} ({over})"
                )
        for kind in sorted({k for k, _ in cases} - {"user"}):  # user: the lines above
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
            lines.append(f"| {kind} | {coverage_text(low, high)} | " + " | ".join(cells) + " |")
        lines += ["", f"Seconds per megapixel at scale 1/{scale} (mean over cases):", ""]
        for m in methods:
            speeds = [
                r.seconds_per_megapixel for r in results if r.scale == scale and r.method == m
            ]
            lines.append(f"- {m}: {statistics.fmean(speeds):.3g} s/MP")
        lines.append("")
    return "\n".join(lines)


CSV_COLUMNS = "scale kind coverage_low coverage_high method mse psnr seconds_per_megapixel"


def csv_text(results: list[Result]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS.split(), "hidden_pixels"])
    for r in results:
        scores = (f"{r.mse:.6g}", f"{r.psnr:.3f}", f"{r.seconds_per_megapixel:.4g}")
        writer.writerow([r.scale, r.kind, r.low, r.high, r.method, *scores, r.hidden])
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
