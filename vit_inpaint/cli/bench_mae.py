"""Is MAE's encoder-on-visible-patches faster, and as good? `python -m vit_inpaint.cli.bench_mae`
(part of `make bench`); what it measures: vit_inpaint/benchmarks/mae.py.
"""

from __future__ import annotations

import argparse
import sys

from vit_inpaint.benchmarks import mae
from vit_inpaint.benchmarks.epochs import machine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.cli.bench_mae", description=mae.__doc__
    )
    parser.add_argument("--image-sizes", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--ratio", type=float, default=0.75, help="hidden share of the patches")
    parser.add_argument("--patch-size", type=int, default=2)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2)
    for key in ("decoder-dim", "decoder-depth", "decoder-heads"):
        parser.add_argument(f"--{key}", type=int, help="model=mae's (default: conf/model/mae.yaml)")
    parser.add_argument("--num-train", type=int, default=4096)
    parser.add_argument("--num-val", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=6, help="the first is warm-up (not timed)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0.0 < args.ratio < 1.0:
        parser.error(f"--ratio must be between 0 and 1 (exclusive), got {args.ratio}")
    for name in ("patch_size", "dim", "depth", "num_train", "num_val", "batch_size",
                 "decoder_dim", "decoder_depth", "decoder_heads"):  # fmt: skip
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is warm-up)")
    bad = [s for s in args.image_sizes if s < 1 or s % args.patch_size]
    if bad:
        parser.error(f"--image-sizes must be multiples of --patch-size {args.patch_size}: {bad}")

    print(f"machine: {machine()}")
    print(f"command: python -m vit_inpaint.cli.bench_mae {' '.join(argv or sys.argv[1:])}".rstrip())
    for size in args.image_sizes:
        r = mae.compare_at(size, args)
        print(
            f"{size}x{size}, {args.ratio:.0%} of the {args.patch_size}x{args.patch_size} patches "
            f"hidden, {args.epochs} epochs of {args.num_train}: "
            f"vit {r['vit_epoch_s']:.2f} s/epoch, mae {r['mae_epoch_s']:.2f} s/epoch "
            f"(mae {r['speedup']:.2f}x faster); val mse vit {r['vit_mse']:.5f} "
            f"({r['vit_mse'] / r['bayes_mse']:.3f}x Bayes), mae {r['mae_mse']:.5f} "
            f"({r['mae_mse'] / r['bayes_mse']:.3f}x Bayes); parameters vit {r['vit_params']:,}, "
            f"mae {r['mae_params']:,}"
        )
        print(
            f"  at equal wall time ({r['equal_time_s']:.1f} s of training, {args.epochs} epochs "
            f"of the other): {r['equal_time_model']} {r['equal_time_epochs']} epochs, val mse "
            f"{r['equal_time_mse']:.5f} ({r['equal_time_mse'] / r['bayes_mse']:.3f}x Bayes)"
        )


if __name__ == "__main__":
    main()
