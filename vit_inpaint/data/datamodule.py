"""Images and masks for `task=inpaint`, made in memory and served as whole-tensor batches.

`InpaintingDataModule` asks an image source (`data/sources.py`) for the training, validation and
test images, each split from its own seed stream (the splits' skeleton: data/splits.py), and
draws each image's mask once, as the report did (`fresh_masks=True` draws new training masks every
epoch, `fresh_images=True` new training images: an endless supply for synthetic data, new crops
for photos). A batch is a pair
    images (B, H, W) float in [0, 1]-ish, masks (B, H, W) bool, True = hidden
sliced straight out of those tensors.
"""

from __future__ import annotations

import torch
from hydra.utils import instantiate

from vit_inpaint.data.masking import EVAL_MASKINGS, TEST_SETS, build_masking
from vit_inpaint.data.seeds import EVAL_MASKS, FRESH_IMAGES, FRESH_MASKS, IMAGES, MASKS
from vit_inpaint.data.settings import DataConfig, data_config
from vit_inpaint.data.splits import SPLITS, SplitsDataModule, TensorBatches


class InpaintingDataModule(SplitsDataModule):
    """Synthesised (or cropped) images with their masks, for the train, val and test splits."""

    def __init__(self, data: DataConfig, masking):
        """data: the config group `data` (data/settings.py data_config); masking: the masking
        strategy that draws each image's mask (data/masking.py)."""
        super().__init__(data)
        self.masking = masking
        self.fresh_masks = data.fresh_masks
        self.masks: dict[str, torch.Tensor] = {}
        # The test images under several masks: "" = the run's own masks (self.masks["test"]),
        # then every kind in EVAL_MASKINGS, so each model is scored on every kind of hole.
        self.test_masks: dict[str, torch.Tensor] = {}

    def setup(self, stage: str | None = None) -> None:
        """Makes every split once; later calls (Lightning calls this per stage) reuse them."""
        if self.images:
            return
        size = self.image_size
        for split in SPLITS:
            n = self.sizes[split]
            self.images[split] = self.source.sample(
                n, size, split=split, generator=self._generator(split, IMAGES)
            )
            self.masks[split] = self.masking(n, size, size, generator=self._generator(split, MASKS))
        n = self.sizes["test"]
        self.test_masks[""] = self.masks["test"]
        for k, (name, masking) in enumerate(EVAL_MASKINGS.items()):
            eval_seed = self._generator("test", EVAL_MASKS, k)
            self.test_masks[name] = masking(n, size, size, generator=eval_seed)

    @property
    def train_mean(self) -> float:
        """Mean training pixel: the best constant prediction, the yardstick of `nmse`."""
        self.setup()
        return float(self.images["train"].mean())

    def _fresh_train_masks(self, epoch: int) -> torch.Tensor:
        n, size = self.sizes["train"], self.image_size
        return self.masking(n, size, size, generator=self._generator("train", FRESH_MASKS, epoch))

    def _fresh_train_images(self, epoch: int) -> torch.Tensor:
        if epoch == 0:  # epoch 0 uses the training set made in setup (and behind train_mean)
            return self.images["train"]
        gen = self._generator("train", FRESH_IMAGES, epoch)
        return self.source.sample(
            self.sizes["train"], self.image_size, split="train", generator=gen
        )

    def train_dataloader(self) -> TensorBatches:
        return self._train_batches(
            self.masks["train"],
            fresh_images=self._fresh_train_images if self.fresh_images else None,
            fresh_second=self._fresh_train_masks if self.fresh_masks else None,
        )

    def val_dataloader(self) -> TensorBatches:
        return TensorBatches(self.images["val"], self.masks["val"], self.eval_batch_size)

    def test_dataloader(self) -> list[TensorBatches]:
        """One loader per test set, in the order of TEST_SETS (the module names them by index)."""
        images = self.images["test"]
        return [
            TensorBatches(images, self.test_masks[name], self.eval_batch_size) for name in TEST_SETS
        ]


def build_inpainting_data(cfg) -> InpaintingDataModule:
    """The data module a composed config describes: `cfg.data` (with its image source under
    `data.images`) and the masking strategy `cfg.masking`. Training (tasks/registry.py), the
    report and the tests build their data here."""
    data = data_config(cfg.data, images=instantiate(cfg.data.images))
    return InpaintingDataModule(data, build_masking(**cfg.masking))
