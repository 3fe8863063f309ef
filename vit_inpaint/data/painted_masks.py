"""Masks as people paint them over a photograph: blobs (round spots dabbed on) and brush scribbles
(a wavy line of a few pixels' width), drawn until a coverage, like free_masks.py's kinds.

    blobs   BlobsMasking   disks of radius in [min_radius, max_radius], anywhere
    brush   BrushMasking   wavy scribbles of width in [min_width, max_width]: a path of short
                           steps whose heading turns a little at each, crossing the image

Drawn for a whole batch from a seeded generator; each image keeps at least one hidden and one
visible pixel (free_masks.py says why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vit_inpaint.data.free_masks import _check_range, _fill_to_coverage, _keep_one_of_each


def _stamp_segment(mask, y0: float, x0: float, y1: float, x1: float, half: float) -> None:
    """Hides, in place, the pixels of (H, W) `mask` whose centre lies within `half` of the
    segment (y0, x0)-(y1, x1), looking only at the segment's bounding box."""
    import torch

    height, width = mask.shape
    top = max(int(math.floor(min(y0, y1) - half)), 0)
    bottom = min(int(math.ceil(max(y0, y1) + half)) + 1, height)
    left = max(int(math.floor(min(x0, x1) - half)), 0)
    right = min(int(math.ceil(max(x0, x1) + half)) + 1, width)
    if top >= bottom or left >= right:
        return
    ys = torch.arange(top, bottom, dtype=torch.float32)[:, None] + 0.5
    xs = torch.arange(left, right, dtype=torch.float32)[None, :] + 0.5
    dy, dx = y1 - y0, x1 - x0
    t = (((ys - y0) * dy + (xs - x0) * dx) / max(dy * dy + dx * dx, 1e-6)).clamp(0, 1)
    near = (ys - y0 - t * dy) ** 2 + (xs - x0 - t * dx) ** 2 <= half * half
    mask[top:bottom, left:right] |= near


@dataclass(frozen=True)
class Blobs:
    """Disks of radius drawn in [min_radius, max_radius], centres anywhere in the image, added
    until a coverage drawn from [coverage_min, coverage_max]."""

    min_radius: float = 3.0
    max_radius: float = 12.0
    coverage_min: float = 0.02
    coverage_max: float = 0.3

    def __post_init__(self) -> None:
        _check_range("min_radius/max_radius", self.min_radius, self.max_radius, 0.5, 1e6)
        _check_range("coverage_min/coverage_max", self.coverage_min, self.coverage_max, 0.0, 0.95)

    def _paint(self, masks, which, at_once: int, generator) -> None:
        import torch

        _, height, width = masks.shape
        for image in which.tolist():
            draws = torch.rand(at_once, 3, generator=generator).tolist()
            for u, v, w in draws:
                radius = self.min_radius + (self.max_radius - self.min_radius) * w
                y, x = u * height, v * width
                _stamp_segment(masks[image], y, x, y, x, radius)

    def __call__(self, batch: int, height: int, width: int, generator=None):
        import torch

        target = self.coverage_min + (self.coverage_max - self.coverage_min) * torch.rand(
            batch, generator=generator
        )
        radius = (self.min_radius + self.max_radius) / 2
        masks = _fill_to_coverage(
            self._paint, batch, height, width, target, generator, area=math.pi * radius**2
        )
        return _keep_one_of_each(masks, generator)


@dataclass(frozen=True)
class Brush:
    """Wavy scribbles: from a random point, `steps` steps of about a fifteenth of the image's
    side, the heading turning by up to `turn` radians (uniformly) at each; pixels within half
    the width (drawn in [min_width, max_width] per scribble) of the path are hidden."""

    min_width: float = 3.0
    max_width: float = 6.0
    coverage_min: float = 0.02
    coverage_max: float = 0.3
    steps: int = 16
    turn: float = 0.8

    def __post_init__(self) -> None:
        _check_range("min_width/max_width", self.min_width, self.max_width, 0.5, 1e6)
        _check_range("coverage_min/coverage_max", self.coverage_min, self.coverage_max, 0.0, 0.95)

    def _paint(self, masks, which, at_once: int, generator) -> None:
        import torch

        _, height, width = masks.shape
        step = max(height, width) / 15
        for image in which.tolist():
            for _ in range(at_once):
                start = torch.rand(4, generator=generator).tolist()
                y, x = start[0] * height, start[1] * width
                heading = 2 * math.pi * start[2]
                half = (self.min_width + (self.max_width - self.min_width) * start[3]) / 2
                turns = ((torch.rand(self.steps, generator=generator) * 2 - 1) * self.turn).tolist()
                for turn in turns:
                    heading += turn
                    ny, nx = y + step * math.sin(heading), x + step * math.cos(heading)
                    _stamp_segment(masks[image], y, x, ny, nx, half)
                    y, x = ny, nx

    def __call__(self, batch: int, height: int, width: int, generator=None):
        import torch

        target = self.coverage_min + (self.coverage_max - self.coverage_min) * torch.rand(
            batch, generator=generator
        )
        area = (self.min_width + self.max_width) / 2 * self.steps * max(height, width) / 15
        masks = _fill_to_coverage(self._paint, batch, height, width, target, generator, area)
        return _keep_one_of_each(masks, generator)
