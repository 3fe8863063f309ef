"""The push-pull fill (`model.prior=pushpull`, models/prior.py).

Push-pull: average the visible pixels down a pyramid (each level halves the image, counting only
visible pixels), then come back up, filling every hidden pixel from the coarsest level that saw a
visible pixel near it; a few Laplace smoothing steps then take out the blockiness. The result is a
smooth, everywhere-defined guess, computed from the window's own visible pixels only, in a few
vectorised passes over the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SMOOTHING_STEPS = 16


def pushpull_fill(images: torch.Tensor, masks: torch.Tensor, steps: int = SMOOTHING_STEPS):
    """images (B, H, W), masks (B, H, W) bool (True = hidden) -> (B, H, W), visible pixels kept.

    Hidden values never reach the result: only visible pixels are averaged.
    """
    weight = (~masks).to(images.dtype)[:, None]  # (B, 1, H, W)
    value = images[:, None] * weight
    pyramid = [(value, weight)]
    while max(pyramid[-1][0].shape[-2:]) > 1:
        v, w = pyramid[-1]
        pyramid.append((F.avg_pool2d(v, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)))
    v, w = pyramid[-1]
    fill = v / w.clamp_min(1e-8)  # the visible mean (an all-hidden image gets 0)
    for v, w in reversed(pyramid[:-1]):
        coarse = F.interpolate(fill, size=v.shape[-2:], mode="bilinear", align_corners=False)
        seen = w.clamp(max=1.0)  # how much of this cell's area was visible
        fill = seen * (v / w.clamp_min(1e-8)) + (1.0 - seen) * coarse
    hidden = masks[:, None]
    out = torch.where(hidden, fill, images[:, None])
    # Laplace smoothing of the hidden pixels only (visible ones stay): each step replaces a hidden
    # pixel by the mean of its 4 neighbours (edges repeated). Written as sums of shifted slices:
    # a 3x3 convolution with one channel costs several times more on a CPU.
    for _ in range(steps):
        p = F.pad(out, (1, 1, 1, 1), mode="replicate")
        average = p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:]
        average = 0.25 * average
        out = torch.where(hidden, average, out)
    return out[:, 0]
