"""Fill in the hidden pixels of an image of any size with a trained model.

    python -m vit_inpaint.inpaint --ckpt outputs/runs/<time>/checkpoints/last.ckpt \\
        --image photo.png --mask mask.png --out filled.png [--side-by-side compare.png]
    python -m vit_inpaint.inpaint --ckpt last.ckpt --image photo.png --holes 200 --seed 0 \\
        --out filled.png --side-by-side compare.png

The mask is an image of the same size: white (non-zero) pixels are hidden and filled in, black
ones are kept. Pixels brighter than half the mask's brightest value count as hidden, so 0/1,
0/255 and 0/65535 masks all work; colour masks are averaged to gray first (alpha is ignored).
`--holes N` hides N random 2x2 holes instead, aligned to the 2x2 grid like the `patch2x2` mask
the models are trained with (`--seed` picks them; the same seed gives the same holes).

The model sees `image_size` x `image_size` images (4x4 by default), so the image is cut into
non-overlapping tiles of that size, every tile is filled on its own, and the tiles are put back.
The last row and column of tiles are completed by repeating the edge pixels (a copy of a hidden
pixel is hidden too); the padding is cropped off again. This is done for every tiling offset
along the model's patch grid (4 tilings for 4x4 tiles of 2x2 patches) and the fills are averaged:
a hole on the patch grid then sits in a different corner of its tile in each tiling, and the
average has seen its surroundings on every side (`--single-tiling`: one tiling, 4x faster).
Colour images are filled one channel at a time, each as a grayscale image. Visible pixels come
back exactly as they were (in 8 bits). With `--holes` the image is complete, so the tool also
prints the mean squared error on the hidden pixels of the model, biharmonic inpainting and each
tile's visible mean.

What the model cannot know, it cannot fill well:
- a tile can only use its own visible pixels, never its neighbours': 4x4 is a small window, and
  biharmonic inpainting, which solves over the whole image, usually does better on photographs;
- a tile whose pixels are all hidden is filled from nothing (the model's best guess for an
  unknown tile, close to a flat gray); the tool says how many there were;
- a model trained on one hidden 2x2 patch per tile (`masking=patch2x2`) never saw a tile with
  two holes, and fills such tiles poorly.

`--side-by-side cmp.png` also writes one RGB picture, four panels left to right: the original,
the masked image (hidden pixels in red), the model's result and skimage's biharmonic inpainting
of the whole image, a classical method that sees past tile borders.

Bad input stops the tool before anything is written, with an `error:` line that names the option
and the file (exit status 2). Outputs go to a temporary file in the same folder that then
replaces the destination, so a failed run never leaves a half-written file nor clobbers an
existing one. From Python:

    from vit_inpaint.inpaint import inpaint_image, load_model, read_image, read_mask
    module = load_model("last.ckpt")
    filled = inpaint_image(module, read_image("photo.png"), read_mask("mask.png"))
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

# torch, Lightning, imageio and scikit-image are imported inside the functions that need them, so
# `--help` and errors found in the arguments answer at once instead of after seconds of imports.

PANEL_GAP = 2  # white columns between two panels of the side-by-side picture
BATCH_SIZE = 4096  # tiles per forward pass: bounds memory on large images


class InpaintError(ValueError):
    """Input the tool cannot use; the message says which file and what is wrong with it."""


# --- Reading and checking inputs ---------------------------------------------------------------


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InpaintError(f"{path}: no such file")
    if path.is_dir():
        raise InpaintError(f"{path}: is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise InpaintError(f"{path}: permission denied")


def _summary(err: BaseException, limit: int = 240) -> str:
    """The error's message on one line (torch puts the useful part on the second line)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_pixels(path: Path) -> np.ndarray:
    """The raw pixel array of an image file, or InpaintError if it is not a readable image."""
    import imageio.v3 as iio

    _check_readable(path)
    try:
        pixels = np.asarray(iio.imread(path))
    except Exception as err:  # every reader raises its own kind of error on a non-image
        raise InpaintError(f"{path}: not an image file ({_summary(err, limit=160)})") from err
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[-1] <= 4)) or not pixels.size:
        raise InpaintError(
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
            raise InpaintError(
                f"{path}: float pixel values must lie in [0, 1], found "
                f"[{np.nanmin(image):g}, {np.nanmax(image):g}]"
                + ("" if np.isfinite(image).all() else " and NaN or infinite values")
            )
        return image
    raise InpaintError(
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
    gray = pixels.astype(np.float64)
    if not np.isfinite(gray).all():
        raise InpaintError(f"{path}: the mask holds NaN or infinite values")
    return gray > gray.max() / 2


def check_mask(mask: np.ndarray, height: int, width: int) -> None:
    """Refuses a mask of another size than the image, or one that hides every pixel or none."""
    if mask.shape != (height, width):
        h, w = mask.shape
        raise InpaintError(
            f"the mask is {h}x{w} pixels (height x width) but the image is {height}x{width}"
        )
    hidden = int(mask.sum())
    if hidden == 0:
        raise InpaintError(
            "the mask hides no pixel: mark the pixels to fill in white (non-zero), the rest black"
        )
    if hidden == mask.size:
        raise InpaintError(
            f"the mask hides all {mask.size} pixels: at least one pixel must stay visible "
            "(white = hidden, black = kept)"
        )


def max_holes(height: int, width: int) -> int:
    """How many distinct aligned 2x2 holes fit in the image with at least one pixel visible."""
    cells = (height // 2) * (width // 2)
    return cells - 1 if cells * 4 == height * width else cells


def random_holes(height: int, width: int, count: int, seed: int = 0) -> np.ndarray:
    """A (H, W) bool mask of `count` distinct random 2x2 holes on the 2x2 grid, True = hidden.

    The holes are drawn without replacement among the grid cells that lie wholly inside the
    image, so they never overlap and always hide 4 * count pixels; the same seed gives the same
    holes.
    """
    limit = max_holes(height, width)
    if count < 1:
        raise InpaintError(f"the number of holes must be at least 1, got {count}")
    if count > limit:
        raise InpaintError(
            f"{count} holes do not fit: a {height}x{width} image has room for at most {limit} "
            "distinct 2x2 holes on the 2x2 grid (with at least one pixel left visible)"
        )
    rows, cols = height // 2, width // 2
    cells = np.zeros(rows * cols, dtype=bool)
    cells[np.random.default_rng(seed).choice(rows * cols, size=count, replace=False)] = True
    mask = np.zeros((height, width), dtype=bool)
    mask[: rows * 2, : cols * 2] = cells.reshape(rows, cols).repeat(2, axis=0).repeat(2, axis=1)
    return mask


def load_model(path: str | os.PathLike):
    """An InpaintingModule from one of this project's checkpoints, on the CPU, in eval mode.

    The file is read with torch's safe loader (`weights_only=True`: tensors and plain values, no
    arbitrary code), checked to hold this project's `state_dict` and `hyper_parameters` (with the
    model's settings under "model"), and any failure becomes an InpaintError.
    """
    path = Path(path)
    _check_readable(path)
    import torch

    not_ours = f"{path}: not a checkpoint of vit-inpaint"
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a non-torch file fails in many different ways
        raise InpaintError(f"{not_ours} (not a file torch.load can read)") from err
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if (
        not isinstance(checkpoint, dict)
        or not isinstance(checkpoint.get("state_dict"), dict)
        or not isinstance(hparams, dict)
        or not isinstance(hparams.get("model"), dict)
    ):
        raise InpaintError(
            f"{not_ours} (a torch file without the 'state_dict' and 'hyper_parameters' with a "
            "'model' entry that training writes; use checkpoints/last.ckpt or the best one of a "
            "run's folder)"
        )
    from vit_inpaint.module import InpaintingModule

    try:
        module = InpaintingModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    except Exception as err:  # e.g. weights that do not fit the saved settings
        raise InpaintError(f"{not_ours} ({type(err).__name__}: {_summary(err)})") from err
    return module.eval()


# --- Filling ---------------------------------------------------------------------------------


def _tile_padding(height: int, width: int, size: int) -> tuple[tuple[int, int], ...]:
    """Rows and columns added at the bottom and right to make whole size x size tiles."""
    return ((0, -height % size), (0, -width % size))


def _to_tiles(planes: np.ndarray, size: int) -> np.ndarray:
    """(C, H, W) with H, W multiples of size -> (C * H/size * W/size, size, size), row-major."""
    c, h, w = planes.shape
    tiles = planes.reshape(c, h // size, size, w // size, size).transpose(0, 1, 3, 2, 4)
    return tiles.reshape(-1, size, size)


def _from_tiles(tiles: np.ndarray, channels: int, height: int, width: int) -> np.ndarray:
    size = tiles.shape[-1]
    planes = tiles.reshape(channels, height // size, width // size, size, size)
    return planes.transpose(0, 1, 3, 2, 4).reshape(channels, height, width)


def _check_image_and_mask(image: np.ndarray, mask: np.ndarray) -> None:
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {image.shape}")
    if mask.dtype != bool or mask.shape != image.shape[:2]:
        raise ValueError(
            f"mask must be a bool array of shape {image.shape[:2]}, got {mask.dtype} {mask.shape}"
        )


def fill_tiled(
    image: np.ndarray,
    mask: np.ndarray,
    size: int,
    fill: Callable,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """Fills the hidden pixels of an image of any size with `fill`, tile by tile.

    image: (H, W) or (H, W, C) floats in [0, 1]; mask: (H, W) bool, True = hidden.
    fill(tiles (B, size, size) float32 tensor, masks (B, size, size) bool tensor) -> tensor of
    the same shape, e.g. `InpaintingModule.inpaint` or a baseline of vit_inpaint.baselines.
    The image is padded to a multiple of `size` by repeating its edge pixels (a copy of a hidden
    pixel is hidden too), cut into non-overlapping tiles, each channel separately, filled in
    batches of `batch_size` tiles, put back and cropped. Returns float64 of the image's shape
    whose visible pixels are exactly the input's.
    """
    import torch

    _check_image_and_mask(image, mask)
    planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)  # (C, H, W)
    channels, (height, width) = planes.shape[0], mask.shape
    pad = _tile_padding(height, width, size)
    # Hidden values are zeroed first, so whatever the file holds there can never reach `fill`,
    # not even through an edge copy in the padding.
    planes = np.pad(np.where(mask, 0.0, planes), ((0, 0), *pad), mode="edge")
    hidden = np.pad(mask, pad, mode="edge")
    tiles = torch.from_numpy(_to_tiles(planes, size).astype(np.float32))
    tile_masks = torch.from_numpy(_to_tiles(np.broadcast_to(hidden, planes.shape), size).copy())
    filled = torch.empty_like(tiles)
    for start in range(0, len(tiles), batch_size):
        chunk = slice(start, start + batch_size)
        filled[chunk] = fill(tiles[chunk], tile_masks[chunk]).to(torch.float32).cpu()
    planes = _from_tiles(filled.numpy().astype(np.float64), channels, *hidden.shape)
    planes = planes[:, :height, :width]
    out = planes[0] if image.ndim == 2 else np.moveaxis(planes, 0, -1)
    return np.where(mask if image.ndim == 2 else mask[..., None], out, image)


def fill_shifted(
    image: np.ndarray,
    mask: np.ndarray,
    size: int,
    step: int,
    fill: Callable,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """The average of fill_tiled over the tilings offset by multiples of `step` (both axes).

    With 4x4 tiles and step 2 (the patch grid), a 2x2 hole on the patch grid lies in a different
    corner of its tile in each of the 4 tilings, so between them the model sees the hole's
    surroundings on every side, where one tiling shows it at most two sides.
    """
    _check_image_and_mask(image, mask)
    total, count = np.zeros(image.shape), 0
    for dy in range(0, size, step):
        for dx in range(0, size, step):
            # Offset the tiling by padding the top and left edges (copies of hidden pixels stay
            # hidden, as in fill_tiled's own padding), then crop the padding off again.
            pad = ((dy, 0), (dx, 0))
            padded_mask = np.pad(mask, pad, mode="edge")
            padded = np.pad(image, pad + ((0, 0),) * (image.ndim - 2), mode="edge")
            total += fill_tiled(padded, padded_mask, size, fill, batch_size)[dy:, dx:]
            count += 1
    return np.where(mask if image.ndim == 2 else mask[..., None], total / count, image)


def inpaint_image(
    module,
    image: np.ndarray,
    mask: np.ndarray,
    batch_size: int = BATCH_SIZE,
    shifted: bool = True,
) -> np.ndarray:
    """The model's filling of `image`'s hidden pixels, an image of any size.

    module: an InpaintingModule (see load_model); image: (H, W) or (H, W, C) floats in [0, 1];
    mask: (H, W) bool, True = hidden. Returns float64 of the image's shape, in [0, 1], visible
    pixels unchanged. Tiles the image by the model's image size (see fill_tiled); `shifted`
    averages the tilings offset along the model's patch grid (see fill_shifted).
    """
    size = module.model.image_size
    if not shifted:
        return fill_tiled(image, mask, size, module.inpaint, batch_size)
    return fill_shifted(image, mask, size, module.model.patch_size, module.inpaint, batch_size)


def all_hidden_tiles(mask: np.ndarray, size: int) -> int:
    """How many of the tiles fill_tiled cuts the mask into hide every one of their pixels."""
    tiles = _to_tiles(np.pad(mask, _tile_padding(*mask.shape, size), mode="edge")[None], size)
    return int(tiles.all(axis=(1, 2)).sum())


def biharmonic_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """skimage's biharmonic inpainting of the whole image (colour channels each on their own)."""
    from skimage.restoration import inpaint_biharmonic

    _check_image_and_mask(image, mask)
    filled = inpaint_biharmonic(image, mask, channel_axis=-1 if image.ndim == 3 else None)
    filled = np.clip(filled, 0.0, 1.0)
    return np.where(mask if image.ndim == 2 else mask[..., None], filled, image)


# --- Writing ---------------------------------------------------------------------------------


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) for display: gray repeated, gray + alpha and RGBA without their alpha."""
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1)
    if image.shape[-1] <= 2:
        return np.repeat(image[..., :1], 3, axis=-1)
    return image[..., :3]


def side_by_side(
    image: np.ndarray, mask: np.ndarray, filled: np.ndarray, reference: np.ndarray
) -> np.ndarray:
    """original | masked (hidden in red) | filled | reference as one (H, 4W + 3 gaps, 3) uint8.

    Panels are separated by PANEL_GAP white columns; alpha channels are not shown.
    """
    from vit_inpaint.callbacks import HIDDEN_COLOUR  # the colour TensorBoard's images use

    masked = np.where(mask[..., None], np.array(HIDDEN_COLOUR), _rgb(image))
    gap = np.ones((mask.shape[0], PANEL_GAP, 3))
    panels = [_rgb(image), masked, _rgb(filled), _rgb(reference)]
    row = [panels[0]]
    for panel in panels[1:]:
        row += [gap, panel]
    return to_uint8(np.concatenate(row, axis=1))


def _encode_png(pixels: np.ndarray) -> bytes:
    import imageio.v3 as iio

    return iio.imwrite("<bytes>", pixels, extension=".png")


def write_pngs(outputs: dict[Path, np.ndarray]) -> None:
    """Writes each uint8 array as a PNG, all or nothing as far as the file system allows.

    Everything is encoded first, then written to a temporary file next to its destination, and
    only when every file is complete on disk do they replace their destinations (os.replace is
    atomic): an interrupted run leaves either the old file or the new one, never half of one.
    """
    encoded = {Path(path): _encode_png(pixels) for path, pixels in outputs.items()}
    temporary: dict[Path, Path] = {}
    try:
        for path, data in encoded.items():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temporary[path] = tmp
            # os.open with 0o666 keeps the user's umask, as a plain open() of the output would.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        for path, tmp in temporary.items():
            os.replace(tmp, path)
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)


# --- Command line ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.inpaint",
        description="Fill in the hidden pixels of an image with a trained vit-inpaint model, "
        "tile by tile (the model's image size); colour images channel by channel.",
        epilog="Mask convention: white (non-zero) pixels are hidden and filled, black pixels are "
        "kept. Nothing is written unless every input is valid.",
    )
    parser.add_argument("--ckpt", required=True, type=Path, help="checkpoint of a training run")
    parser.add_argument("--image", required=True, type=Path, help="image to fill (any size)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--mask", type=Path, help="mask image of the same size: white = hidden, black = kept"
    )
    source.add_argument(
        "--holes",
        type=int,
        metavar="N",
        help="instead of a mask, hide N random 2x2 holes aligned to the 2x2 grid",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --holes (default: 0)")
    parser.add_argument("--out", required=True, type=Path, help="filled image (8-bit PNG)")
    parser.add_argument(
        "--single-tiling",
        action="store_true",
        help="fill from one tiling only, instead of averaging the tilings offset along the "
        "model's patch grid (4x faster, holes on tile borders filled from fewer sides)",
    )
    parser.add_argument(
        "--side-by-side",
        type=Path,
        metavar="PNG",
        help="also write original | masked | model | biharmonic as one PNG",
    )
    return parser


def _check_output(parser: argparse.ArgumentParser, option: str, path: Path) -> None:
    if path.suffix.lower() != ".png":
        parser.error(f"argument {option}: {path}: the output is written as PNG; name it *.png")
    if path.is_dir():
        parser.error(f"argument {option}: {path}: is a folder, not a file name")
    folder = path.parent
    if not folder.is_dir():
        parser.error(f"argument {option}: {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        parser.error(f"argument {option}: {path}: folder {folder} is not writable")


def main(argv: list[str] | None = None) -> int:
    """The command line; returns 0, or exits with status 2 and an `error:` line on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)

    # Every check comes before any output is written: a failed run leaves no file behind.
    _check_output(parser, "--out", args.out)
    if args.side_by_side is not None:
        _check_output(parser, "--side-by-side", args.side_by_side)
        if args.side_by_side.resolve() == args.out.resolve():
            parser.error("argument --side-by-side: must be another file than --out")
    for option, path in (("--out", args.out), ("--side-by-side", args.side_by_side)):
        if path is not None and path.resolve() == args.image.resolve():
            parser.error(f"argument {option}: {path}: is the input image; name another file")
    try:
        image = read_image(args.image)
    except InpaintError as err:
        parser.error(f"argument --image: {err}")
    height, width = image.shape[:2]
    if args.mask is not None:
        try:
            mask = read_mask(args.mask)  # its errors already name the file
        except InpaintError as err:
            parser.error(f"argument --mask: {err}")
        try:
            check_mask(mask, height, width)
        except InpaintError as err:
            parser.error(f"argument --mask: {args.mask}: {err}")
    else:
        try:
            mask = random_holes(height, width, args.holes, args.seed)
        except InpaintError as err:
            parser.error(f"argument --holes: {err}")
    try:
        module = load_model(args.ckpt)
    except InpaintError as err:
        parser.error(f"argument --ckpt: {err}")

    filled = inpaint_image(module, image, mask, shifted=not args.single_tiling)
    outputs = {args.out: to_uint8(filled)}
    # With --holes the image is complete: its hidden pixels are the truth to score against.
    wants_biharmonic = args.side_by_side is not None or args.holes is not None
    biharmonic = biharmonic_fill(image, mask) if wants_biharmonic else None
    if args.side_by_side is not None:
        outputs[args.side_by_side] = side_by_side(image, mask, filled, biharmonic)
    try:
        write_pngs(outputs)
    except OSError as err:
        parser.error(f"cannot write the output: {err}")

    size = module.model.image_size
    print(
        f"filled {int(mask.sum())} hidden pixels of {args.image} ({height}x{width}, "
        f"{size}x{size} tiles) -> {', '.join(str(path) for path in outputs)}"
    )
    if args.holes is not None:
        from vit_inpaint.baselines import visible_mean

        errors = {
            "model": filled,
            "biharmonic": biharmonic,
            "visible_mean": fill_tiled(image, mask, size, visible_mean),
        }
        hidden = mask if image.ndim == 2 else np.broadcast_to(mask[..., None], image.shape)
        print(
            "mse on the hidden pixels: "
            + ", ".join(
                f"{name} {np.mean((x[hidden] - image[hidden]) ** 2):.4g}"
                for name, x in errors.items()
            )
            + " (visible_mean: each tile's visible mean)"
        )
    empty = all_hidden_tiles(mask, size)
    if empty:
        print(
            f"note: {empty} tile(s) were hidden entirely; the model filled them without any "
            "visible pixel to go on",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
