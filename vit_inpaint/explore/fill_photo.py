"""The "Fill your photo" tab's computations, without any web page: a photo from a file or the
bundled ones, shrunk to the size limit, the mask a brush painted, the model's and the classical
fills with each one's time, a zoom on the painted regions, the difference view and, for a photo
that was complete under the paint ("hide and score"), each method's hidden-pixel error.

Images are (H, W) gray or (H, W, 3) colour floats in [0, 1]; masks (H, W) bool, True = hidden.
Colour photos are filled one channel at a time, as the command line fills them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vit_inpaint.explore.models import ExploreError

# A longer side than this is shrunk to it (and the page says so): the fill's time grows with the
# pixels, and a page that answers in seconds keeps the student trying.
MAX_SIDE = 1024
# The shipped inpainter's test photographs (never trained nor selected on): scored fairly.
BUNDLED = ("astronaut", "camera", "chelsea", "clock", "gravel", "page")
METHODS = ("model", "biharmonic", "Telea", "Navier-Stokes")


def bundled_photo(name: str) -> np.ndarray:
    """A photograph bundled in scikit-image, in colour where it has colour, floats in [0, 1]."""
    import skimage.data
    import skimage.util

    if name not in BUNDLED:
        raise ExploreError(f"{name!r} is not a bundled photo; pick one of {', '.join(BUNDLED)}")
    return skimage.util.img_as_float(getattr(skimage.data, name)()).astype(np.float64)


def read_photo(path) -> np.ndarray:
    """An uploaded file as an image (storage/images.py's reader: its errors name the file)."""
    from vit_inpaint.storage.images import FileError, read_image, split_alpha

    try:
        image = read_image(path)
    except FileError as err:
        raise ExploreError(f"not a photo this page can read: {err}") from None
    colour, _ = split_alpha(image)  # a transparent layer is no colour to fill
    return np.asarray(colour, dtype=np.float64)


def within_limit(image: np.ndarray, max_side: int = MAX_SIDE) -> tuple[np.ndarray, str]:
    """The image, shrunk (area averaging) so its longer side is at most max_side, and a note
    saying so ("" when it was small enough)."""
    height, width = image.shape[:2]
    if max(height, width) <= max_side:
        return image, ""
    from PIL import Image

    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    planes = image[..., None] if image.ndim == 2 else image
    shrunk = np.stack(
        [np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize(size, Image.BOX))
         for p in np.moveaxis(planes, -1, 0)], axis=-1)  # fmt: skip
    shrunk = np.clip(shrunk[..., 0] if image.ndim == 2 else shrunk, 0.0, 1.0).astype(np.float64)
    note = (
        f"The photo was {width}x{height} pixels; it was shrunk to {size[0]}x{size[1]} "
        f"(the page's limit is {max_side} pixels a side). The command line fills any size."
    )
    return shrunk, note


