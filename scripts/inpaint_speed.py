"""How long `python -m vit_inpaint.cli.inpaint` takes (the whole process) and its peak memory.

    python scripts/inpaint_speed.py [--ckpt CKPT]

Two cases, each run as a user runs it (a fresh process, the time to import and load counted):
    512x512 gray photograph (camera, upscaled from the bundled 512x512), 10% of its pixels hidden
    4000x4000 gray image, 40,000 hidden pixels (scattered 2x2 holes and single pixels)
Prints the wall time and the peak resident memory (from the kernel's accounting of the child).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def run(args: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "vit_inpaint.cli.inpaint", *args], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # MiB (Linux: KiB)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", help="checkpoint (default: the shipped inpainter)")
    args = parser.parse_args()
    import imageio.v3 as iio
    import skimage.data

    ckpt = ["--ckpt", args.ckpt] if args.ckpt else []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        camera = skimage.data.camera()  # 512x512 gray, a photograph of the training split
        iio.imwrite(folder / "small.png", camera)
        iio.imwrite(
            folder / "small_mask.png", ((rng.random(camera.shape) < 0.1) * 255).astype(np.uint8)
        )
        big = np.tile(camera, (8, 8))[:4000, :4000]
        mask = np.zeros(big.shape, dtype=bool)
        # 40,000 hidden pixels: 7,500 2x2 holes and 10,000 single pixels, anywhere.
        tops, lefts = rng.integers(0, 3999, 7500), rng.integers(0, 3999, 7500)
        for dy in (0, 1):
            for dx in (0, 1):
                mask[tops + dy, lefts + dx] = True
        free = np.flatnonzero(~mask)
        mask.flat[rng.choice(free, 40_000 - int(mask.sum()), replace=False)] = True
        iio.imwrite(folder / "big.png", big)
        iio.imwrite(folder / "big_mask.png", mask.astype(np.uint8) * 255)
        for name, hidden in (("small", "10%"), ("big", f"{int(mask.sum()):,} pixels")):
            seconds, peak = run(
                [
                    *ckpt,
                    "--image",
                    str(folder / f"{name}.png"),
                    "--mask",
                    str(folder / f"{name}_mask.png"),
                    "--out",
                    str(folder / f"{name}_out.png"),
                ]
            )
            shape = iio.imread(folder / f"{name}.png").shape
            print(
                f"{shape[0]}x{shape[1]}, {hidden} hidden: {seconds:.2f} s, "
                f"peak memory {peak:.0f} MiB (the largest process so far)"
            )


if __name__ == "__main__":
    main()
