"""Choosing how the photo inpainter fills whole images, on photographs outside its test set.

    python scripts/inpainter_validation.py --ckpt CKPT [--orientations 1 8] [--strides 8 16]
    python scripts/inpainter_validation.py --windows overlap centre
    python scripts/inpainter_validation.py --photos coffee rocket --colours luminance channels

The validation photographs (data/settings.py INPAINTER_SPLITS["val"], the default) select the
model's checkpoint in training; they also choose here the filling's settings (the stride between
windows, test-time averaging over orientations, test-time tuning), so that the test photographs
of `make evaluate` stay unseen by every choice; the test photographs are refused. They are gray:
the colour modes are chosen on colour photographs of the training split (`--photos`), which the
network saw in gray only. For each setting: the hidden-pixel MSE over biharmonic and Telea,
geometric means over the mask kinds x coverage bins up to 30% at each scale (the evaluation's
summary, evaluation/photo_tables.py), per kind, and the seconds the model took.
"""

from __future__ import annotations

import argparse
import itertools
import time

from vit_inpaint.data.settings import INPAINTER_SPLITS
from vit_inpaint.evaluation.photo_tables import per_photo, summary
from vit_inpaint.evaluation.photos import BINS, KINDS, evaluate
from vit_inpaint.fill.model import COLOUR_MODES, WINDOW_MODES, Inpainter, load_inpainter
from vit_inpaint.storage.images import FileError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", help="checkpoint (default: the shipped inpainter)")
    parser.add_argument("--orientations", nargs="+", type=int, default=[1])
    parser.add_argument("--strides", nargs="+", type=int, default=[0], help="0: half a window")
    parser.add_argument("--colours", nargs="+", choices=COLOUR_MODES, default=["luminance"])
    parser.add_argument("--windows", nargs="+", choices=WINDOW_MODES, default=[Inpainter.windows])
    parser.add_argument(
        "--tune-steps", nargs="+", type=int, default=[0], help="test-time tuning steps (0: none)"
    )
    parser.add_argument("--scales", nargs="+", type=int, default=[4, 1])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--photos", nargs="+", default=INPAINTER_SPLITS["val"])
    parser.add_argument("--per-photo", action="store_true", help="also a line per photo x kind")
    return parser


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    held_out = sorted(set(args.photos) & set(INPAINTER_SPLITS["test"] + ["cat"]))
    if held_out:
        parser.error(f"argument --photos: {held_out} are test photographs: choose on others")
    try:
        network = load_inpainter(args.ckpt).network
    except (FileError, ValueError) as err:
        parser.error(str(err))
    if any(stride < 0 or (stride and network.image_size % stride) for stride in args.strides):
        parser.error(f"argument --strides: each must divide the window ({network.image_size})")
    settings = itertools.product(
        args.orientations, args.strides, args.colours, args.tune_steps, args.windows
    )
    for orientations, stride, colour, steps, windows in settings:
        inpainter = Inpainter(network, str(args.ckpt), orientations, windows=windows)
        seconds = [0.0]

        def fill(image, mask, inpainter=inpainter, stride=stride, colour=colour, steps=steps,
                 seconds=seconds):  # fmt: skip
            start = time.perf_counter()
            out = inpainter.fill(image, mask, stride=stride or None, colour=colour,
                                 tune_steps=steps)  # fmt: skip
            seconds[0] += time.perf_counter() - start
            return out

        results = evaluate(fill, args.photos, args.scales, args.kinds, BINS[:3], seed=1,
                           methods=("biharmonic", "telea", "navier_stokes"))  # fmt: skip
        print(f"## orientations {orientations}, stride {stride or 'half a window'}, windows "
              f"{windows}, colour {colour}, tuning steps {steps}: "
              f"model {seconds[0]:.1f} s")  # fmt: skip
        print("\n".join(summary(results)), flush=True)
        for scale in args.scales if args.per_photo else []:
            for row in per_photo(results, scale):
                print(f"  - 1/{scale} {row['photo']} {row['kind']}: model / biharmonic "
                      f"{row['mse']['model'] / row['mse']['biharmonic']:.3f}, model / best "
                      f"{row['ratio']:.3f} ({row['best']})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
