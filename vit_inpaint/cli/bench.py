"""How fast is a training epoch? `python -m vit_inpaint.cli.bench` (or `make bench`).

The loops it times, and what they measure: vit_inpaint/benchmarks/epochs.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vit_inpaint.benchmarks import epochs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.cli.bench", description=epochs.__doc__
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--num-train", type=int, default=5000)
    parser.add_argument("--image-size", type=int, default=4)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=4, help="per round; the first is warm-up")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--attention", default="sdpa", choices=["sdpa", "manual"])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--scaling", action="store_true", help="also time image/dataset sizes")
    parser.add_argument(
        "--floor", action="store_true", help="also time Lightning's barebones loop (the floor)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--scaling-one", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("num_train", "epochs", "rounds", "dim", "depth", "heads", "image_size"):
        if getattr(args, name) < 1 or (name == "epochs" and args.epochs < 2):
            parser.error(
                f"--{name.replace('_', '-')} must be at least {2 if name == 'epochs' else 1}"
            )
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda: no CUDA device is available here")
    if args.scaling_one:
        print(json.dumps(epochs.scaling_one(*args.scaling_one)))
        return

    print(f"machine: {epochs.machine(args.device)}")
    print(f"command: python -m vit_inpaint.cli.bench {' '.join(argv or sys.argv[1:])}".rstrip())
    results = {"machine": epochs.machine(args.device), "compare": epochs.compare(args)}
    for batch_size, r in results["compare"].items():
        print(
            f"batch {batch_size:>4}: "
            + "  ".join(
                f"{name} {r[f'{name}_epoch_s'] * 1000:7.1f} ms/epoch "
                f"({r[f'{name}_samples_per_s']:,.0f}/s)"
                for name in ("naive", "bare", "project", "lightning")
                if f"{name}_epoch_s" in r
            )
            + f"  project/bare {r['project/bare']:.3f}  naive/project {r['naive/project']:.3f}"
            + (f"  lightning/bare {r['lightning/bare']:.3f}" if args.floor else "")
        )
    if args.scaling:
        print("scaling (bare loop, batch 64, median epoch):")
        results["scaling"] = epochs.scaling(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
