"""Labelled images for `task=classify`, made in memory and served as whole-tensor batches.

The classification twin of `InpaintingDataModule` (datamodule.py; what both share:
data/splits.py), from the same config group `data`: the image source must say each image's class,
with
    sample_labelled(n, size, split, generator) -> images (n, size, size), labels (n,) int64
    class_names() -> list[str]
(`Digits`, and `GaussianField`, whose class is the index of an image's lengthscale). A batch is
    images (B, H, W) float in [0, 1]-ish, labels (B,) int64
Each split is drawn from the same seed stream the inpainting module uses for its images, so a
Gaussian-field run makes the same images for either task.
"""

from __future__ import annotations

import torch
from hydra.utils import instantiate

from vit_inpaint.data.seeds import FRESH_IMAGES, IMAGES
from vit_inpaint.data.settings import DataConfig, check_labels_per_class, data_config
from vit_inpaint.data.splits import SPLITS, SplitsDataModule, TensorBatches
from vit_inpaint.errors import ConfigError


class LabelledDataModule(SplitsDataModule):
    """The train, val and test splits of a labelled image source."""

    def __init__(self, data: DataConfig, labels_per_class: int | None = None):
        """data: the config group `data` (data/settings.py data_config); its fresh_masks is
        ignored, classification hides nothing. labels_per_class: keep only this many training
        images of each class (None: all)."""
        images = data.images
        if not hasattr(images, "sample_labelled"):
            raise ValueError(
                f"task=classify needs labelled images; data.images {type(images).__name__} has "
                "none (use data=digits or data=gaussian_field)"
            )
        check_labels_per_class(labels_per_class, data.fresh_images)
        super().__init__(data)
        self.labels_per_class = labels_per_class
        self.class_names = list(images.class_names())
        self.labels: dict[str, torch.Tensor] = {}
        self._fresh: tuple[int, torch.Tensor, torch.Tensor] | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def setup(self, stage: str | None = None) -> None:
        if self.images:
            return
        for split in SPLITS:
            images, labels = self.source.sample_labelled(
                self.sizes[split],
                self.image_size,
                split=split,
                generator=self._generator(split, IMAGES),
            )
            self.images[split], self.labels[split] = images, labels
        if self.labels_per_class is not None:
            self.images["train"], self.labels["train"] = keep_per_class(
                self.images["train"], self.labels["train"], self.labels_per_class
            )

    def _fresh_pair(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Epoch `epoch`'s training images and labels, made once (TensorBatches asks for the
        images, then the labels, of the same epoch)."""
        if epoch == 0:
            return self.images["train"], self.labels["train"]
        if self._fresh is None or self._fresh[0] != epoch:
            gen = self._generator("train", FRESH_IMAGES, epoch)
            pair = self.source.sample_labelled(
                self.sizes["train"], self.image_size, split="train", generator=gen
            )
            self._fresh = (epoch, *pair)
        return self._fresh[1], self._fresh[2]

    def train_dataloader(self) -> TensorBatches:
        # TensorBatches slices its second tensor like the first: the labels travel as "masks".
        return self._train_batches(
            self.labels["train"],
            fresh_images=(lambda e: self._fresh_pair(e)[0]) if self.fresh_images else None,
            fresh_second=(lambda e: self._fresh_pair(e)[1]) if self.fresh_images else None,
        )

    def val_dataloader(self) -> TensorBatches:
        return TensorBatches(self.images["val"], self.labels["val"], self.eval_batch_size)

    def test_dataloader(self) -> TensorBatches:
        return TensorBatches(self.images["test"], self.labels["test"], self.eval_batch_size)


def keep_per_class(
    images: torch.Tensor, labels: torch.Tensor, per_class: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `per_class` images of each class (the split is already in random order)."""
    keep = torch.zeros(len(labels), dtype=torch.bool)
    for label in labels.unique():
        where = (labels == label).nonzero().squeeze(1)
        if len(where) < per_class:
            # The up-front check (data/settings.py) knows the most a class can hold, not how many
            # this draw of the training split gave the smallest class.
            raise ConfigError(
                f"data.labels_per_class={per_class} is more than this training split holds: "
                f"class {int(label)} has {len(where)} of its {len(labels)} images; lower "
                "data.labels_per_class or raise data.num_train"
            )
        keep[where[:per_class]] = True
    return images[keep], labels[keep]


def build_labelled_data(cfg) -> LabelledDataModule:
    """The labelled data module of `cfg.data` (the same data configs as inpainting), for
    tasks/registry.py."""
    data = data_config(cfg.data, images=instantiate(cfg.data.images))
    return LabelledDataModule(data, labels_per_class=cfg.data.get("labels_per_class"))
