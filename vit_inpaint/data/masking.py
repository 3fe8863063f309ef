"""Which pixels are hidden: boolean masks (B, H, W), True = hidden (MAE's convention).

The report tried two strategies (section 8): one hidden pixel, then one hidden 2x2 patch. Both are
`BlockMasking` squares; the mask is drawn for a whole batch at once from a seeded generator, with no
per-sample Python.

    pixel     BlockMasking(size=1)                one random pixel
    patch2x2  BlockMasking(size=2, aligned=True)  one 2x2 patch of the 2x2 patch grid (the report's)
    block2x2  BlockMasking(size=2, aligned=False) a 2x2 window at any offset, straddling patches
    random_pixels  RandomMasking(ratio)           round(ratio * H * W) pixels chosen at random
    patches   PatchMasking(ratio, size)           round(ratio * cells) whole size x size grid
                                                  cells: MAE's random masking (model=mae)

Each strategy is also the schema of its conf/masking/*.yaml (vit_inpaint/launch/schema.py): its
fields are the config's keys, and it checks them when built (`__post_init__`). What depends on
the image size, `hidden_count`, says how many pixels a strategy hides, so a configuration that
hides everything or nothing is refused before any data is made (launch/validate.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads when a mask is drawn: checking a config stays instant
    import torch


@dataclass(frozen=True)
class BlockMasking:
    """Hides one size x size square per image, on the grid of that size when `aligned`."""

    size: int = 2
    aligned: bool = True
    name: str = "block"

    def __post_init__(self) -> None:
        _check_square_name(self)

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        import torch

        s = self.size
        if self.aligned:
            top = torch.randint(0, height // s, (batch,), generator=generator) * s
            left = torch.randint(0, width // s, (batch,), generator=generator) * s
        else:
            top = torch.randint(0, height - s + 1, (batch,), generator=generator)
            left = torch.randint(0, width - s + 1, (batch,), generator=generator)
        rows = torch.arange(height)
        cols = torch.arange(width)
        in_rows = (rows >= top[:, None]) & (rows < top[:, None] + s)  # (B, H)
        in_cols = (cols >= left[:, None]) & (cols < left[:, None] + s)  # (B, W)
        return in_rows[:, :, None] & in_cols[:, None, :]

    def hidden_count(self, height: int, width: int) -> int:
        if self.size < 1 or self.size > min(height, width):
            raise ValueError(
                f"masking.size={self.size} does not fit a {height}x{width} image "
                f"(it must be between 1 and {min(height, width)})"
            )
        return self.size * self.size


@dataclass(frozen=True)
class RandomMasking:
    """Hides round(ratio * H * W) pixels per image, chosen uniformly without replacement."""

    ratio: float = 0.25
    name: str = "random_pixels"

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        import torch

        n = height * width
        k = self.hidden_count(height, width)
        # The k smallest of n uniform scores are a uniform k-subset: one sort, no Python loop.
        ranks = torch.rand(batch, n, generator=generator).argsort(dim=1).argsort(dim=1)
        return (ranks < k).view(batch, height, width)

    def hidden_count(self, height: int, width: int) -> int:
        return round(self.ratio * height * width)


@dataclass(frozen=True)
class GridHoles:
    """Hides `count` distinct size x size holes per image, on the grid of that size (the inpaint
    tool's `--holes N`). Holes are drawn without replacement among the grid cells that lie wholly
    inside the image, so they never overlap and always hide count * size * size pixels."""

    count: int = 1
    size: int = 2
    name: str = "grid_holes"

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        import torch

        self.hidden_count(height, width)  # refuses a count that does not fit
        s, rows, cols = self.size, height // self.size, width // self.size
        # The `count` smallest of uniform scores are a uniform subset of the cells, per image.
        ranks = torch.rand(batch, rows * cols, generator=generator).argsort(1).argsort(1)
        cells = (ranks < self.count).view(batch, rows, cols)
        mask = torch.zeros(batch, height, width, dtype=torch.bool)
        mask[:, : rows * s, : cols * s] = cells.repeat_interleave(s, 1).repeat_interleave(s, 2)
        return mask

    def max_count(self, height: int, width: int) -> int:
        """How many holes fit with at least one pixel left visible."""
        cells = (height // self.size) * (width // self.size)
        return cells - 1 if cells * self.size**2 == height * width else cells

    def hidden_count(self, height: int, width: int) -> int:
        if self.count < 1:
            raise ValueError(f"the number of holes must be at least 1, got {self.count}")
        limit = self.max_count(height, width)
        if self.count > limit:
            raise ValueError(
                f"{self.count} holes do not fit: a {height}x{width} image has room for at most "
                f"{limit} distinct {self.size}x{self.size} holes on the {self.size}x{self.size} "
                "grid (with at least one pixel left visible)"
            )
        return self.count * self.size**2


@dataclass(frozen=True)
class PatchMasking:
    """Hides round(ratio * cells) of the size x size grid cells of each image, chosen uniformly:
    MAE's random masking, at 75% in its paper. With size = model.patch_size every patch is
    either wholly hidden or wholly visible, which model=mae needs."""

    ratio: float = 0.75
    size: int = 2
    name: str = "patches"

    def __post_init__(self) -> None:
        if not 0.0 < self.ratio < 1.0:
            raise ValueError(f"masking.ratio must be between 0 and 1 (exclusive), got {self.ratio}")

    def cells(self, height: int, width: int) -> int:
        return (height // self.size) * (width // self.size)

    def __call__(self, batch: int, height: int, width: int, generator=None) -> torch.Tensor:
        count = round(self.ratio * self.cells(height, width))
        return GridHoles(count=count, size=self.size)(batch, height, width, generator)

    def hidden_count(self, height: int, width: int) -> int:
        if self.size < 1 or height % self.size or width % self.size:
            raise ValueError(
                f"masking.size={self.size} must divide the {height}x{width} image into whole cells"
            )
        return round(self.ratio * self.cells(height, width)) * self.size**2


def hides_whole_patches(masking, patch_size: int) -> bool:
    """Whether every patch of `patch_size` is either wholly hidden or wholly visible under this
    strategy, whatever the draw (what model=mae needs: its encoder drops hidden patches)."""
    if isinstance(masking, (PatchMasking, GridHoles)):
        return masking.size % patch_size == 0
    if isinstance(masking, BlockMasking):
        return masking.aligned and masking.size % patch_size == 0
    return False


def check_masking(masking, height: int, width: int) -> None:
    """Refuses a strategy that hides no pixel or every pixel of a height x width image."""
    k = masking.hidden_count(height, width)
    if not 0 < k < height * width:
        raise ValueError(
            f"masking {masking.name!r} hides {k} of {height * width} pixels of a {height}x{width} "
            "image: at least one pixel must be hidden and at least one visible"
        )


# What a BlockMasking name says: pixel, patch<s>x<s> (aligned), block<s>x<s> (any offset).
_SQUARE_NAME = re.compile(r"(?P<kind>patch|block)(?P<rows>\d+)x(?P<cols>\d+)")


def _check_square_name(masking: BlockMasking) -> None:
    """Refuses a BlockMasking whose settings contradict its name: `masking=patch2x2
    masking.size=3` would train on 3x3 squares and label every metric and report row `patch2x2`.
    A name that describes no square (block, ...) says nothing to check.
    """
    if masking.name == "pixel":
        if masking.size != 1:
            raise ValueError(
                f"masking.size={masking.size} contradicts masking.name=pixel (one pixel, size 1): "
                f"name the square it hides, e.g. masking.name=patch{masking.size}x{masking.size}"
            )
        return
    match = _SQUARE_NAME.fullmatch(masking.name)
    if match is None:
        return
    rows, cols, patch = int(match["rows"]), int(match["cols"]), match["kind"] == "patch"
    if rows != cols or masking.size != rows:
        s = masking.size
        raise ValueError(
            f"masking.size={s} contradicts masking.name={masking.name}: set "
            f"masking.name={match['kind']}{s}x{s} with it, or leave masking.size at {rows}"
        )
    if masking.aligned != patch:
        other = "block" if patch else "patch"
        raise ValueError(
            f"masking.aligned={str(masking.aligned).lower()} contradicts "
            f"masking.name={masking.name} ({match['kind']}: "
            f"{'aligned to the grid' if patch else 'at any offset'}): use "
            f"masking={other}{rows}x{rows}, or set masking.name={other}{rows}x{rows} with it"
        )


# masking.name -> "module:callable" that builds it from its config's fields; a name not listed
# is a BlockMasking square (pixel, patch<s>x<s>, block<s>x<s>, or a name of the user's own).
# Adding a masking: its class, conf/masking/<name>.yaml (and its schema in launch/schema.py), and
# one line here.
MASKINGS: dict[str, str] = {
    "patches": "vit_inpaint.data.masking:PatchMasking",
    "random_pixels": "vit_inpaint.data.masking:RandomMasking",
    "holes": "vit_inpaint.data.free_masks:HolesMasking",
    "dropout": "vit_inpaint.data.free_masks:DropoutMasking",
    "strokes": "vit_inpaint.data.free_masks:StrokesMasking",
    "mixed": "vit_inpaint.data.free_masks:mixed_masking",
}


def build_masking(name: str, **params):
    """A masking strategy from its config (conf/masking/<name>.yaml), looked up in MASKINGS."""
    from vit_inpaint.config.lazy import resolve

    params.pop("_target_", None)
    if name in MASKINGS:
        return resolve(MASKINGS[name])(name=name, **params)
    return BlockMasking(name=name, **params)


# The masks every model is evaluated on at test time, whatever it was trained with.
EVAL_MASKINGS = {
    "pixel": BlockMasking(size=1, name="pixel"),
    "patch2x2": BlockMasking(size=2, aligned=True, name="patch2x2"),
    "block2x2": BlockMasking(size=2, aligned=False, name="block2x2"),
}

# Test sets in the order the data module serves them: the run's own masks, then each kind above.
TEST_SETS = ("", *EVAL_MASKINGS)


def test_prefix(name: str) -> str:
    """How the metrics of a test set are logged: test/<metric> for the run's own masks (""),
    test/<mask>/<metric> for each kind of mask."""
    return f"test/{name}/" if name else "test/"