def painted_mask(layers: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The brush's layers (RGBA, from the image editor) -> the hidden pixels: painted anywhere.
    A layer of another size than the photo (an editor that scaled its canvas) is scaled to it."""
    from PIL import Image

    mask = np.zeros(shape, dtype=bool)
    for layer in layers or []:
        layer = np.asarray(layer)
        if layer.ndim != 3:
            continue
        paint = layer[..., -1] > 0 if layer.shape[-1] in (2, 4) else layer.max(axis=-1) > 0
        if paint.shape != shape:
            scaled = Image.fromarray(paint).resize((shape[1], shape[0]), Image.NEAREST)
            paint = np.asarray(scaled, dtype=bool)
        mask |= paint
    return mask


def check_mask(mask: np.ndarray) -> None:
    hidden = int(mask.sum())
    if hidden == 0:
        raise ExploreError("nothing is painted: paint over the pixels to fill with the brush")
    if hidden == mask.size:
        raise ExploreError(
            "every pixel is painted: leave some of the photo visible for the fill to start from"
        )


def per_channel(fill, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return fill(image, mask)
    return np.stack([fill(image[..., c], mask) for c in range(image.shape[-1])], axis=-1)


@dataclass
class Filled:
    images: dict[str, np.ndarray]  # method -> filled photo
    seconds: dict[str, float]  # method -> wall time of its fill
    errors: dict[str, float] = field(default_factory=dict)  # method -> hidden-pixel mse


def fill_all(inpainter, image: np.ndarray, mask: np.ndarray, score: bool) -> Filled:
    """The model's fill and the classical ones, each timed; with score, their hidden-pixel errors
    against the photo under the paint."""
    from vit_inpaint.evaluation.classical import biharmonic, navier_stokes, telea
    from vit_inpaint.explore.inside_vit import hidden_mse

    check_mask(mask)
    fills = {"model": inpainter.fill, "biharmonic": biharmonic, "Telea": telea,
             "Navier-Stokes": navier_stokes}  # fmt: skip
    images, seconds = {}, {}
    for name, fill in fills.items():
        start = time.perf_counter()
        images[name] = per_channel(fill, image, mask)
        seconds[name] = time.perf_counter() - start
    if not np.isfinite(images["model"]).all():
        raise ExploreError(f"{inpainter.source}: the model's fill holds NaN or infinite values")
    errors = {name: hidden_mse(image, x, mask) for name, x in images.items()} if score else {}
    return Filled(images, seconds, errors)


def zoom_box(mask: np.ndarray, margin: int = 8) -> tuple[slice, slice]:
    """The rows and columns around every painted pixel, margin pixels wider (within the image)."""
    rows, cols = np.nonzero(mask)
    return (
        slice(max(rows.min() - margin, 0), min(rows.max() + margin + 1, mask.shape[0])),
        slice(max(cols.min() - margin, 0), min(cols.max() + margin + 1, mask.shape[1])),
    )


def difference(truth: np.ndarray, filled: np.ndarray, gain: float = 4.0) -> np.ndarray:
    """|filled - truth| times gain, as gray in [0, 1] (black: no difference); a colour photo's
    difference is the mean over its channels."""
    diff = np.abs(filled - truth)
    if diff.ndim == 3:
        diff = diff.mean(axis=-1)
    return np.clip(gain * diff, 0.0, 1.0)


def timing_line(filled: Filled) -> str:
    parts = [f"{name} {seconds:.2f} s" for name, seconds in filled.seconds.items()]
    return "Time to fill: " + ", ".join(parts) + "."


def error_line(filled: Filled) -> str:
    if not filled.errors:
        return ("No errors: the photo was not complete under the paint, so there is no truth to "
                "score against.")  # fmt: skip
    best = min(filled.errors, key=filled.errors.get)
    parts = [f"{name} {value:.5f}" for name, value in filled.errors.items()]
    return (
        "Hidden-pixel error (mean squared, lower is better; the photo under the paint is the "
        f"truth): {', '.join(parts)}. Closest: {best}."
    )


def result_pictures(image: np.ndarray, mask: np.ndarray, filled: Filled) -> dict[str, np.ndarray]:
    """uint8 pictures: the methods side by side (titled), a zoom on the painted regions of each,
    and each method's difference from the photo (black: unchanged)."""
    from vit_inpaint.viz.figures import titled
    from vit_inpaint.viz.pictures import PANEL_GAP, side_by_side, to_uint8

    width = image.shape[1]
    titles = ["original", "painted (red)", *METHODS]
    panels = [filled.images[name] for name in METHODS]
    whole = titled(side_by_side(image, mask, *panels), titles, panel_width=width)
    rows, cols = zoom_box(mask)
    zoom_factor = max(1, min(8, 256 // max(rows.stop - rows.start, cols.stop - cols.start)))
    crops = [np.kron(p[rows, cols], np.ones((zoom_factor, zoom_factor) + (1,) * (p.ndim - 2)))
             for p in (image, *panels)]  # fmt: skip
    crop_mask = np.kron(mask[rows, cols], np.ones((zoom_factor, zoom_factor))).astype(bool)
    zoom = titled(side_by_side(crops[0], crop_mask, *crops[1:]), titles,
                  panel_width=crops[0].shape[1])  # fmt: skip
    gap = np.ones((image.shape[0], PANEL_GAP))
    diffs = [difference(image, filled.images[name]) for name in METHODS]
    row = [diffs[0]]
    for d in diffs[1:]:
        row += [gap, d]
    diff = to_uint8(np.repeat(np.concatenate(row, axis=1)[..., None], 3, axis=-1))
    diff = titled(diff, [f"{name}: |fill - photo| x4" for name in METHODS], panel_width=width)
    return {name: under_buttons(picture) for name, picture in
            (("whole", whole), ("zoom", zoom), ("difference", diff))}  # fmt: skip


def under_buttons(picture: np.ndarray) -> np.ndarray:
    """The picture below a white strip: the page draws its buttons over the top right corner,
    where the last panel's title (Navier-Stokes) would be covered."""
    strip = np.full((max(24, picture.shape[1] // 40), *picture.shape[1:]), 255, dtype=np.uint8)
    return np.concatenate([strip, picture], axis=0)


def save_png(image: np.ndarray, out_dir, prefix: str) -> Path:
    """An image in [0, 1] as an 8-bit PNG in out_dir (a new file each time), for the download."""
    import tempfile

    from vit_inpaint.storage.images import write_pngs
    from vit_inpaint.viz.pictures import to_uint8

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f"{prefix}-", suffix=".png", dir=out_dir)
    os.close(handle)
    write_pngs({Path(name): to_uint8(image)})
    return Path(name)
