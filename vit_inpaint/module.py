"""The LightningModule: one batch from data to loss, plus validation/test metrics and inference.

    batch = (images (B, H, W), masks (B, H, W) bool, True = hidden)
    pred  = InpaintingViT(images, masks)       # hidden values never reach the model
    loss  = MSE over hidden pixels             # or over all pixels with loss_on_visible=True

Everything the module needs is stored in its hyperparameters as plain values, so
`InpaintingModule.load_from_checkpoint(path)` rebuilds it without Hydra.
"""

from __future__ import annotations

import lightning as L
import torch

from vit_inpaint.metrics import InpaintingMetrics, masked_mse
from vit_inpaint.model import InpaintingViT

OPTIMIZERS = ("adam", "adamw", "sgd")


def build_optimizer(
    params, name: str = "adam", lr: float = 5e-4, **options
) -> torch.optim.Optimizer:
    """`optimizer=adam|adamw|sgd`, fused where torch has a fused kernel for the parameters' device.

    The fused step updates all parameters in one kernel; for a model this small the default
    per-tensor step costs more time than the forward and backward passes together.
    """
    classes = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    if name not in classes:
        raise ValueError(f"optimizer.name must be one of {OPTIMIZERS}, got {name!r}")
    params = list(params)
    try:
        return classes[name](params, lr=lr, fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or dtype
        return classes[name](params, lr=lr, **options)


class InpaintingModule(L.LightningModule):
    def __init__(
        self,
        model: dict | None = None,
        optimizer: dict | None = None,
        train_mean: float = 0.5,
        loss_on_visible: bool = False,
        rate_thresholds: dict | None = None,
        masking: str | None = None,
    ):
        """model: InpaintingViT's arguments; optimizer: build_optimizer's; train_mean: the mean
        training pixel (nmse's yardstick); masking: the training mask's name, for the record."""
        super().__init__()
        # logger=False: the run logs its hyperparameters once, at the end, with its final metrics.
        self.save_hyperparameters(logger=False)
        self.model = InpaintingViT(**(model or {}))
        self.optimizer_config = dict(optimizer or {"name": "adam", "lr": 5e-4})
        self.loss_on_visible = loss_on_visible
        thresholds = rate_thresholds or {}
        self.val_metrics = InpaintingMetrics(train_mean, **thresholds)
        self.test_metrics = InpaintingMetrics(train_mean, **thresholds)

    def forward(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return self.model(images, masks)

    def loss(self, pred: torch.Tensor, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        if self.loss_on_visible:
            return (pred - images).square().mean()
        return masked_mse(pred, images, masks)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        images, masks = batch
        loss = self.loss(self(images, masks), images, masks)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        images, masks = batch
        self.val_metrics.update(self(images, masks), images, masks)

    def on_validation_epoch_end(self) -> None:
        self._log_split("val", self.val_metrics)

    def test_step(self, batch, batch_idx: int) -> None:
        images, masks = batch
        self.test_metrics.update(self(images, masks), images, masks)

    def on_test_epoch_end(self) -> None:
        self._log_split("test", self.test_metrics)

    def _log_split(self, split: str, metrics: InpaintingMetrics) -> None:
        values = metrics.compute()
        self.log_dict({f"{split}/{name}": value for name, value in values.items()})
        metrics.reset()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return build_optimizer(self.parameters(), **self.optimizer_config)

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
