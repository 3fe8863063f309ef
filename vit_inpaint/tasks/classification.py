"""The LightningModule of `task=classify`: whole images to class probabilities.

    batch  = (images (B, H, W) in [0, 1], labels (B,) int64)
    logits = ViTClassifier(images)             # the shared encoder, mean-pooled, a linear head
    loss   = cross-entropy

Logged per split: `acc` (top-1 accuracy), `nll` (mean cross-entropy, nats) and `ece` (expected
calibration error, 15 bins), all torchmetrics, and the same after temperature scaling
(tasks/calibration.py): `val/temperature`, fitted on the validation split after each
validation epoch, and `nll_calibrated`, `ece_calibrated` with it (on the test split, with the
temperature saved in the checkpoint tested), beside the baselines scored on the same images
(`acc_logreg`, `nll_svm`, `acc_bayes`, ...), and at test time the confusion matrix as a picture.
As with InpaintingModule, everything needed to rebuild the module is in its hyperparameters (and
the temperature in the checkpoint): `ClassificationModule.load_from_checkpoint(path)`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torchmetrics import CatMetric, MeanMetric
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassCalibrationError,
    MulticlassConfusionMatrix,
)

from vit_inpaint.config.choices import FINETUNE
from vit_inpaint.data.augment import augment
from vit_inpaint.models import build_classifier
from vit_inpaint.storage.atomic import write_atomic
from vit_inpaint.tasks.base import TaskModule
from vit_inpaint.tasks.calibration import fit_temperature, reliability_bins
from vit_inpaint.tasks.checkpoints import check_temperature
from vit_inpaint.tasks.finetune import freeze_for

log = logging.getLogger(__name__)


# Bins of the expected calibration error (torchmetrics' default; Guo et al. use 15 too).
ECE_BINS = 15
# In the run's folder after testing: the reliability diagram's counts (tasks/calibration.py).
RELIABILITY_FILE = "reliability.json"


class ClassificationMetrics(torch.nn.Module):
    """Accuracy, NLL, calibration error and the confusion matrix of one split (torchmetrics:
    summed over DDP), and the split's logits and labels, which temperature scaling refits on."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.acc = MulticlassAccuracy(num_classes, average="micro")
        self.nll = MeanMetric()
        self.ece = MulticlassCalibrationError(num_classes, n_bins=ECE_BINS)
        self.confusion = MulticlassConfusionMatrix(num_classes)
        # A few thousand logits at most (360 digits, 1000 Gaussian fields): kept to fit on.
        self.logits = CatMetric()
        self.labels = CatMetric()
        self.updated = False

    @torch.no_grad()
    def update(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        logits = logits.float()
        self.acc.update(logits, labels)
        self.nll.update(F.cross_entropy(logits, labels, reduction="none"))
        self.ece.update(logits.softmax(dim=-1), labels)
        self.confusion.update(logits, labels)
        self.logits.update(logits)
        self.labels.update(labels)
        self.updated = True

    def compute(self, temperature: float | None = None) -> dict[str, torch.Tensor]:
        """acc, nll, ece; with a temperature (None: fitted on these very images), also
        temperature, nll_calibrated and ece_calibrated."""
        values = {"acc": self.acc.compute(), "nll": self.nll.compute(), "ece": self.ece.compute()}
        logits, labels = self.logits.compute(), self.labels.compute().long()
        if temperature is None:
            temperature = fit_temperature(logits, labels)
        scaled = logits / temperature
        ece = MulticlassCalibrationError(logits.shape[-1], n_bins=ECE_BINS).to(logits.device)
        values["temperature"] = torch.tensor(temperature, device=logits.device)
        values["nll_calibrated"] = F.cross_entropy(scaled, labels)
        values["ece_calibrated"] = ece(scaled.softmax(dim=-1), labels)
        return values

    def reset(self) -> None:
        for metric in (self.acc, self.nll, self.ece, self.confusion, self.logits, self.labels):
            metric.reset()
        self.updated = False


class ClassificationModule(TaskModule):
    TASK = "classify"

    def __init__(
        self,
        model: dict | None = None,
        optimizer: dict | None = None,
        num_classes: int = 10,
        class_names: list[str] | None = None,
        finetune: str = "full",
        augment_shift: int = 0,
        augment_rotate: float = 0.0,
        augment_scale: float = 0.0,
        label_smoothing: float = 0.0,
    ):
        """model: the encoder's settings (conf/model/vit.yaml); optimizer: build_optimizer's;
        class_names: for the confusion matrix (default "0", "1", ...); finetune: which weights
        train, full | linear_probe (the head only) | last_block (the last block, norm, head);
        augment_shift: move each training image by up to this many pixels (task.augment_shift);
        augment_rotate, augment_scale: turn each training image by up to this many degrees and
        scale it by up to this fraction (task.augment_rotate, task.augment_scale; 0: off);
        label_smoothing: of the training loss's targets (task.label_smoothing)."""
        super().__init__(optimizer)
        self.save_hyperparameters(logger=False)
        if finetune not in FINETUNE:
            raise ValueError(f"finetune must be one of {FINETUNE}, got {finetune!r}")
        self.model = build_classifier(num_classes, **(model or {}))
        freeze_for(self.model, finetune)
        if finetune == "linear_probe":
            self.model.add_probe_norm()
        self.augment_shift = augment_shift
        self.augment_rotate = augment_rotate
        self.augment_scale = augment_scale
        self.label_smoothing = label_smoothing
        # Temperature scaling's T (tasks/calibration.py), refitted on each validation epoch
        # and saved in every checkpoint, so the checkpoint tested brings the T fitted with it.
        self.temperature = 1.0
        self.class_names = list(class_names or [str(c) for c in range(num_classes)])
        self.val_metrics = ClassificationMetrics(num_classes)
        self.test_metrics = ClassificationMetrics(num_classes)
        # self.baselines (TaskModule's): val/acc_<name>, test/nll_<name>, ...

    @classmethod
    def from_config(cls, cfg, datamodule) -> ClassificationModule:
        return cls(
            model=OmegaConf.to_container(cfg.model, resolve=True),
            optimizer=OmegaConf.to_container(cfg.optimizer, resolve=True),
            num_classes=datamodule.num_classes,
            class_names=datamodule.class_names,
            finetune=cfg.finetune,
            augment_shift=cfg.task.augment_shift,
            augment_rotate=cfg.task.augment_rotate,
            augment_scale=cfg.task.augment_scale,
            label_smoothing=cfg.task.label_smoothing,
        )

    def describe(self) -> str:
        return "a classifier"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    def training_loss(self, batch) -> torch.Tensor:
        images, labels = batch
        images = augment(images, self.augment_shift, self.augment_rotate, self.augment_scale)
        return F.cross_entropy(self(images), labels, label_smoothing=self.label_smoothing)

    def validation_step(self, batch, batch_idx: int) -> None:
        images, labels = batch
        self.val_metrics.update(self(images), labels)

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val/", self.val_metrics, picture=False)

    def test_step(self, batch, batch_idx: int) -> None:
        images, labels = batch
        self.test_metrics.update(self(images), labels)

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test/", self.test_metrics, picture=True)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["temperature"] = self.temperature

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        # 1.0 (no scaling) for a checkpoint written before temperature scaling.
        # Lightning's own loading (ckpt_path=) comes here without read_checkpoint: checked again.
        self.temperature = check_temperature(checkpoint.get("temperature", 1.0), "checkpoint")
        # A linear probe written before its BatchNorm existed loads without one.
        self.model.fit_probe_norm(k.removeprefix("model.") for k in checkpoint["state_dict"])

    def _log_metrics(self, prefix: str, metrics: ClassificationMetrics, picture: bool) -> None:
        if not metrics.updated:
            return
        # Validation fits the temperature on its own images; the test split is scored with the
        # temperature of the checkpoint under test, fitted on the validation split.
        fitted = metrics.compute(None if prefix == "val/" else self.temperature)
        if prefix == "val/":
            self.temperature = float(fitted["temperature"])
        elif self.trainer.is_global_zero:
            self._write_reliability(metrics)
        values = {f"{prefix}{name}": value for name, value in fitted.items()}
        confusion = metrics.confusion.compute().cpu().numpy()
        metrics.reset()
        self.log_split(prefix, values)
        if picture:  # drawn for TensorBoard by viz/confusion.py's callback once the test ends
            acc = float(values[f"{prefix}acc"])
            self.test_confusion = (confusion, f"{prefix}confusion matrix (accuracy {acc:.4f})")

    def _write_reliability(self, metrics: ClassificationMetrics) -> None:
        """reliability.json in the run's folder: the test split's reliability-diagram counts,
        raw and with the temperature (the sweep report's reliability.png pools them)."""
        logits, labels = metrics.logits.compute(), metrics.labels.compute().long()
        record = {
            "split": "test",
            "temperature": self.temperature,
            "raw": reliability_bins(logits.softmax(dim=-1), labels, ECE_BINS),
            "calibrated": reliability_bins(
                (logits / self.temperature).softmax(dim=-1), labels, ECE_BINS
            ),
        }
        folder = Path(self.trainer.default_root_dir)
        write_atomic(folder / RELIABILITY_FILE, json.dumps(record, indent=1) + "\n")

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (B, C) of (B, H, W) float images in [0, 1], temperature-scaled
        with the checkpoint's `temperature` (fitted on the validation split)."""
        if images.dim() != 3:
            raise ValueError(f"images must be (B, H, W), got {tuple(images.shape)}")
        size = self.model.image_size
        if images.shape[-2:] != (size, size):
            raise ValueError(
                f"this model classifies {size}x{size} images, got {tuple(images.shape[-2:])}"
            )
        with self.inference():
            logits = self.model(images.to(device=self.device, dtype=torch.float32))
            return (logits.float() / self.temperature).softmax(dim=-1)
