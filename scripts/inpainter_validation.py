"""Choosing how the photo inpainter fills whole images, on its validation photographs only.

    python scripts/inpainter_validation.py --ckpt CKPT [--orientations 1 8] [--strides 8 16]

The validation photographs (data/settings.py INPAINTER_SPLITS["val"]) select the model's
checkpoint in training; they also choose here the filling's settings (the stride between
windows, test-time averaging over orientations), so that the test photographs of `make evaluate`
stay unseen by every choice. For each setting: the hidden-pixel MSE over biharmonic and Telea,
geometric means over the 5 mask kinds x coverage bins up to 30% at scales 1/4 and 1/1 (the
evaluation's summary, evaluation/photos.py), and the seconds the model took.
"""

from __future__ import annotations

import argparse
import itertools
import time

from vit_inpaint.data.settings import INPAINTER_SPLITS
from vit_inpaint.evaluation.photo_tables import summary
from vit_inpaint.evaluation.photos import BINS, KINDS, evaluate
from vit_inpaint.fill.model import Inpainter, load_inpainter
from vit_inpaint.storage.images import FileError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", help="checkpoint (default: the shipped inpainter)")
    parser.add_argument("--orientations", nargs="+", type=int, default=[1])
    parser.add_argument("--strides", nargs="+", type=int, default=[0], help="0: half a window")
    parser.add_argument("--scales", nargs="+", type=int, default=[4, 1])
    args = parser.parse_args()
    try:
        network = load_inpainter(args.ckpt).network
        settings = [
            (Inpainter(network, str(args.ckpt), orientations), stride)
            for orientations, stride in itertools.product(args.orientations, args.strides)
        ]
    except (FileError, ValueError) as err:
        parser.error(str(err))
    if any(stride < 0 or (stride and network.image_size % stride) for stride in args.strides):
        parser.error(f"argument --strides: each must divide the window ({network.image_size})")
    for inpainter, stride in settings:
        orientations = inpainter.orientations
        seconds = [0.0]

        def fill(image, mask, stride=stride or None, seconds=seconds, inpainter=inpainter):
            start = time.perf_counter()
            out = inpainter.fill(image, mask, stride=stride)
            seconds[0] += time.perf_counter() - start
            return out

        results = evaluate(
            fill, INPAINTER_SPLITS["val"], args.scales, KINDS, BINS[:3], seed=1,
            methods=("biharmonic", "telea"),
        )  # fmt: skip
        print(f"## orientations {orientations}, stride {stride or 'half a window'}: "
              f"model {seconds[0]:.1f} s")  # fmt: skip
        print("\n".join(summary(results)), flush=True)


if __name__ == "__main__":
    main()
