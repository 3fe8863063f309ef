"""How long `python -m vit_inpaint.cli.inpaint` takes (the whole process) and its peak memory.

    python scripts/inpaint_speed.py [--ckpt CKPT] [--cases small medium large huge colour]
                                    [--windows overlap|centre]

Each case is run as a user runs it (a fresh process: importing, loading the model, reading and
writing the files counted), on `camera` (a test photograph, never trained on; `astronaut` for
the colour case), grown to the size by mirroring it (no seam, no smoothing):
    small    256x256 (camera shrunk 2x), about 500 hidden pixels: 2x2 holes and single pixels
    medium   512x512, 10% of the pixels hidden at random
    large    3000x3000, 20% hidden: holes of 2 to 8 pixels
    huge     4000x4000, 40,000 hidden pixels: 2x2 holes and single pixels
    colour   1024x1024 colour, 3% painted: blobs (disks 3-12 px in radius) and brush scribbles
             (3-6 px wide), 1.5% each, as a user paints over what to remove
Prints each case's wall time and peak resident memory (/usr/bin/time's maximum resident set).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CASES = ("small", "medium", "large", "huge", "colour")


def run(args: list[str], folder: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB) of one `python -m vit_inpaint.cli.inpaint` process."""
    report = folder / "time.txt"
    command = ["/usr/bin/time", "-f", "%M", "-o", str(report), sys.executable]
    start = time.perf_counter()
    result = subprocess.run(
        [*command, "-m", "vit_inpaint.cli.inpaint", *args], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stderr)
    return seconds, int(report.read_text().split()[-1]) / 1024


def scattered(shape, holes: int, singles: int, rng) -> np.ndarray:
    """`holes` 2x2 holes and then single pixels up to `holes * 4 + singles` hidden, anywhere."""
    mask = np.zeros(shape, dtype=bool)
    tops = rng.integers(0, shape[0] - 1, holes)
    lefts = rng.integers(0, shape[1] - 1, holes)
    for dy in (0, 1):
        for dx in (0, 1):
            mask[tops + dy, lefts + dx] = True
    free = np.flatnonzero(~mask)
    extra = holes * 4 + singles - int(mask.sum())
    mask.flat[rng.choice(free, extra, replace=False)] = True
    return mask


def case(name: str, camera: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8, mask bool) of a case."""
    import torch

    from vit_inpaint.data.free_masks import HolesMasking

    if name == "small":
        image = camera.reshape(256, 2, 256, 2).mean(axis=(1, 3)).round().astype(np.uint8)
        return image, scattered(image.shape, 75, 200, rng)
    if name == "colour":
        import skimage.data

        from vit_inpaint.data.painted_masks import Blobs, Brush

        image = np.pad(skimage.data.astronaut(), ((0, 512), (0, 512), (0, 0)), mode="symmetric")
        generator = torch.Generator().manual_seed(0)
        blobs = Blobs(3.0, 12.0, coverage_min=0.015, coverage_max=0.015)
        brush = Brush(3.0, 6.0, coverage_min=0.015, coverage_max=0.015)
        mask = blobs(1, 1024, 1024, generator)[0] | brush(1, 1024, 1024, generator)[0]
        return image, mask.numpy()
    if name == "medium":
        return camera, rng.random(camera.shape) < 0.1
    side = 3000 if name == "large" else 4000
    image = np.pad(camera, ((0, side - 512), (0, side - 512)), mode="symmetric")
    if name == "large":
        holes = HolesMasking(2, 8, coverage_min=0.2, coverage_max=0.2)
        return image, holes(1, side, side, torch.Generator().manual_seed(0))[0].numpy()
    return image, scattered(image.shape, 7500, 10_000, rng)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", help="checkpoint (default: the shipped inpainter)")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument(
        "--windows", choices=("overlap", "centre"), help="default: the tool's default"
    )
    args = parser.parse_args()
    import imageio.v3 as iio
    import skimage.data

    ckpt = ["--ckpt", args.ckpt] if args.ckpt else []
    ckpt += ["--windows", args.windows] if args.windows else []
    rng = np.random.default_rng(0)
    camera = skimage.data.camera()  # 512x512 gray
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name in args.cases:
            image, mask = case(name, camera, rng)
            iio.imwrite(folder / f"{name}.png", image)
            iio.imwrite(folder / f"{name}_mask.png", mask.astype(np.uint8) * 255)
            seconds, peak = run(
                [
                    *ckpt,
                    *("--image", str(folder / f"{name}.png")),
                    *("--mask", str(folder / f"{name}_mask.png")),
                    *("--out", str(folder / f"{name}_out.png")),
                ],
                folder,
            )
            print(
                f"{name}: {image.shape[0]}x{image.shape[1]}, {int(mask.sum()):,} hidden pixels "
                f"({mask.mean():.1%}): {seconds:.2f} s, peak memory {peak:.0f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
