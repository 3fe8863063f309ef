"""Masks users have: holes, missing pixels and scratches at any position, not on the patch grid.

    holes    HolesMasking     rectangles with sides in [min_size, max_size], anywhere, by count
                              or until a coverage drawn from [coverage_min, coverage_max] is hidden
    dropout  DropoutMasking   each pixel hidden on its own, with a probability drawn per image
    strokes  StrokesMasking   thin straight scratches of width in [min_width, max_width], anywhere,
                              until a coverage drawn per image is hidden
    mixed    MixedMasking     each image draws one of the above (a general-purpose inpainter)

Like the report's masks (masking.py) they are drawn for a whole batch at once from a seeded
generator, so an epoch's masks depend only on the seed and the epoch. Each image keeps at least one
hidden and one visible pixel, so the loss over hidden pixels is always defined.
`coverage(masks)` is the share of hidden pixels per image (logged as */coverage).
As there, each strategy is the schema of its conf/masking/*.yaml and checks its fields when built;
`Holes`, `Dropout` and `Strokes` are the kinds without a name, as masking=mixed holds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# Filling up to a coverage: at most this many passes (halving what is missing each time, a few
# dozen reach any coverage; the bound only stops a loop that could not).
MAX_PASSES = 10_000


def _uniform(batch: int, low: float, high: float, generator) -> torch.Tensor:
    import torch

    return low + (high - low) * torch.rand(batch, generator=generator)


def _integers(batch: int, low: int, high: int, generator) -> torch.Tensor:
    import torch

    return torch.randint(low, high + 1, (batch,), generator=generator)


def _keep_one_of_each(masks: torch.Tensor, generator) -> torch.Tensor:
    """Hides one random pixel of an image with none hidden and shows one of an image with all
    hidden: every image then has a loss to compute and a context to compute it from."""
    import torch

    batch, height, width = masks.shape
    flat = masks.reshape(batch, -1).clone()
    pick = torch.randint(0, height * width, (batch,), generator=generator)
    rows = torch.arange(batch)
    none = ~flat.any(1)
    every = flat.all(1)
    flat[rows[none], pick[none]] = True
    flat[rows[every], pick[every]] = False
    return flat.view(batch, height, width)


def _check_range(name: str, low: float, high: float, lowest: float, highest: float) -> None:
    if not lowest <= low <= high <= highest:
        raise ValueError(
            f"masking.{name} must satisfy {lowest} <= min <= max <= {highest}, got [{low}, {high}]"
        )


def _fill_to_coverage(paint, batch: int, height: int, width: int, target, generator, area):
    """Paints shapes (paint(masks, which, at_once, generator) adds `at_once` shapes to each image
    `which` of `masks`) until each image's hidden share reaches its target. Far from the target,
    several shapes are added at once (at most half the pixels still missing, by the shapes' mean
    `area`), so a large image fills in a few dozen passes; near it, one at a time, so a mask
    passes its target by one shape at most."""
    import torch

    masks = torch.zeros(batch, height, width, dtype=torch.bool)
    for _ in range(MAX_PASSES):
        missing = (target - coverage(masks)) * height * width  # (B,) pixels still to hide
        short = (missing > 0).nonzero().squeeze(1)
        if len(short) == 0:
            break
        at_once = max(1, int(float(missing[short].max()) / (2 * area)))
        paint(masks, short, at_once, generator)
    return masks


def coverage(masks: torch.Tensor) -> torch.Tensor:
    """(B,) share of hidden pixels of each mask."""
    return masks.flatten(1).float().mean(1)


@dataclass(frozen=True)
class Holes:
    """Rectangular holes, sides drawn in [min_size, max_size] (each side on its own), anywhere
    inside the image; `count` holes (a [min, max] range) when given, else enough holes to hide a
    coverage drawn uniformly from [coverage_min, coverage_max]. (masking=mixed's `holes`; the
    masking=holes of its own is HolesMasking, with its name.)"""

    min_size: int = 2
    max_size: int = 8
    count: tuple[int, int] | None = None
    coverage_min: float = 0.02
    coverage_max: float = 0.5

    def __post_init__(self) -> None:
        if self.min_size < 1 or self.min_size > self.max_size:
            raise ValueError(
                f"masking.min_size and max_size must satisfy 1 <= min_size <= max_size, got "
                f"{self.min_size}, {self.max_size}"
            )
        if self.count is not None:
            object.__setattr__(self, "count", tuple(self.count))  # a config gives a list
            if len(self.count) != 2 or not 1 <= self.count[0] <= self.count[1]:
                raise ValueError(
                    f"masking.count must be [min, max] with 1 <= min <= max, got {list(self.count)}"
                )
        else:
            _check_range(
                "coverage_min/coverage_max", self.coverage_min, self.coverage_max, 0.0, 0.95
            )

    def _paint(self, masks: torch.Tensor, which: torch.Tensor, at_once: int, generator) -> None:
        """Hides `at_once` more holes in each image `which` of `masks`, in place: only the
        holes' own pixels are written (n holes cost n x side^2, not n x H x W)."""
        import torch

        _, height, width = masks.shape
        n = len(which) * at_once
        hi = min(self.max_size, height, width)
        lo = min(self.min_size, hi)
        h = _integers(n, lo, hi, generator)
        w = _integers(n, lo, hi, generator)
        top = (torch.rand(n, generator=generator) * (height - h + 1)).long()
        left = (torch.rand(n, generator=generator) * (width - w + 1)).long()
        span = torch.arange(hi)
        inside = (span < h[:, None])[:, :, None] & (span < w[:, None])[:, None, :]  # (n, hi, hi)
        image = which.repeat(at_once)[:, None, None].expand(n, hi, hi)
        rows = (top[:, None] + span)[:, :, None].expand(n, hi, hi)
        cols = (left[:, None] + span)[:, None, :].expand(n, hi, hi)
        masks[image[inside], rows[inside], cols[inside]] = True

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        import torch

        if self.count is not None:
            counts = _integers(batch, int(self.count[0]), int(self.count[1]), generator)
            masks = torch.zeros(batch, height, width, dtype=torch.bool)
            for k in range(int(self.count[1])):
                self._paint(masks, (k < counts).nonzero().squeeze(1), 1, generator)
        else:
            target = _uniform(batch, self.coverage_min, self.coverage_max, generator)
            side = (min(self.min_size, height, width) + min(self.max_size, height, width)) / 2
            masks = _fill_to_coverage(
                self._paint, batch, height, width, target, generator, area=side * side
            )
        return _keep_one_of_each(masks, generator)

    def hidden_count(self, height: int, width: int) -> int:
        return 1  # at least one pixel hidden and one visible: see _keep_one_of_each


