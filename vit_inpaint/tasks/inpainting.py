"""The LightningModule: one batch from data to loss, plus validation/test metrics and inference.

    batch = (images (B, H, W), masks (B, H, W) bool, True = hidden)
    pred  = InpaintingViT(images, masks)       # hidden values never reach the model
    loss  = MSE over hidden pixels             # or over all pixels with loss_pixels="all"

Everything the module needs is stored in its hyperparameters as plain values, so
`InpaintingModule.load_from_checkpoint(path)` rebuilds it without Hydra.
"""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import torch
from torch import nn

from vit_inpaint.config.choices import LOSS_PIXELS
from vit_inpaint.data.masking import TEST_SETS, test_prefix
from vit_inpaint.evaluation.metrics import InpaintingMetrics, masked_mse
from vit_inpaint.models import build_inpainter
from vit_inpaint.storage.checkpoints import SafeLoading
from vit_inpaint.tasks.optim import configure_optimizers

log = logging.getLogger(__name__)


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class InpaintingModule(SafeLoading, L.LightningModule):
    def __init__(
        self,
        model: dict | None = None,
        optimizer: dict | None = None,
        train_mean: float = 0.5,
        loss_pixels: str = "hidden",
        rate_thresholds: dict | None = None,
        masking: str | None = None,
        loss_on_visible: bool | None = None,
    ):
        """model: the network's settings (conf/model/: name vit or mae, and their arguments);
        optimizer: build_optimizer's; train_mean: the mean
        training pixel (nmse's yardstick); loss_pixels: "hidden" (the task) or "all"; masking: the
        training mask's name, for the record. loss_on_visible: the old name of loss_pixels="all",
        kept so that checkpoints written before the rename still load."""
        super().__init__()
        # logger=False: the run logs its hyperparameters once, at the end, with its final metrics.
        self.save_hyperparameters(logger=False)
        self.model = build_inpainter(**(model or {}))
        self.optimizer_config = dict(optimizer or {"name": "adam", "lr": 5e-4})
        if loss_on_visible is not None:
            loss_pixels = "all" if loss_on_visible else "hidden"
        if loss_pixels not in LOSS_PIXELS:
            raise ValueError(f"loss_pixels must be one of {LOSS_PIXELS}, got {loss_pixels!r}")
        self.loss_pixels = loss_pixels
        thresholds = rate_thresholds or {}
        self.val_metrics = InpaintingMetrics(train_mean, **thresholds)
        # One per test set: the run's own masks, then every kind of mask (cross-evaluation).
        self.test_metrics = nn.ModuleList(
            InpaintingMetrics(train_mean, **thresholds) for _ in TEST_SETS
        )
        # Baselines' MSE on the same images and masks (set by training.train, not saved):
        # logged beside the model's metrics, and the Bayes limit gives mse_over_bayes.
        self.baselines: dict[str, float] = {}

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

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, masks = batch
        loss = self.loss(self(images, masks), images, masks)
        # Lightning writes logged values only on the steps where (global_step + 1) is a multiple
        # of log_every_n_steps (0: never); calling self.log on the other steps would cost about
        # as much as the model's forward pass at this size.
        every = self.trainer.log_every_n_steps if self._trainer is not None else 0
        logs_now = bool(every) and (self.global_step + 1) % every == 0
        # Reading the loss's value waits for the device: free on the CPU, where every step is
        # checked, a stall per step on a GPU, where only the logging steps (which wait anyway)
        # and the epoch's last batch (before its checkpoint is saved) are.
        on_cpu = loss.device.type == "cpu"
        check_now = on_cpu or self._trainer is None or logs_now or self.trainer.is_last_batch
        if check_now and not torch.isfinite(loss):
            self._stop_on_non_finite(loss, batch_idx)
        if logs_now:
            self.log("train/loss", loss, prog_bar=True)
            # The rate this step uses. (LearningRateMonitor logs the same, but as a callback it
            # is called on every step, whether or not it logs then.)
            self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"])
        return loss

    def _stop_on_non_finite(self, loss: torch.Tensor, batch_idx: int) -> None:
        # Raised before backward (on the CPU, before the first bad update; on a GPU within
        # log_every_n_steps of it): the checkpoints, saved at the end of each epoch, stay good.
        callbacks = self._trainer.checkpoint_callbacks if self._trainer is not None else []
        # The newest checkpoint any ModelCheckpoint wrote (conf/callbacks: last.ckpt, each epoch).
        saved = [p for cb in callbacks for p in (cb.last_model_path, cb.best_model_path)]
        saved = [p for p in saved if p and Path(p).is_file()]
        checkpoint = max(saved, key=lambda p: Path(p).stat().st_mtime, default="")
        raise NonFiniteLossError(
            f"train/loss is {loss.item()} at epoch {self.current_epoch}, batch {batch_idx} "
            f"(step {self.global_step}): training stopped. "
            + (f"Last good checkpoint: {checkpoint}. " if checkpoint else "No checkpoint yet. ")
            + "A lower optimizer.lr, or data without NaN or infinite pixels, usually cures it."
        )

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
        for key, value in self.baselines.items():
            if key.startswith(f"{prefix}mse_") and "/" not in key[len(prefix) :]:
                values[key] = value
        if f"{prefix}mse_bayes" in self.baselines:
            values[f"{prefix}mse_over_bayes"] = (
                values[f"{prefix}mse"] / self.baselines[f"{prefix}mse_bayes"]
            )
        # torchmetrics has already summed its states over DDP processes, so every process holds
        # the same values: sync_dist averages equal numbers (and is free without DDP).
        self.log_dict(values, sync_dist=True)

    def configure_optimizers(self):
        return configure_optimizers(self, self.optimizer_config)

    @torch.no_grad()
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
        was_training = self.training
        self.eval()
        masks = masks.to(device=self.device, dtype=torch.bool)
        images = images.to(device=self.device, dtype=torch.float32)
        pred = self.model(images, masks).clamp(0.0, 1.0)
        self.train(was_training)
        return torch.where(masks, pred, images)
