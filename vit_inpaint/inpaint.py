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

    from vit_inpaint.fill.tiling import inpaint_image
    from vit_inpaint.storage.checkpoints import load_checkpoint
    from vit_inpaint.storage.images import read_image, read_mask

    module = load_checkpoint("last.ckpt")
    filled = inpaint_image(module, read_image("photo.png"), read_mask("mask.png"))
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from vit_inpaint.storage.images import FileError, check_mask, read_image, read_mask

# torch, Lightning, imageio and scikit-image are imported inside the functions that need them, so
# `--help` and errors found in the arguments answer at once instead of after seconds of imports.


def grid_holes(height: int, width: int, count: int, seed: int = 0) -> np.ndarray:
    """`--holes N --seed S`: a (H, W) bool mask of N distinct random 2x2 holes on the 2x2 grid,
    drawn by the masking code (GridHoles); the same seed gives the same holes."""
    from vit_inpaint.data.datamodule import generator
    from vit_inpaint.data.masking import GridHoles

    return GridHoles(count=count, size=2)(1, height, width, generator(seed))[0].numpy()


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
    except FileError as err:
        parser.error(f"argument --image: {err}")
    height, width = image.shape[:2]
    if args.mask is not None:
        try:
            mask = read_mask(args.mask)  # its errors already name the file
        except FileError as err:
            parser.error(f"argument --mask: {err}")
        try:
            check_mask(mask, height, width)
        except FileError as err:
            parser.error(f"argument --mask: {args.mask}: {err}")
    else:
        try:
            mask = grid_holes(height, width, args.holes, args.seed)
        except ValueError as err:
            parser.error(f"argument --holes: {err}")
    from vit_inpaint.storage.checkpoints import load_checkpoint

    try:
        module = load_checkpoint(args.ckpt)
    except FileError as err:
        parser.error(f"argument --ckpt: {err}")

    from vit_inpaint.evaluation.baselines import biharmonic_image, visible_mean
    from vit_inpaint.fill.tiling import all_hidden_tiles, fill_tiled, inpaint_image
    from vit_inpaint.storage.images import write_pngs
    from vit_inpaint.viz.pictures import side_by_side, to_uint8

    filled = inpaint_image(module, image, mask, offset_tilings=not args.single_tiling)
    outputs = {args.out: to_uint8(filled)}
    # With --holes the image is complete: its hidden pixels are the truth to score against.
    wants_biharmonic = args.side_by_side is not None or args.holes is not None
    biharmonic = biharmonic_image(image, mask) if wants_biharmonic else None
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
