"""The fill of a commit before this one against today's, in one process, interleaved: the same
weights, image and mask, so a machine whose load moves by minutes compares them fairly.

    python scripts/fill_before_after.py --before 3d7cf43 --cases small medium [--solver-only]

`--before`'s models/biharmonic.py (its whole-image `biharmonic_fill`) and fill/windows.py are
read from git into a temporary folder. Each case (scripts/inpaint_speed.py's masks) is filled
before, after, before, after (gray cases: the largest difference at a hidden pixel too);
`--solver-only` times the whole-image biharmonic solves alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from inpaint_speed import CASES, case  # noqa: E402


def module_at(commit: str, path: str, folder: Path):
    text = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    file = folder / path.replace("/", "_")
    file.write_text(text)
    spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="a commit before this one")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=["small", "medium"])
    parser.add_argument("--solver-only", action="store_true")
    args = parser.parse_args()
    import skimage.data

    from vit_inpaint.fill.model import load_inpainter
    from vit_inpaint.models.biharmonic import biharmonic_fill

    inpainter = load_inpainter()
    with tempfile.TemporaryDirectory() as folder:
        old_solver = module_at(args.before, "vit_inpaint/models/biharmonic.py", Path(folder))
        old_windows = module_at(args.before, "vit_inpaint/fill/windows.py", Path(folder))

    def tensors_predict(*tensors):  # fill/windows.py before 2bc439e handed torch tensors
        import torch

        return torch.from_numpy(inpainter.predict(*(t.numpy() for t in tensors)))

    def before(image, mask):
        if image.ndim == 3:
            return np.stack([before(image[..., c], mask) for c in range(3)], axis=-1)
        prior = old_solver.biharmonic_fill(image, mask)
        return old_windows.fill_windows(image, mask, inpainter.window, tensors_predict,
                                        prior=prior)  # fmt: skip

    if args.solver_only:
        before, after = old_solver.biharmonic_fill, biharmonic_fill
    else:
        after = inpainter.fill
    rng = np.random.default_rng(0)
    for name in args.cases:
        image, mask = case(name, skimage.data.camera(), rng)
        image = image / 255.0
        for label, fill in (("before", before), ("after", after)) * 2:
            start = time.perf_counter()
            out = fill(image, mask)
            print(f"{name} {label}: {time.perf_counter() - start:.2f} s", flush=True)
            if label == "before":
                reference = out
        print(f"{name}: max |after - before| at the hidden pixels "
              f"{np.abs(out - reference)[mask].max():.2e}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
