"""How well does a model inpaint photographs it never saw, against the classical tools?

    python -m vit_inpaint.cli.evaluate --ckpt CKPT [--out-dir DIR] [--scales 4 1] [--photos ...]

Writes evaluation.csv, evaluation.md and evaluation.png into --out-dir and prints evaluation.md;
evaluation/photos.py says what they hold.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vit_inpaint.evaluation.photos import (
    BINS,
    CLASSICAL,
    KINDS,
    csv_text,
    evaluate,
    figure_png,
    markdown,
)

DESCRIPTION = __doc__.split("\n\n")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.cli.evaluate", description=DESCRIPTION
    )
    parser.add_argument("--ckpt", type=Path, help="checkpoint (default: the shipped inpainter)")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("evaluation"),
        help="folder for evaluation.{csv,md,png} (default: ./evaluation)",
    )
    parser.add_argument(
        "--scales", type=int, nargs="+", default=[4, 1], help="downscale factors (default: 4 1)"
    )
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument(
        "--bins",
        type=int,
        default=len(BINS),
        help="how many 10%% coverage bins, from 0-10%% (default: 6)",
    )
    parser.add_argument("--photos", nargs="+", help="test photographs (default: the test split)")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(CLASSICAL),
        choices=CLASSICAL,
        help="classical methods to compare with",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from vit_inpaint.data.sources import PHOTO_SPLITS

    photos = args.photos or PHOTO_SPLITS["test"]
    leaked = sorted(set(photos) & set(PHOTO_SPLITS["train"]))
    if leaked:
        parser.error(f"argument --photos: {leaked} are training photographs; evaluate on others")
    if not 1 <= args.bins <= len(BINS):
        parser.error(f"argument --bins: must be between 1 and {len(BINS)}, got {args.bins}")
    if any(s < 1 for s in args.scales):
        parser.error(f"argument --scales: factors must be >= 1, got {args.scales}")
    if args.seed < 0:
        parser.error(f"argument --seed: must be >= 0, got {args.seed}")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        parser.error(f"argument --out-dir: {args.out_dir} is a file, not a folder")
    from vit_inpaint.fill.model import load_inpainter
    from vit_inpaint.storage.images import FileError

    try:
        inpainter = load_inpainter(args.ckpt)
    except FileError as err:
        parser.error(f"argument --ckpt: {err}")
    results = evaluate(
        inpainter.fill, photos, args.scales, args.kinds, BINS[: args.bins], args.seed, args.methods
    )
    from vit_inpaint.storage.atomic import write_all_atomic

    header = f"# Inpainting evaluation: {inpainter.source}\n\n"
    header += f"Test photographs: {', '.join(photos)}; seed {args.seed}."
    text = markdown(results, header)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_all_atomic(
        {
            args.out_dir / "evaluation.md": text,
            args.out_dir / "evaluation.csv": csv_text(results),
            args.out_dir / "evaluation.png": figure_png(results),
        }
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
