"""Images and masks, made in memory and served as whole-tensor batches.

`InpaintingDataModule` asks an image source (`data/sources.py`) for the training, validation and
test images, each split from its own seed stream, and draws each image's mask once, as the report
did (`fresh_masks=True` draws new training masks every epoch, `fresh_images=True` new training
images: an endless supply for synthetic data, new crops for photos). A batch is a pair
    images (B, H, W) float in [0, 1]-ish, masks (B, H, W) bool, True = hidden
sliced straight out of those tensors: no Dataset, no per-sample collation, no worker processes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import lightning as L
import numpy as np
import torch

from vit_inpaint.data.masking import EVAL_MASKINGS, TEST_SETS, build_masking

SPLITS = ("train", "val", "test")


def stream_seed(*keys: int) -> int:
    """An independent 63-bit seed for each tuple of keys (seed, split, purpose, epoch, ...)."""
    return int(np.random.SeedSequence(list(keys)).generate_state(2, dtype=np.uint64)[0] >> 1)


def generator(*keys: int) -> torch.Generator:
    return torch.Generator().manual_seed(stream_seed(*keys))


# Purposes of a seed stream within a split.
_IMAGES, _MASKS, _ORDER, _FRESH_MASKS, _FRESH_IMAGES, _EVAL_MASKS = range(6)


class TensorBatches:
    """An epoch of (images, masks) batches cut from in-memory tensors.

    Lightning takes any sized iterable as a dataloader. Shuffling permutes the whole split once per
    epoch, after which every batch is a zero-copy slice. The order and the fresh masks of epoch e
    depend on (seed, e) alone, so a run resumed at epoch e sees the batches it would have seen.
    `fresh_images` / `fresh_masks`, when given, make epoch e's images / masks.

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
            order = torch.randperm(len(images), generator=generator(self.seed, _ORDER, epoch))
            images, masks = images[order], masks[order]
        if self.num_shards > 1:
            per_shard = len(images) // self.num_shards
            keep = slice(self.shard, per_shard * self.num_shards, self.num_shards)
            images, masks = images[keep], masks[keep]
        for start in range(0, len(images), self.batch_size):
            yield images[start : start + self.batch_size], masks[start : start + self.batch_size]


class InpaintingDataModule(L.LightningDataModule):
    """Synthesised (or cropped) images with their masks, for the train, val and test splits."""

    def __init__(
        self,
        images,
        masking,
        image_size: int = 4,
        num_train: int = 5000,
        num_val: int = 1000,
        num_test: int = 1000,
        batch_size: int = 64,
        eval_batch_size: int = 1000,
        seed: int = 0,
        fresh_masks: bool = False,
        fresh_images: bool = False,
    ):
        super().__init__()
        self.source = images
        self.masking = masking
        self.image_size = image_size
        self.sizes = {"train": num_train, "val": num_val, "test": num_test}
        self.batch_size = batch_size
        # Evaluation has no optimizer step to amortise: bigger batches only cut per-step overhead.
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        self.fresh_masks = fresh_masks
        self.fresh_images = fresh_images
        self.images: dict[str, torch.Tensor] = {}
        self.masks: dict[str, torch.Tensor] = {}
        # The test images under several masks: "" = the run's own masks (self.masks["test"]),
        # then every kind in EVAL_MASKINGS, so each model is scored on every kind of hole.
        self.test_masks: dict[str, torch.Tensor] = {}

    def setup(self, stage: str | None = None) -> None:
        """Makes every split once; later calls (Lightning calls this per stage) reuse them."""
        if self.images:
            return
        for index, split in enumerate(SPLITS):
            n, size = self.sizes[split], self.image_size
            self.images[split] = self.source.sample(
                n, size, split=split, generator=generator(self.seed, index, _IMAGES)
            )
            self.masks[split] = self.masking(
                n, size, size, generator=generator(self.seed, index, _MASKS)
            )
        n, test = self.sizes["test"], SPLITS.index("test")
        self.test_masks[""] = self.masks["test"]
        for k, (name, masking) in enumerate(EVAL_MASKINGS.items()):
            eval_seed = generator(self.seed, test, _EVAL_MASKS, k)
            self.test_masks[name] = masking(n, size, size, generator=eval_seed)

    @property
    def train_mean(self) -> float:
        """Mean training pixel: the best constant prediction, the yardstick of `nmse`."""
        self.setup()
        return float(self.images["train"].mean())

    def _epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer is not None else 0

    def _fresh_train_masks(self, epoch: int) -> torch.Tensor:
        n, size = self.sizes["train"], self.image_size
        return self.masking(n, size, size, generator=generator(self.seed, 0, _FRESH_MASKS, epoch))

    def _fresh_train_images(self, epoch: int) -> torch.Tensor:
        if epoch == 0:  # epoch 0 uses the training set made in setup (and behind train_mean)
            return self.images["train"]
        gen = generator(self.seed, 0, _FRESH_IMAGES, epoch)
        return self.source.sample(
            self.sizes["train"], self.image_size, split="train", generator=gen
        )

    def train_dataloader(self) -> TensorBatches:
        return TensorBatches(
            self.images["train"],
            self.masks["train"],
            self.batch_size,
            seed=self.seed,
            shuffle=True,
            fresh_images=self._fresh_train_images if self.fresh_images else None,
            fresh_masks=self._fresh_train_masks if self.fresh_masks else None,
            epoch=self._epoch,
            # One shard per DDP process; validation and test are not sharded: every process
            # scores the whole split, and torchmetrics' cross-process means stay the same.
            shard=self.trainer.global_rank if self.trainer is not None else 0,
            num_shards=self.trainer.world_size if self.trainer is not None else 1,
        )

    def val_dataloader(self) -> TensorBatches:
        return TensorBatches(self.images["val"], self.masks["val"], self.eval_batch_size)

    def test_dataloader(self) -> list[TensorBatches]:
        """One loader per test set, in the order of TEST_SETS (the module names them by index)."""
        images = self.images["test"]
        return [
            TensorBatches(images, self.test_masks[name], self.eval_batch_size) for name in TEST_SETS
        ]


def build_datamodule(cfg):
    """The data module a composed config describes: `cfg.data` (with its image source under
    `data.images`) and the masking strategy `cfg.masking`; with `task=classify` the labelled
    twin (data/labelled.py), from the same `cfg.data`, without masks. Training, the report and
    the tests all build their data here."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    if OmegaConf.select(cfg, "task.name", default="inpaint") == "classify":
        data = OmegaConf.to_container(cfg.data, resolve=True)
        data["_target_"] = "vit_inpaint.data.labelled.LabelledDataModule"
        return instantiate(data)
    data = cfg.data
    if "labels_per_class" in data:  # data=digits: a classification setting, not the module's
        data = OmegaConf.to_container(data, resolve=True)
        del data["labels_per_class"]
    masking = build_masking(**cfg.masking)
    # _partial_: the masking object is passed as it is (instantiate would turn it into a config).
    return instantiate(data, _partial_=True)(masking=masking)
