"""Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one number T
that divides every logit, fitted on held-out images by minimising their NLL.

    probabilities = softmax(logits / T)

T > 1 softens over-confident probabilities, T < 1 sharpens timid ones; the predicted class (the
argmax) never changes, so accuracy is untouched and only the NLL and the calibration error move.
task=classify fits T on the validation split after each validation epoch (`val/temperature`) and
scores the test split with the T of the checkpoint it tests (`test/nll_calibrated`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# T is searched as log T in this range: T from about 0.05 to 20, far beyond any fitted value here.
LOG_T_RANGE = 3.0


@torch.no_grad()
def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The T > 0 that minimises the mean NLL of softmax(logits / T) on (logits (N, C), labels (N,)).

    The NLL is convex in 1/T, so a one-dimensional search is exact: golden-section search on log T
    (no learning rate to tune, no gradient, deterministic), in float64. With no images it is 1.
    """
    if not isinstance(logits, torch.Tensor) or logits.numel() == 0:
        return 1.0  # no images (torchmetrics gives a list), or none with finite logits
    logits, labels = logits.double(), labels.long()

    def nll(log_t: float) -> float:
        return F.cross_entropy(logits / torch.exp(torch.tensor(log_t, dtype=torch.float64)),
                               labels).item()  # fmt: skip

    ratio = (5**0.5 - 1) / 2
    low, high = -LOG_T_RANGE, LOG_T_RANGE
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = nll(a), nll(b)
    for _ in range(60):  # the interval shrinks by 0.618 a step: 6 x 0.618**60, about 1e-12
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = nll(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = nll(b)
    return float(torch.exp(torch.tensor((low + high) / 2)).item())


def reliability_bins(probabilities: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> dict:
    """The reliability diagram's counts: for each of `bins` equal-width bins of the top-class
    confidence, how many images fall in it, the sum of their confidences and how many are right
    (the binning of torchmetrics' CalibrationError). Sums, so that seeds pool by adding them."""
    confidence, predicted = probabilities.float().max(dim=1)
    which = torch.clamp((confidence * bins).long(), max=bins - 1).cpu()
    correct = (predicted == labels).double().cpu()
    return {
        "count": torch.bincount(which, minlength=bins).tolist(),
        "confidence_sum": torch.bincount(which, confidence.double().cpu(), bins).tolist(),
        "correct_sum": torch.bincount(which, correct, bins).tolist(),
    }


def reliability_points(pooled: dict) -> list[tuple[float, float, float]]:
    """(mean confidence, accuracy, share of the images) of each non-empty bin of
    reliability_bins' counts (or their sum over runs)."""
    total = sum(pooled["count"]) or 1
    return [
        (conf / n, right / n, n / total)
        for n, conf, right in zip(
            pooled["count"], pooled["confidence_sum"], pooled["correct_sum"], strict=True
        )
        if n
    ]
