"""Random moves of training images (`task.augment_shift`, `task.augment_rotate`,
`task.augment_scale`): a digit drawn a pixel off-centre, slanted or a little larger is the same
digit, which 1077 training images cannot teach on their own. The classifier trains on moved
digits (conf/experiment/digits.yaml), and an inpainter that pretrains its encoder for it sees
the same moves (conf/experiment/digits_transfer.yaml).

Uncovered pixels are filled with 0, the digits' background: on data whose background is not 0
the border would be a cue. Every draw is from torch's global generator, which the run's seed sets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def augment(images: torch.Tensor, shift: int, rotate: float, scale: float) -> torch.Tensor:
    """Each image (B, H, W) turned by up to `rotate` degrees and scaled by up to `scale` (0.1:
    0.9-1.1x), then moved by up to `shift` pixels; 0 for all three: the images as they are."""
    if rotate or scale:
        images = random_affine(images, rotate, scale)
    if shift:
        images = random_shift(images, shift)
    return images


def random_affine(images: torch.Tensor, degrees: float, scale: float) -> torch.Tensor:
    """Each image (B, H, W) turned about its centre by its own random angle in -degrees..degrees
    and scaled by its own factor in 1-scale..1+scale, resampled bilinearly, the uncovered corners
    filled with 0."""
    b = images.shape[0]
    angle = (torch.rand(b, device=images.device) * 2 - 1) * (degrees * torch.pi / 180)
    zoom = 1 + (torch.rand(b, device=images.device) * 2 - 1) * scale
    # affine_grid maps output to input coordinates: the inverse of the wanted turn and zoom.
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta.to(images.dtype), (b, 1, *images.shape[1:]), align_corners=False)
    moved = F.grid_sample(images[:, None], grid, mode="bilinear", align_corners=False)
    return moved[:, 0]


def random_shift(images: torch.Tensor, most: int) -> torch.Tensor:
    """Each image (B, H, W) moved by its own random offset of -most..most pixels in each
    direction, the uncovered border filled with 0."""
    b, h, w = images.shape
    padded = F.pad(images, (most, most, most, most))
    offsets = torch.randint(0, 2 * most + 1, (2, b), device=images.device)
    rows = offsets[0][:, None] + torch.arange(h, device=images.device)  # (B, H)
    cols = offsets[1][:, None] + torch.arange(w, device=images.device)  # (B, W)
    batch = torch.arange(b, device=images.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]
