"""The LightningModule of `task=classify`: whole images to class probabilities.

    batch  = (images (B, H, W) in [0, 1], labels (B,) int64)
    logits = ViTClassifier(images)             # the shared encoder, mean-pooled, a linear head
    loss   = cross-entropy

Logged per split: `acc` (top-1 accuracy) and `nll` (mean cross-entropy, nats), both torchmetrics,
beside the baselines scored on the same images (`acc_logreg`, `nll_svm`, `acc_bayes`, ...), and
at test time the confusion matrix as a picture. As with InpaintingModule, everything needed to
rebuild the module is in its hyperparameters: `ClassificationModule.load_from_checkpoint(path)`.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from vit_inpaint.config.choices import FINETUNE
from vit_inpaint.models import build_classifier
from vit_inpaint.tasks.base import TaskModule
from vit_inpaint.tasks.finetune import freeze_for

log = logging.getLogger(__name__)


class ClassificationMetrics(torch.nn.Module):
    """Accuracy, NLL and the confusion matrix of one split (torchmetrics: summed over DDP)."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.acc = MulticlassAccuracy(num_classes, average="micro")
        self.nll = MeanMetric()
        self.confusion = MulticlassConfusionMatrix(num_classes)
        self.updated = False

    @torch.no_grad()
    def update(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        self.acc.update(logits, labels)
        self.nll.update(F.cross_entropy(logits.float(), labels, reduction="none"))
        self.confusion.update(logits, labels)
        self.updated = True

    def compute(self) -> dict[str, torch.Tensor]:
        return {"acc": self.acc.compute(), "nll": self.nll.compute()}

    def reset(self) -> None:
        for metric in (self.acc, self.nll, self.confusion):
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
    ):
        """model: the encoder's settings (conf/model/vit.yaml); optimizer: build_optimizer's;
        class_names: for the confusion matrix (default "0", "1", ...); finetune: which weights
        train, full | linear_probe (the head only) | last_block (the last block, norm, head);
        augment_shift: move each training image by up to this many pixels (task.augment_shift)."""
        super().__init__(optimizer)
        self.save_hyperparameters(logger=False)
        if finetune not in FINETUNE:
            raise ValueError(f"finetune must be one of {FINETUNE}, got {finetune!r}")
        self.model = build_classifier(num_classes, **(model or {}))
        freeze_for(self.model, finetune)
        self.augment_shift = augment_shift
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
        )

    def describe(self) -> str:
        return "a classifier"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    def training_loss(self, batch) -> torch.Tensor:
        images, labels = batch
        if self.augment_shift:
            images = random_shift(images, self.augment_shift)
        return F.cross_entropy(self(images), labels)

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

    def _log_metrics(self, prefix: str, metrics: ClassificationMetrics, picture: bool) -> None:
        if not metrics.updated:
            return
        values = {f"{prefix}{name}": value for name, value in metrics.compute().items()}
        confusion = metrics.confusion.compute().cpu().numpy()
        metrics.reset()
        self.log_split(prefix, values)
        experiment = getattr(self.logger, "experiment", None)
        if picture and self.trainer.is_global_zero and hasattr(experiment, "add_image"):
            from vit_inpaint.viz.confusion import confusion_picture

            acc = float(values[f"{prefix}acc"])
            title = f"{prefix}confusion matrix (accuracy {acc:.4f})"
            image = confusion_picture(confusion, self.class_names, title)
            experiment.add_image(
                f"{prefix}confusion_matrix", image, self.global_step, dataformats="HWC"
            )

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (B, C) of (B, H, W) float images in [0, 1]."""
        if images.dim() != 3:
            raise ValueError(f"images must be (B, H, W), got {tuple(images.shape)}")
        size = self.model.image_size
        if images.shape[-2:] != (size, size):
            raise ValueError(
                f"this model classifies {size}x{size} images, got {tuple(images.shape[-2:])}"
            )
        with self.inference():
            logits = self.model(images.to(device=self.device, dtype=torch.float32))
            return logits.float().softmax(dim=-1)


def random_shift(images: torch.Tensor, most: int) -> torch.Tensor:
    """Each image (B, H, W) moved by its own random offset of -most..most pixels in each
    direction, the uncovered border filled with 0: a digit drawn a pixel off-centre is the same
    digit, which 1077 training images cannot teach on their own. (0 is the digits' background;
    on data whose background is not 0 the border would be a cue.) Draws from torch's global
    generator, which the run's seed sets."""
    b, h, w = images.shape
    padded = F.pad(images, (most, most, most, most))
    offsets = torch.randint(0, 2 * most + 1, (2, b), device=images.device)
    rows = offsets[0][:, None] + torch.arange(h, device=images.device)  # (B, H)
    cols = offsets[1][:, None] + torch.arange(w, device=images.device)  # (B, W)
    batch = torch.arange(b, device=images.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]
