"""How well does a model inpaint photographs it never saw, against the classical tools?

    python -m vit_inpaint.cli.evaluate [--ckpt CKPT] [--scales 4 1] [--photos ...] [--masks ...]

On the inpainter's test photographs (data/settings.py INPAINTER_SPLITS["test"]: a face, an outdoor
scene, an animal, an object, a texture and a page of text) or the user's own image files
(evaluation/photo_inputs.py: read as the inpaint tool reads them, colour kept), at each scale
(4: shrunk 4x, 1: full resolution), for each mask kind (holes of 2, 4 and 8 pixels, dropout,
strokes, and the masks people paint: blobs, disks 3-12 pixels in radius, and brush scribbles 3-6
pixels wide) and each coverage bin (0-10%, ..., 50-60%): one mask per photograph, drawn from a
fixed seed with a coverage inside the bin, filled by the model and by each classical method
(evaluation/classical.py). A colour photograph is filled and scored in colour: its error is the
mean over the hidden pixels' three channels. With the user's own masks (one per photograph)
those masks are the one case, of kind "user".
The command (cli/evaluate.py) writes into --out-dir (evaluation/photo_tables.py):
    evaluation.csv   one row per scale x kind x bin x method x photograph, and the pooled row
                     (photo "all"): hidden-pixel MSE and PSNR, seconds per megapixel
    evaluation.md    the summary the targets are stated in, the pooled tables with each method's
                     seconds per megapixel beside its error, and a row per photograph and kind
    evaluation.png   MSE against coverage, one line per method, one panel per scale x mask kind
and prints evaluation.md.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np

KINDS = ("holes2", "holes4", "holes8", "dropout", "strokes", "blobs", "brush")
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
    pixels: np.ndarray | None = None  # a file's (H, W) or (H, W, 3) pixels; None: bundled `name`
    mask: np.ndarray | None = None

    def at(self, scale: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(image, gray or colour, mask) shrunk `scale` times; a shrunk mask hides a block when
        it hides any of its pixels, so no pixel the user hid is ever scored as visible."""
        from vit_inpaint.data.sources import load_photo_pixels

        pixels = load_photo_pixels(self.name) if self.pixels is None else self.pixels
        image = shrink(pixels.astype(np.float64), scale)
        if self.mask is None:
            return image, None
        return image, shrink(self.mask.astype(np.float64), scale) > 0


def shrink(image: np.ndarray, scale: int) -> np.ndarray:
    """A (H, W) or (H, W, C) image shrunk `scale` times by averaging blocks (the last rows and
    columns that do not fill a block dropped), as the bundled photographs are for training."""
    if scale == 1:
        return image
    height, width = image.shape[0] // scale, image.shape[1] // scale
    blocks = image[: height * scale, : width * scale].reshape(
        height, scale, width, scale, *image.shape[2:]
    )
    return blocks.mean(axis=(1, 3))


def check_scales(photos: list[Photo], scales: list[int]) -> None:
    """Raises ValueError for a photograph too small at a scale, or a mask hiding all of it there."""
    for photo in photos:
        for scale in scales:
            image, mask = photo.at(scale)
            if min(image.shape[:2]) < SMALLEST:
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
    from vit_inpaint.data.painted_masks import Blobs, Brush

    low = max(low, 0.01)  # a mask hides at least a pixel or so
    if kind == "blobs":
        return Blobs(3.0, 12.0, coverage_min=low, coverage_max=high)
    if kind == "brush":
        return Brush(3.0, 6.0, coverage_min=low, coverage_max=high)
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
    photo: str = "all"  # the photograph's name, or "all": pooled over the photographs

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
    for k, kind in enumerate(KINDS):
        if kind not in kinds:  # a kind's masks do not depend on which other kinds are run
            continue
        for b, (low, high) in enumerate(bins):
            masks = []
            for p, (image, _) in enumerate(shrunk):
                gen = torch.Generator().manual_seed(stream_seed(seed, scale, k, b, p))
                masks.append(mask_of(kind, low, high)(1, *image.shape[:2], gen)[0].numpy())
            yield kind, low, high, masks


def colourwise(fill):
    """A fill of (H, W) gray images applied to a gray image, or to each channel of a colour one."""

    def fill_any(image, mask):
        if image.ndim == 2:
            return fill(image, mask)
        return np.stack([fill(image[..., c], mask) for c in range(image.shape[2])], axis=-1)

    return fill_any


def _score(fill, image, mask) -> tuple[float, int, float]:
    """(squared error summed over the hidden pixels and channels, their count, seconds)."""
    start = time.perf_counter()
    filled = fill(image, mask)
    seconds = time.perf_counter() - start
    channels = 1 if image.ndim == 2 else image.shape[2]
    return float(((filled[mask] - image[mask]) ** 2).sum()), int(mask.sum()) * channels, seconds


def evaluate(fill_model, photos, scales, kinds=KINDS, bins=BINS, seed=0, methods=CLASSICAL,
             progress=False):  # fmt: skip
    """Every case (_cases) at every scale filled by the model (gray or colour images) and each
    classical method (each channel on its own); photos: Photo objects or bundled photographs'
    names. Returns a Result per case, method and photograph, and the pooled one (photo "all")."""
    from vit_inpaint.evaluation.classical import METHODS

    photos = [photo if isinstance(photo, Photo) else Photo(photo) for photo in photos]
    fills = {"model": fill_model, **{name: colourwise(METHODS[name]) for name in methods}}
    results = []
    bar = _progress(progress, len(scales) * (1 if photos[0].mask is not None else
                                             len(bins) * len(set(kinds))))  # fmt: skip
    for scale in scales:
        shrunk = [photo.at(scale) for photo in photos]
        for kind, low, high, masks in _cases(shrunk, scale, kinds, bins, seed):
            for method, fill in fills.items():
                rows = []
                for photo, (image, _), mask in zip(photos, shrunk, masks, strict=True):
                    sq, n, sec = _score(fill, image, mask)
                    mp = image.shape[0] * image.shape[1] / 1e6
                    rows.append(Result(scale, kind, low, high, method, sq, n, sec, mp, photo.name))
                pooled = [sum(getattr(r, f) for r in rows) for f in POOLED]
                results += [Result(scale, kind, low, high, method, *pooled), *rows]
            if bar is not None:
                bar.set_postfix_str(f"scale 1/{scale} {kind} {coverage_text(low, high)}")
                bar.update()
    if bar is not None:
        bar.close()
    return results


POOLED = ("squared_error", "hidden", "seconds", "megapixels")


def _progress(show: bool, total: int):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="evaluating", unit="case", file=sys.stderr)
