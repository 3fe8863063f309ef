"""The leanest plain-PyTorch version of the report's default run (`python train.py`): the yardstick
`scripts/bench_process.py` times the whole `train.py` process against.

    python scripts/plain_loop.py [--epochs 30] [--out DIR]

The same work as a default run, without any framework: the same splits (drawn from the same seed
streams as InpaintingDataModule), the same model (InpaintingViT, fused attention) and fused Adam,
the same 30 epochs of 64-image batches sliced in place from one tensor shuffled per epoch, the
validation MSE after every epoch, last.pt written every epoch and best.pt when val/mse improves,
then the test MSE of the best weights under every test mask. It logs nothing and draws nothing.
Imports only torch and the few modules of this project that need nothing else (no Lightning, no
Hydra, no torchmetrics).
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import torch

from vit_inpaint.data.masking import EVAL_MASKINGS, BlockMasking
from vit_inpaint.data.seeds import EVAL_MASKS, IMAGES, MASKS, ORDER, generator
from vit_inpaint.data.sources import UniformNoise
from vit_inpaint.models.vit import InpaintingViT

SPLITS = ("train", "val", "test")  # the order data/splits.py numbers their seed streams in
SIZES = {"train": 5000, "val": 1000, "test": 1000}
# conf/model/vit.yaml
MODEL = dict(patch_size=2, dim=64, depth=2, heads=4, mlp_ratio=2.0, attention="sdpa")


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # tasks/metrics.py's, written out: importing that module loads torchmetrics (with scipy
    # and matplotlib), the start-up cost this yardstick exists to leave out.
    weight = mask.to(pred.dtype)
    return ((pred - target).square() * weight).sum() / weight.sum()


def splits(seed: int, size: int = 4):
    """images[split], masks[split] and the test masks of every kind, as the data module draws
    them."""
    masking = BlockMasking(size=2, aligned=True, name="patch2x2")
    images, masks = {}, {}
    for index, split in enumerate(SPLITS):
        n = SIZES[split]
        images[split] = UniformNoise().sample(n, size, split, generator(seed, index, IMAGES))
        masks[split] = masking(n, size, size, generator=generator(seed, index, MASKS))
    test_masks = {"": masks["test"]}
    for k, (name, kind) in enumerate(EVAL_MASKINGS.items()):
        test_masks[name] = kind(
            SIZES["test"], size, size, generator=generator(seed, 2, EVAL_MASKS, k)
        )
    return images, masks, test_masks


@torch.no_grad()
def evaluate(model: torch.nn.Module, images: torch.Tensor, masks: torch.Tensor) -> float:
    model.eval()
    mse = float(masked_mse(model(images, masks), images, masks))
    model.train()
    return mse


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="checkpoints' folder (default: a temporary one)"
    )
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    images, masks, test_masks = splits(args.seed)
    model = InpaintingViT(image_size=4, **MODEL)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4, fused=True)
    train_images, train_masks = images["train"], masks["train"]
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        best, best_state = float("inf"), None
        start = time.perf_counter()
        for epoch in range(args.epochs):
            order = torch.randperm(
                len(train_images), generator=generator(args.seed, 0, ORDER, epoch)
            )
            x_all, m_all = train_images[order], train_masks[order]
            for first in range(0, len(x_all), args.batch_size):
                x = x_all[first : first + args.batch_size]
                m = m_all[first : first + args.batch_size]
                loss = masked_mse(model(x, m), x, m)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            val = evaluate(model, images["val"], masks["val"])
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
            }
            torch.save(state, out / "last.pt")
            if val < best:
                best, best_state = val, copy.deepcopy(model.state_dict())
                torch.save(state, out / "best.pt")
        model.load_state_dict(best_state)
        results = {"val/mse": best}
        for name, test in test_masks.items():
            results[f"test/{name}/mse" if name else "test/mse"] = evaluate(
                model, images["test"], test
            )
        seconds = time.perf_counter() - start
    print(
        f"plain loop: {args.epochs} epochs in {seconds:.1f} s; "
        + ", ".join(f"{k} {v:.5f}" for k, v in results.items())
    )
    return results


if __name__ == "__main__":
    main()
