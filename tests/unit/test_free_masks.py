"""Masks users have (holes, dropout, strokes, mixed): shapes, coverage ranges, reproducibility."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import compose_config
from vit_inpaint.data.free_masks import (
    DropoutMasking,
    HolesMasking,
    StrokesMasking,
    coverage,
)
from vit_inpaint.data.masking import build_masking, check_masking

KINDS = ("holes", "dropout", "strokes", "mixed")


def from_config(name: str):
    return build_masking(**OmegaConf.to_container(compose_config(f"masking={name}").masking))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("size", [8, 16, 32])
def test_every_image_keeps_a_hidden_and_a_visible_pixel(name, size):
    masking = from_config(name)
    check_masking(masking, size, size)
    masks = masking(128, size, size, gen())
    assert masks.shape == (128, size, size) and masks.dtype == torch.bool
    per_image = masks.flatten(1)
    assert per_image.any(1).all() and (~per_image).any(1).all()


@pytest.mark.parametrize("name", KINDS)
def test_masks_are_reproducible_from_the_seed(name):
    masking = from_config(name)
    assert torch.equal(masking(64, 16, 16, gen(3)), masking(64, 16, 16, gen(3)))
    assert not torch.equal(masking(64, 16, 16, gen(3)), masking(64, 16, 16, gen(4)))


def test_coverage_lands_in_the_range_asked_for():
    # Holes are added until the target is reached, so coverage can pass the target by at most
    # one hole (here 4x4 = 16 of 1024 pixels, 1.6%).
    masks = HolesMasking(4, 4, coverage_min=0.2, coverage_max=0.3)(400, 32, 32, gen())
    c = coverage(masks)
    assert c.min() >= 0.2 and c.max() <= 0.3 + 16 / 1024
    # Dropout: p drawn per image in [0.1, 0.2]; 1024 pixels give a binomial sd of at most 1.3%.
    c = coverage(DropoutMasking(0.1, 0.2)(400, 32, 32, gen()))
    assert 0.06 < c.min() and c.max() < 0.25 and 0.13 < c.mean() < 0.17


def test_holes_are_rectangles_of_the_sizes_asked_for_at_any_position():
    masks = HolesMasking(3, 3, count=(1, 1))(2000, 16, 16, gen())
    rows, cols = masks.any(2), masks.any(1)  # (B, 16): which rows / columns a hole touches
    assert (rows.sum(1) == 3).all() and (cols.sum(1) == 3).all()
    assert (masks.flatten(1).sum(1) == 9).all()
    tops = rows.float().argmax(1)
    # Not on any grid: every top row from 0 to 13 occurs.
    assert set(tops.tolist()) == set(range(14))


def test_strokes_are_thin():
    # A coverage of at most 1% is reached by the first stroke: one line per image.
    masks = StrokesMasking(1.0, 1.0, coverage_min=0.005, coverage_max=0.01)(200, 32, 32, gen())
    # A 1-pixel-wide line never hides a whole 3x3 block (a filled blob would).
    blocks = torch.nn.functional.avg_pool2d(masks.float()[:, None], 3, stride=1)
    assert (blocks < 1).all()


@pytest.mark.parametrize(
    "params",
    [
        {"name": "holes", "min_size": 0},
        {"name": "holes", "min_size": 5, "max_size": 3},
        {"name": "holes", "coverage_min": 0.5, "coverage_max": 0.2},
        {"name": "dropout", "p_min": -0.1},
        {"name": "dropout", "p_min": 0.2, "p_max": 1.0},
        {"name": "strokes", "min_width": 0.0},
        {"name": "mixed", "weights": [1, -1, 1]},
    ],
)
def test_bad_settings_are_refused_naming_them(params):
    with pytest.raises(ValueError, match="masking"):
        check_masking(build_masking(**params), 16, 16)
