"""How good a reconstruction is, measured on hidden pixels only, accumulated with torchmetrics.

    mse            mean squared error over all hidden pixels of the split
    nmse           mse / mse of filling every hidden pixel with the training-set mean
                   (1.0 = nothing learned beyond a constant; below 1 = the context was used)
    psnr           10 log10(1 / mse), peak 1.0
    rate_perfect   share of images whose hidden-pixel RMSE is <= perfect (0.05)
    rate_acceptable                                      in (perfect, acceptable] (0.15]
    rate_failed                                          > acceptable
    coverage       share of each image's pixels that are hidden, averaged (what the mask took)
The three rates are the report's "parfaites / acceptables / échouées" (section 11), per image.
"""

from __future__ import annotations

import torch
from torch import nn
from torchmetrics import MeanMetric, MeanSquaredError
from torchmetrics.image import PeakSignalNoiseRatio


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the pixels where mask is True."""
    weight = mask.to(pred.dtype)
    return ((pred - target).square() * weight).sum() / weight.sum()


# hidden_over_prior_mse's floor on an image's prior error: a nearly flat image, which the prior
# fills almost exactly, weighs at most as much as one whose prior is 1% off in every pixel.
PRIOR_ERROR_FLOOR = 1e-4


def hidden_over_prior_mse(pred, prior, target, mask) -> torch.Tensor:
    """loss_pixels=hidden_over_prior: the mean over images of (hidden-pixel MSE of pred) /
    (hidden-pixel MSE of the prior fill + PRIOR_ERROR_FLOOR); images with no hidden pixel are
    left out. 1 per image where the model only repeats its prior."""
    weight = mask.to(pred.dtype).flatten(1)
    count = weight.sum(1)
    model_error = ((pred - target).square().flatten(1) * weight).sum(1)
    prior_error = ((prior - target).square().flatten(1) * weight).sum(1)
    scored = count > 0
    ratio = model_error[scored] / (prior_error[scored] + PRIOR_ERROR_FLOOR * count[scored])
    return ratio.mean()


def per_image_rmse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B,) root mean squared error over each image's hidden pixels."""
    weight = mask.to(pred.dtype)
    squared = ((pred - target).square() * weight).flatten(1).sum(1)
    return (squared / weight.flatten(1).sum(1)).sqrt()


class InpaintingMetrics(nn.Module):
    """The metrics of one split; call `update` per batch, `compute` once, then `reset`.

    Under DDP each torchmetrics state is summed over the processes in `compute`.
    """

    def __init__(self, train_mean: float, perfect: float = 0.05, acceptable: float = 0.15):
        super().__init__()
        if not 0 < perfect < acceptable:
            raise ValueError(
                "rate thresholds must satisfy 0 < perfect < acceptable, "
                f"got {perfect}, {acceptable}"
            )
        self.train_mean = train_mean
        self.perfect, self.acceptable = perfect, acceptable
        self.mse = MeanSquaredError()
        self.mse_mean_fill = MeanSquaredError()
        self.psnr = PeakSignalNoiseRatio(data_range=1.0)
        self.rate_perfect = MeanMetric()
        self.rate_acceptable = MeanMetric()
        self.rate_failed = MeanMetric()
        self.coverage = MeanMetric()

    @torch.no_grad()
    def update(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> None:
        hidden_pred, hidden_target = pred[mask], target[mask]
        self.mse.update(hidden_pred, hidden_target)
        self.psnr.update(hidden_pred, hidden_target)
        self.mse_mean_fill.update(torch.full_like(hidden_target, self.train_mean), hidden_target)
        rmse = per_image_rmse(pred, target, mask)
        perfect = rmse <= self.perfect
        failed = rmse > self.acceptable
        self.rate_perfect.update(perfect.float())
        self.rate_failed.update(failed.float())
        self.rate_acceptable.update((~perfect & ~failed).float())
        self.coverage.update(mask.flatten(1).float().mean(1))

    def compute(self) -> dict[str, torch.Tensor]:
        mse = self.mse.compute()
        mean_fill = self.mse_mean_fill.compute()
        return {
            "mse": mse,
            "nmse": mse / mean_fill,
            "psnr": self.psnr.compute(),
            "rate_perfect": self.rate_perfect.compute(),
            "rate_acceptable": self.rate_acceptable.compute(),
            "rate_failed": self.rate_failed.compute(),
            "mse_mean_fill": mean_fill,
            "coverage": self.coverage.compute(),
        }

    @property
    def updated(self) -> bool:
        return self.mse.update_called

    def reset(self) -> None:
        for metric in self.children():
            metric.reset()