@dataclass(frozen=True)
class Dropout:
    """Each pixel hidden independently with probability p, p drawn per image from [p_min, p_max]."""

    p_min: float = 0.05
    p_max: float = 0.5

    def __post_init__(self) -> None:
        _check_range("p_min/p_max", self.p_min, self.p_max, 0.0, 0.95)

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        import torch

        p = _uniform(batch, self.p_min, self.p_max, generator)
        masks = torch.rand(batch, height, width, generator=generator) < p[:, None, None]
        return _keep_one_of_each(masks, generator)

    def hidden_count(self, height: int, width: int) -> int:
        return 1


@dataclass(frozen=True)
class Strokes:
    """Thin straight scratches: segments between two random points of the image (a little past
    its border, so strokes cross it), pixels within half the width of the segment hidden; widths
    drawn from [min_width, max_width], strokes added until a coverage drawn per image."""

    min_width: float = 1.0
    max_width: float = 3.0
    coverage_min: float = 0.02
    coverage_max: float = 0.3

    def __post_init__(self) -> None:
        if not 0 < self.min_width <= self.max_width:
            raise ValueError(
                f"masking.min_width and max_width must satisfy 0 < min <= max, got "
                f"{self.min_width}, {self.max_width}"
            )
        _check_range("coverage_min/coverage_max", self.coverage_min, self.coverage_max, 0.0, 0.95)

    def _one_stroke(self, batch: int, height: int, width: int, generator) -> torch.Tensor:
        import torch

        def point():
            y = _uniform(batch, -0.25 * height, 1.25 * height, generator)
            x = _uniform(batch, -0.25 * width, 1.25 * width, generator)
            return y, x

        (y0, x0), (y1, x1) = point(), point()
        half = _uniform(batch, self.min_width, self.max_width, generator) / 2
        ys = torch.arange(height, dtype=torch.float32)[None, :, None] + 0.5
        xs = torch.arange(width, dtype=torch.float32)[None, None, :] + 0.5
        dy, dx = (y1 - y0)[:, None, None], (x1 - x0)[:, None, None]
        length2 = (dy * dy + dx * dx).clamp_min(1e-6)
        # Distance of each pixel centre to the segment: project, clamp to its ends.
        t = (((ys - y0[:, None, None]) * dy + (xs - x0[:, None, None]) * dx) / length2).clamp(0, 1)
        dist2 = (ys - y0[:, None, None] - t * dy) ** 2 + (xs - x0[:, None, None] - t * dx) ** 2
        return dist2 <= (half**2)[:, None, None]

    def _paint(self, masks: torch.Tensor, which: torch.Tensor, at_once: int, generator) -> None:
        """Draws `at_once` more strokes into each image `which` of `masks`, in place."""
        _, height, width = masks.shape
        for _ in range(at_once):
            masks[which] |= self._one_stroke(len(which), height, width, generator)

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        target = _uniform(batch, self.coverage_min, self.coverage_max, generator)
        # A stroke crosses about the image's side at the mean width.
        area = (self.min_width + self.max_width) / 2 * max(height, width)
        masks = _fill_to_coverage(self._paint, batch, height, width, target, generator, area)
        return _keep_one_of_each(masks, generator)

    def hidden_count(self, height: int, width: int) -> int:
        return 1


