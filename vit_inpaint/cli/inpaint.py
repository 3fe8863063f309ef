"""Fill in the hidden pixels of a photograph, of any size, with a trained ViT.

    python -m vit_inpaint.cli.inpaint --image photo.png --mask mask.png --out filled.png
    python -m vit_inpaint.cli.inpaint --ckpt outputs/runs/<time>/checkpoints/last.ckpt \\
        --image photo.png --holes 200 --seed 0 --out filled.png --side-by-side compare.png

Without `--ckpt` the tool uses the inpainter that ships with the package (BENCHMARKS.md: the
recipe that made it), so it works right after `make install`. It corrects the biharmonic fill of
the whole image (model.prior=biharmonic, models/biharmonic.py).

The mask is an image of the same size: white pixels are hidden and filled in, black ones are
kept. Pixels brighter than half the mask's brightest value count as hidden, so 0/1,
0/255 and 0/65535 masks all work; colour masks are averaged to gray first (alpha is ignored).
`--holes N` hides N random 2x2 holes instead, aligned to the 2x2 grid (`--seed` picks them; the
same seed gives the same holes), and since the image is then complete the tool also prints the
mean squared error on the hidden pixels of the model and of each classical method.

The model sees `image_size` x `image_size` windows: the image is filled by overlapping windows
that give every hole context on all sides, only where there is something to fill
(fill/windows.py): each hidden pixel from every window that holds it, weighted towards their
centres (`--windows overlap`, the default), or from the one window it is central in (`--windows
centre`, with a whole-image prior: faster on scattered pixels; `--single-tiling`: windows that do
not overlap, holes on window borders see fewer sides). A model without a whole-image prior
fills holes larger than a window from their border inward.
Colour images: by default the network corrects the biharmonic fill of the channels' mean and
each channel gets its own biharmonic fill plus that correction (`--colour luminance`, one pass
of the network); `--colour channels` runs it on each channel (three passes). An alpha channel
(gray + alpha, RGBA) is no colour: it is not filled, comes back exactly as it was and stays in
the output (same mode as an 8-bit input; a 16-bit input's alpha is rounded to 8 bits like its
colours). Visible pixels come back exactly as they were (in 8 bits).

`--side-by-side cmp.png` also writes one RGB picture, a grid of titled panels (viz/comparison.py):
the original, the masked image (hidden pixels in red), the model's result, the biharmonic fill
(models/biharmonic.py), OpenCV's Telea and Navier-Stokes inpainting, the model's change to the
biharmonic fill, and the same panels zoomed in around the places with the most hidden pixels.

Bad input stops the tool before anything is written, with an `error:` line that names the option
and the file (exit status 2): among others an output that is one of the inputs (the same path, or
the same file through a hard or symbolic link), a negative `--seed`, and a checkpoint whose weights
hold NaN or infinite values. Outputs go to a temporary file in the same folder that then
replaces the destination, so a failed run never leaves a half-written file nor clobbers an
existing one. The tool never imports Lightning: it starts in a second or two. From Python:

    from vit_inpaint.fill.model import load_inpainter
    from vit_inpaint.storage.images import read_image, read_mask

    inpainter = load_inpainter()  # or load_inpainter("last.ckpt")
    filled = inpainter.fill(read_image("photo.png"), read_mask("mask.png"))  # gray or colour
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from vit_inpaint.storage.images import (
    FileError,
    check_mask,
    join_alpha,
    read_image,
    read_mask,
    split_alpha,
)
from vit_inpaint.storage.outputs import same_file

# torch, Lightning, imageio and scikit-image are imported inside the functions that need them, so
# `--help` and errors found in the arguments answer at once instead of after seconds of imports.


def grid_holes(height: int, width: int, count: int, seed: int = 0) -> np.ndarray:
    """`--holes N --seed S`: a (H, W) bool mask of N distinct random 2x2 holes on the 2x2 grid,
    drawn by the masking code (GridHoles); the same seed gives the same holes."""
    from vit_inpaint.data.masking import GridHoles
    from vit_inpaint.data.seeds import generator

    return GridHoles(count=count, size=2)(1, height, width, generator(seed))[0].numpy()


def seed(text: str) -> int:
    """`--seed`: a whole number, 0 or more (argparse reports the error as `argument --seed`)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.cli.inpaint",
        description="Fill in the hidden pixels of an image with a trained vit-inpaint model, "
        "window by window (the model's image size), gray or colour.",
        epilog="Mask convention: white pixels (brighter than half the mask's brightest value) are "
        "hidden and filled, black pixels are kept. Nothing is written unless every input is "
        "valid.",
    )
    parser.add_argument(
        "--ckpt",
        type=Path,
        help="checkpoint of a training run (default: the inpainter shipped with the package)",
    )
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
    parser.add_argument(
        "--seed", type=seed, default=0, help="seed of --holes, 0 or more (default: 0)"
    )
    parser.add_argument("--out", required=True, type=Path, help="filled image (8-bit PNG)")
    parser.add_argument(
        "--single-tiling",
        action="store_true",
        help="windows that do not overlap (one tiling of the image), instead of windows every "
        "half window (4x fewer windows through the network; holes on window borders filled from "
        "fewer sides)",
    )
    parser.add_argument(
        "--windows",
        choices=("overlap", "centre"),
        help="which windows give a hidden pixel its value: every window that holds it, weighted "
        "towards their centres (overlap), or the one it is central in (centre: one window per "
        "scattered hidden pixel instead of four, for a model that corrects a whole-image fill; "
        "inside painted blobs its 8x8 blocks can show as steps); default: overlap",
    )
    parser.add_argument(
        "--colour",
        choices=("luminance", "channels"),
        default="luminance",
        help="a colour image: the network on the channels' mean and the colour from the "
        "biharmonic fill (luminance, default: one pass), or the network on each channel "
        "(channels: three passes)",
    )
    parser.add_argument(
        "--tune-steps",
        type=int,
        default=0,
        metavar="N",
        help="first train a copy of the model N steps on the photo's own visible pixels "
        "(a few per cent better, seconds per step on a small machine; default: 0, none)",
    )
    parser.add_argument(
        "--side-by-side",
        type=Path,
        metavar="PNG",
        help="also write a grid of original, masked, model, biharmonic, Telea, Navier-Stokes, "
        "the model's change, and zooms around the holes, as one PNG",
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


def _check_inputs_against_outputs(parser: argparse.ArgumentParser, args) -> None:
    """No output may overwrite an input: --out and --side-by-side against --image, --mask and
    --ckpt, and against each other."""
    outputs = [("--out", args.out), ("--side-by-side", args.side_by_side)]
    outputs = [(option, path) for option, path in outputs if path is not None]
    if len(outputs) == 2 and same_file(args.out, args.side_by_side):
        parser.error(
            f"argument --side-by-side: {args.side_by_side}: is the same file as --out; "
            "must be another file than --out"
        )
    inputs = [("--image", args.image), ("--mask", args.mask), ("--ckpt", args.ckpt)]
    for option, path in outputs:
        for input_option, input_path in inputs:
            if input_path is not None and same_file(path, input_path):
                what = f"the {input_option} file"
                if input_option == "--image":
                    what = "the input image"
                parser.error(
                    f"argument {option}: {path}: is {what} ({input_option} {input_path}); "
                    "name another file"
                )


def fill_channels(fill, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """fill(gray (H, W), mask) applied to a gray image, or to each channel of a colour one."""
    if image.ndim == 2:
        return fill(image, mask)
    return np.stack([fill(image[..., c], mask) for c in range(image.shape[-1])], axis=-1)


def main(argv: list[str] | None = None) -> int:
    """The command line: parse -> check -> run -> write; returns 0, or exits with status 2 and
    an `error:` line on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    image, mask, inpainter = _checked(parser, args)
    outputs, filled, classical = _run(parser, args, image, mask, inpainter)
    try:
        from vit_inpaint.storage.images import write_pngs

        write_pngs(outputs)
    except OSError as err:
        parser.error(f"cannot write the output: {err}")
    height, width = mask.shape
    size = inpainter.window
    print(
        f"filled {int(mask.sum())} hidden pixels of {args.image} ({height}x{width}, "
        f"{size}x{size} windows of {inpainter.source}) -> "
        + ", ".join(str(path) for path in outputs)
    )
    if args.holes is not None:
        _print_errors(split_alpha(image)[0], mask, filled, classical)
    return 0


def _checked(parser: argparse.ArgumentParser, args):
    """(image, mask, inpainter): every check comes before any output is written, so a failed
    run leaves no file behind."""
    _check_output(parser, "--out", args.out)
    if args.side_by_side is not None:
        _check_output(parser, "--side-by-side", args.side_by_side)
    _check_inputs_against_outputs(parser, args)
    if args.tune_steps < 0:
        parser.error(f"argument --tune-steps: must be 0 or more, got {args.tune_steps}")
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
    from vit_inpaint.fill.model import load_inpainter

    try:
        inpainter = load_inpainter(args.ckpt)
    except FileError as err:
        parser.error(f"argument --ckpt: {err}")
    if args.windows == "centre" and inpainter.prior == "none":
        parser.error(
            f"argument --windows: centre needs a model that corrects a whole-image fill "
            f"(model.prior=biharmonic); {inpainter.source} has none: use overlap"
        )
    return image, mask, inpainter


SHOWN = {"biharmonic": "biharmonic", "telea": "Telea", "navier_stokes": "Navier-Stokes"}


def _run(parser: argparse.ArgumentParser, args, image, mask, inpainter):
    """(the outputs to write, the model's fill, the classical fills that were needed)."""
    from vit_inpaint.evaluation.classical import METHODS
    from vit_inpaint.viz.pictures import to_uint8

    # An alpha channel (gray + alpha, RGBA) is no colour: it is kept exactly as it is, and only
    # the colour channels are filled, scored and shown.
    colour, alpha = split_alpha(image)
    stride = inpainter.window if args.single_tiling else None
    if args.windows is not None:
        from dataclasses import replace

        inpainter = replace(inpainter, windows=args.windows)
    filled = inpainter.fill(colour, mask, stride=stride, progress=True, colour=args.colour,
                            tune_steps=args.tune_steps)  # fmt: skip
    if not np.isfinite(filled).all():  # a model that passed the weights check but still fails
        parser.error(
            f"argument --ckpt: {inpainter.source}: the model's fill holds NaN or infinite values"
        )
    outputs = {args.out: to_uint8(join_alpha(filled, alpha))}
    # With --holes the image is complete: its hidden pixels are the truth to score against.
    scored = (*SHOWN, "neighbour_mean")
    wanted = scored if args.holes is not None else SHOWN if args.side_by_side else ()
    classical = {name: fill_channels(METHODS[name], colour, mask) for name in wanted}
    if args.side_by_side is not None:
        from vit_inpaint.viz.comparison import comparison_grid

        fills = {"model": filled, **{SHOWN[name]: classical[name] for name in SHOWN}}
        outputs[args.side_by_side] = comparison_grid(colour, mask, fills)
    return outputs, filled, classical


def _print_errors(colour, mask, filled, classical) -> None:
    hidden = mask if colour.ndim == 2 else np.broadcast_to(mask[..., None], colour.shape)
    errors = {"model": filled, **classical}
    mse = {name: float(np.mean((x[hidden] - colour[hidden]) ** 2)) for name, x in errors.items()}
    print(
        "mse on the hidden pixels (lower is better): "
        + ", ".join(f"{name} {value:.4g}" for name, value in mse.items())
    )
    ratio = mse["model"] / max(mse["biharmonic"], 1e-12)
    print(f"model / biharmonic = {ratio:.3f} (below 1: the model is better)")


if __name__ == "__main__":
    sys.exit(main())
