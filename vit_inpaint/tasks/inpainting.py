"""The LightningModule of `task=inpaint`: one batch from data to loss, validation/test metrics and
inference (what every task shares: tasks/base.py).

    batch = (images (B, H, W), masks (B, H, W) bool, True = hidden)
    pred  = InpaintingViT(images, masks)       # hidden values never reach the model
    loss  = MSE over hidden pixels             # or over all pixels with loss_pixels="all", or
                                               # relative to the prior's: "hidden_over_prior"

Everything the module needs is stored in its hyperparameters as plain values, so
`InpaintingModule.load_from_checkpoint(path)` rebuilds it without Hydra.
"""

from __future__ import annotations

import logging

import torch
from omegaconf import OmegaConf
from torch import nn

from vit_inpaint.config.choices import LOSS_PIXELS
from vit_inpaint.data.augment import augment
from vit_inpaint.data.masking import TEST_SETS, test_prefix
from vit_inpaint.errors import NonFiniteLossError
from vit_inpaint.models import build_inpainter
from vit_inpaint.tasks.base import TaskModule
from vit_inpaint.tasks.finetune import freeze_for
from vit_inpaint.tasks.metrics import InpaintingMetrics, hidden_over_prior_mse, masked_mse

# NonFiniteLossError: raised by TaskModule; importable from here, as older code does.
__all__ = ["InpaintingModule", "NonFiniteLossError"]

log = logging.getLogger(__name__)

# Metrics of a fixed split that do not depend on the model: the same every epoch, so recorded
# (metrics.json) but not drawn as flat curves.
SPLIT_CONSTANTS = ("mse_mean_fill", "coverage")


def _photo_splits(cfg) -> dict | None:
    """The training and validation photographs of a data=photos run (None for other data)."""
    images = cfg.data.get("images")
    if images is None or "train" not in images:
        return None
    return {split: [str(name) for name in images[split]] for split in ("train", "val")}