# masking=holes|dropout|strokes: the kinds above under their name (conf/masking/<name>.yaml).
@dataclass(frozen=True)
class HolesMasking(Holes):
    name: str = "holes"


@dataclass(frozen=True)
class DropoutMasking(Dropout):
    name: str = "dropout"


@dataclass(frozen=True)
class StrokesMasking(Strokes):
    name: str = "strokes"


@dataclass(frozen=True)
class MixedMasking:
    """Each image draws one kind of mask, in proportion to `weights` (holes, dropout, strokes)."""

    holes: Holes = Holes()
    dropout: Dropout = Dropout()
    strokes: Strokes = Strokes()
    weights: tuple[float, float, float] = (0.5, 0.25, 0.25)
    name: str = "mixed"

    def __post_init__(self) -> None:
        weights = tuple(float(w) for w in self.weights)  # a config gives a list
        object.__setattr__(self, "weights", weights)
        if len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"masking.weights must be 3 non-negative numbers, got {list(weights)}")

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        import torch

        kinds = (self.holes, self.dropout, self.strokes)
        which = torch.multinomial(
            torch.tensor(self.weights, dtype=torch.float),
            batch,
            replacement=True,
            generator=generator,
        )
        masks = torch.zeros(batch, height, width, dtype=torch.bool)
        for index, kind in enumerate(kinds):
            chosen = (which == index).nonzero().squeeze(1)
            if len(chosen):
                masks[chosen] = kind(len(chosen), height, width, generator)
        return masks

    def hidden_count(self, height: int, width: int) -> int:
        return 1


def mixed_masking(**params) -> MixedMasking:
    """masking=mixed from its config, whose kinds arrive as plain mappings."""
    parts = {"holes": Holes, "dropout": Dropout, "strokes": Strokes}
    for part, kind in parts.items():
        if part in params:
            params[part] = kind(**dict(params[part]))
    return MixedMasking(**params)
