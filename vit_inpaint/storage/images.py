"""Image files in and out: 8- or 16-bit, gray or colour, float in [0, 1]; masks with white =
hidden. Every reading error becomes a FileError that names the file and what is wrong with it;
PNGs are written atomically (vit_inpaint/storage/atomic.py).

imageio is imported inside the functions, so a command that only checks its arguments answers fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vit_inpaint.storage.atomic import write_all_atomic


class FileError(ValueError):
    """A file the project cannot use; the message names the file and what is wrong with it."""


class CheckpointError(FileError):
    """A file that is not a usable checkpoint of this project (tasks/checkpoints.py; here, below
    it, so that the filling tool can name it without importing torch)."""


def check_readable(path: Path) -> None:
    if not path.exists():
        raise FileError(f"{path}: no such file")
    if path.is_dir():
        raise FileError(f"{path}: is a folder, not a file")
    if not path.is_file():  # a FIFO would block the read until someone writes to it
        raise FileError(f"{path}: not a regular file (a FIFO, socket or device)")
    if not os.access(path, os.R_OK):
        raise FileError(f"{path}: permission denied")


def one_line(err: BaseException, limit: int = 240) -> str:
    """The error's message on one line (torch puts the useful part on the second line)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_pixels(path: Path) -> np.ndarray:
    """The raw pixel array of an image file, or FileError if it is not a readable image."""
    import imageio.v3 as iio

    check_readable(path)
    try:
        pixels = np.asarray(iio.imread(path))
    except Exception as err:  # every reader raises its own kind of error on a non-image
        raise FileError(f"{path}: not an image file ({one_line(err, limit=160)})") from err
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[-1] <= 4)) or not pixels.size:
        raise FileError(
            f"{path}: pixel array of shape {pixels.shape} is not one grayscale or colour image "
            "(expected height x width, or height x width x 2, 3 or 4 channels)"
        )
    return pixels


def read_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as float64 in [0, 1]: (H, W) for grayscale, (H, W, C) for colour.

    8- and 16-bit integers are divided by 255 and 65535; float images must already be in [0, 1].
    """
    path = Path(path)
    pixels = _read_pixels(path)
    if pixels.dtype == np.uint8:
        return pixels / 255.0
    if pixels.dtype == np.uint16:
        return pixels / 65535.0
    if pixels.dtype == bool:
        return pixels.astype(np.float64)
    if np.issubdtype(pixels.dtype, np.floating):
        image = pixels.astype(np.float64)
        if not np.isfinite(image).all() or image.min() < 0.0 or image.max() > 1.0:
            raise FileError(
                f"{path}: float pixel values must lie in [0, 1], found "
                f"[{np.nanmin(image):g}, {np.nanmax(image):g}]"
                + ("" if np.isfinite(image).all() else " and NaN or infinite values")
            )
        return image
    raise FileError(
        f"{path}: unsupported pixel type {pixels.dtype} (expected 8- or 16-bit integers, or "
        "floats in [0, 1])"
    )


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """A mask file as a (H, W) bool array, True = hidden (white / non-zero pixels).

    Colour masks are averaged over their colour channels (alpha is ignored); then a pixel is
    hidden when it is brighter than half the brightest pixel of the mask.
    """
    path = Path(path)
    pixels = _read_pixels(path)
    if pixels.ndim == 3:
        colour = pixels[..., :1] if pixels.shape[-1] <= 2 else pixels[..., :3]
        pixels = colour.astype(np.float64).mean(axis=-1)
    if pixels.dtype == bool:
        return pixels.copy()
    if np.issubdtype(pixels.dtype, np.unsignedinteger):
        # x > max / 2 is x > max // 2 for whole numbers: no float copy of a large mask (a
        # 4000x4000 one would take 128 MB).
        return pixels > pixels.max() // 2
    gray = pixels.astype(np.float64)
    if not np.isfinite(gray).all():
        raise FileError(f"{path}: the mask holds NaN or infinite values")
    return gray > gray.max() / 2


def check_mask(mask: np.ndarray, height: int, width: int) -> None:
    """Refuses a mask of another size than the image, or one that hides every pixel or none."""
    if mask.shape != (height, width):
        h, w = mask.shape
        raise FileError(
            f"the mask is {h}x{w} pixels (height x width) but the image is {height}x{width}"
        )
    hidden = int(mask.sum())
    if hidden == 0:
        raise FileError(
            "the mask hides no pixel: mark the pixels to fill in white, the rest black"
        )
    if hidden == mask.size:
        raise FileError(
            f"the mask hides all {mask.size} pixels: at least one pixel must stay visible "
            "(white = hidden, black = kept)"
        )


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(colour, alpha): a gray + alpha (H, W, 2) image gives its (H, W) gray and its alpha, an
    RGBA (H, W, 4) one its (H, W, 3) colour and its alpha; any other image itself and None."""
    if image.ndim == 3 and image.shape[-1] in (2, 4):
        colour = image[..., :-1]
        return (colour[..., 0] if colour.shape[-1] == 1 else colour), image[..., -1]
    return image, None


def join_alpha(colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """The inverse of split_alpha."""
    if alpha is None:
        return colour
    return np.concatenate([colour.reshape(*alpha.shape, -1), alpha[..., None]], axis=-1)


def _encode_png(pixels: np.ndarray) -> bytes:
    import imageio.v3 as iio

    return iio.imwrite("<bytes>", pixels, extension=".png")


def write_pngs(outputs: dict[Path, np.ndarray]) -> None:
    """Writes each uint8 array as a PNG, all or nothing: everything is encoded first, then
    written atomically (a failure leaves every destination as it was)."""
    write_all_atomic({Path(path): _encode_png(pixels) for path, pixels in outputs.items()})