class InpaintingModule(TaskModule):
    TASK = "inpaint"

    def __init__(
        self,
        model: dict | None = None,
        optimizer: dict | None = None,
        train_mean: float = 0.5,
        loss_pixels: str = "hidden",
        rate_thresholds: dict | None = None,
        masking: str | None = None,
        photos: dict | None = None,
        augment_shift: int = 0,
        augment_rotate: float = 0.0,
        augment_scale: float = 0.0,
    ):
        """model: the network's settings (conf/model/: name vit or mae, and their arguments);
        optimizer: build_optimizer's; train_mean: the mean
        training pixel (nmse's yardstick); loss_pixels: "hidden" (the task), "all" or
        "hidden_over_prior" (each image's error over its prior fill's); masking: the
        training mask's name, for the record. photos: {"train": [...],
        "val": [...]}, the photographs (data=photos) it trained and was selected on, for the
        record: the evaluation refuses to score the model on them. augment_shift,
        augment_rotate, augment_scale: training images moved, turned and scaled by up to this much
        (task.augment_*, data/augment.py; 0: off), as the digits classifier's are."""
        super().__init__(optimizer)
        # logger=False: the run logs its hyperparameters once, at the end, with its final metrics.
        self.save_hyperparameters(logger=False)
        self.model = build_inpainter(**(model or {}))
        if loss_pixels not in LOSS_PIXELS:
            raise ValueError(f"loss_pixels must be one of {LOSS_PIXELS}, got {loss_pixels!r}")
        self.loss_pixels = loss_pixels
        self.augment_settings = (augment_shift, augment_rotate, augment_scale)
        thresholds = rate_thresholds or {}
        self.val_metrics = InpaintingMetrics(train_mean, **thresholds)
        # One per test set: the run's own masks, then every kind of mask (cross-evaluation).
        self.test_metrics = nn.ModuleList(
            InpaintingMetrics(train_mean, **thresholds) for _ in TEST_SETS
        )
        # self.baselines (TaskModule's): their MSE on the same images and masks, scored once;
        # the Bayes limit's gives mse_over_bayes.

    @classmethod
    def from_config(cls, cfg, datamodule) -> InpaintingModule:
        module = cls(
            model=OmegaConf.to_container(cfg.model, resolve=True),
            optimizer=OmegaConf.to_container(cfg.optimizer, resolve=True),
            train_mean=datamodule.train_mean,
            loss_pixels=cfg.loss_pixels,
            rate_thresholds=OmegaConf.to_container(cfg.rate_thresholds, resolve=True),
            masking=cfg.masking.name,
            photos=_photo_splits(cfg),
            augment_shift=cfg.task.augment_shift,
            augment_rotate=cfg.task.augment_rotate,
            augment_scale=cfg.task.augment_scale,
        )
        if cfg.get("finetune", "full") != "full":
            freeze_for(module.model, cfg.finetune)
        return module

    def describe(self) -> str:
        return self.hparams.masking

    def on_fit_start(self) -> None:
        # Parallel jobs on one machine each want every core: the count shows when they fight.
        # Logged here, not before fit: under DDP, Lightning sets each process's threads at launch.
        log.info(
            "process %d of %d: %d torch threads",
            self.global_rank,
            self.trainer.world_size,
            torch.get_num_threads(),
        )

    def forward(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return self.model(images, masks)

    def loss(self, pred: torch.Tensor, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        if self.loss_pixels == "all":
            return (pred - images).square().mean()
        return masked_mse(pred, images, masks)

    def training_loss(self, batch) -> torch.Tensor:
        images, masks = batch
        # The masks are drawn apart from the images: a moved image keeps its draw of them.
        images = augment(images, *self.augment_settings)
        if self.loss_pixels == "hidden_over_prior":
            prior = self.model.prior_fill(images, masks)  # computed once, for both
            pred = self.model(images, masks, prior=prior)
            return hidden_over_prior_mse(pred, prior, images, masks)
        return self.loss(self(images, masks), images, masks)

    def validation_step(self, batch, batch_idx: int) -> None:
        images, masks = batch
        self.val_metrics.update(self(images, masks), images, masks)

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val/", self.val_metrics)

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        images, masks = batch
        self.test_metrics[dataloader_idx].update(self(images, masks), images, masks)

    def on_test_epoch_end(self) -> None:
        # test/mse, ... for the run's own masks; test/<mask>/mse, ... for each kind of mask.
        for name, metrics in zip(TEST_SETS, self.test_metrics, strict=True):
            if metrics.updated:
                self._log_metrics(test_prefix(name), metrics)

    def _log_metrics(self, prefix: str, metrics: InpaintingMetrics) -> None:
        values = {f"{prefix}{name}": value for name, value in metrics.compute().items()}
        metrics.reset()
        if f"{prefix}mse_bayes" in self.baselines:
            values[f"{prefix}mse_over_bayes"] = (
                values[f"{prefix}mse"] / self.baselines[f"{prefix}mse_bayes"]
            )
        self.log_split(prefix, values, constants=SPLIT_CONSTANTS)

    def inpaint(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Fills the hidden pixels of (B, H, W) images in [0, 1]; visible pixels come back as given.

        masks: (B, H, W) bool, True = hidden. The model's predictions are clipped to [0, 1].
        """
        if images.shape != masks.shape or images.dim() != 3:
            raise ValueError(
                f"images and masks must both be (B, H, W), got {tuple(images.shape)} and "
                f"{tuple(masks.shape)}"
            )
        size = self.model.image_size
        if images.shape[-2:] != (size, size):
            raise ValueError(
                f"this model inpaints {size}x{size} images, got {tuple(images.shape[-2:])}"
            )
        masks = masks.to(device=self.device, dtype=torch.bool)
        images = images.to(device=self.device, dtype=torch.float32)
        with self.inference():
            pred = self.model(images, masks).clamp(0.0, 1.0)
            return torch.where(masks, pred, images)
