"""What every task's data module shares: an image source made into train, val and test splits in
memory, each from its own seed stream, served as whole-tensor batches (no Dataset, no per-sample
collation, no worker processes).

A task's data module (datamodule.py: images and masks; labelled.py: images and labels) subclasses
`SplitsDataModule`, draws its splits in `setup` and pairs each split's images with its second
tensor; a batch is (images (B, H, W), that tensor's (B, ...) rows).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import lightning as L
import torch

from vit_inpaint.data.seeds import ORDER, generator
from vit_inpaint.data.settings import DataConfig

SPLITS = ("train", "val", "test")


class TensorBatches:
    """An epoch of (images, second) batches cut from in-memory tensors (second: the masks, or the
    labels).

    Lightning takes any sized iterable as a dataloader. Shuffling permutes the whole split once per
    epoch, after which every batch is a zero-copy slice. The order and the fresh masks of epoch e
    depend on (seed, e) alone, so a run resumed at epoch e sees the batches it would have seen;
    the order's stream is keyed by (seed, split, ORDER, e) like every stream in data/seeds.py.
    `fresh_images` / `fresh_masks`, when given, make epoch e's images / second tensor.

    Under DDP (`num_shards` processes), every process draws the same permutation and keeps the
    slice `rank::num_shards` of it, cut to an equal length: each sample is seen by one process
    per epoch, and every process takes the same number of steps (one with fewer would hang the
    others at the gradient all-reduce).
    """

    def __init__(
        self,
        images: torch.Tensor,
        masks: torch.Tensor,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = False,
        split: int = 0,
        fresh_images: Callable[[int], torch.Tensor] | None = None,
        fresh_masks: Callable[[int], torch.Tensor] | None = None,
        epoch: Callable[[], int] = lambda: 0,
        shard: int = 0,
        num_shards: int = 1,
    ):
        if not 0 <= shard < num_shards:
            raise ValueError(f"shard must be in [0, {num_shards}), got {shard}")
        self.images, self.masks = images, masks
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.split = split
        self.fresh_images = fresh_images
        self.fresh_masks = fresh_masks
        self.epoch = epoch
        self.shard, self.num_shards = shard, num_shards

    def __len__(self) -> int:
        return math.ceil(len(self.images) // self.num_shards / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch = self.epoch()
        images = self.images if self.fresh_images is None else self.fresh_images(epoch)
        masks = self.masks if self.fresh_masks is None else self.fresh_masks(epoch)
        if self.shuffle:
            order = torch.randperm(len(images), generator=self.order_stream(epoch))
            images, masks = images[order], masks[order]
        if self.num_shards > 1:
            per_shard = len(images) // self.num_shards
            keep = slice(self.shard, per_shard * self.num_shards, self.num_shards)
            images, masks = images[keep], masks[keep]
        for start in range(0, len(images), self.batch_size):
            yield images[start : start + self.batch_size], masks[start : start + self.batch_size]

    def order_stream(self, epoch: int) -> torch.Generator:
        """Epoch `epoch`'s shuffle: its own stream, never one a split's images or masks use."""
        return generator(self.seed, self.split, ORDER, epoch)


class SplitsDataModule(L.LightningDataModule):
    """The splits of an image source; a subclass draws them (`setup`) and serves them."""

    def __init__(self, data: DataConfig):
        """data: the config group `data` (data/settings.py, its checks run), its `images` the
        image source itself (data_config)."""
        super().__init__()
        self.data = data
        self.source = data.images
        self.image_size = data.image_size
        self.sizes = {"train": data.num_train, "val": data.num_val, "test": data.num_test}
        self.batch_size = data.batch_size
        # Evaluation has no optimizer step to amortise: bigger batches only cut per-step overhead.
        self.eval_batch_size = data.eval_batch_size
        self.seed = data.seed
        self.fresh_images = data.fresh_images
        self.images: dict[str, torch.Tensor] = {}

    def _epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer is not None else 0

    def _generator(self, split: str, purpose: int, *keys: int) -> torch.Generator:
        """The seed stream of one purpose (data/seeds.py) within one split."""
        return generator(self.seed, SPLITS.index(split), purpose, *keys)

    def _train_batches(
        self,
        second: torch.Tensor,
        fresh_images: Callable[[int], torch.Tensor] | None = None,
        fresh_second: Callable[[int], torch.Tensor] | None = None,
    ) -> TensorBatches:
        """The training split, shuffled each epoch, with `second` (or each epoch's fresh ones)."""
        return TensorBatches(
            self.images["train"],
            second,
            self.batch_size,
            seed=self.seed,
            shuffle=True,
            split=SPLITS.index("train"),
            fresh_images=fresh_images,
            fresh_masks=fresh_second,
            epoch=self._epoch,
            # One shard per DDP process; validation and test are not sharded: every process
            # scores the whole split, and torchmetrics' cross-process means stay the same.
            shard=self.trainer.global_rank if self.trainer is not None else 0,
            num_shards=self.trainer.world_size if self.trainer is not None else 1,
        )
