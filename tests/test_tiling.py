"""Filling images of any size tile by tile (vit_inpaint/fill/tiling.py), with known fills instead
of a model: each hidden pixel must get the fill of its own tile, the padding must follow the
documented rule, and colour images are filled channel by channel. No training here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vit_inpaint.evaluation.baselines import visible_mean
from vit_inpaint.fill.tiling import all_hidden_tiles, fill_offset_tilings, fill_tiled

# Tiles go through the fill as float32 and come back as float64: a value computed in float64
# here agrees to float32's precision on numbers in [0, 1].
FLOAT32 = 1e-6


def random_image(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


def recording(fill, calls: list):
    """`fill`, keeping a copy of each (tiles, masks) it was given."""

    def record(tiles, masks):
        calls.append((tiles.clone(), masks.clone()))
        return fill(tiles, masks)

    return record


def test_each_hidden_pixel_gets_the_fill_of_its_own_tile():
    image = random_image(8, 12)  # 2 x 3 tiles of 4x4
    mask = np.zeros((8, 12), dtype=bool)
    mask[1, 1] = mask[5, 10] = mask[6, 10] = True  # in tile (0, 0) and tile (1, 2)

    out = fill_tiled(image, mask, 4, visible_mean)

    assert out.shape == image.shape and out.dtype == np.float64
    np.testing.assert_array_equal(out[~mask], image[~mask])  # visible pixels exactly kept
    first = image[0:4, 0:4][~mask[0:4, 0:4]].mean()
    last = image[4:8, 8:12][~mask[4:8, 8:12]].mean()
    assert out[1, 1] == pytest.approx(first, abs=FLOAT32)
    assert out[5, 10] == pytest.approx(last, abs=FLOAT32)
    assert out[6, 10] == pytest.approx(last, abs=FLOAT32)


def test_tiles_reach_the_fill_whole_and_in_place():
    image = random_image(8, 12)
    mask = np.zeros((8, 12), dtype=bool)
    mask[2:4, 6:8] = True
    calls = []

    fill_tiled(image, mask, 4, recording(lambda tiles, masks: tiles, calls))

    ((tiles, masks),) = calls
    assert tiles.shape == masks.shape == (6, 4, 4) and masks.dtype == torch.bool

    # Row-major over the tile grid; tile 1 is rows 0-3, columns 4-7, the one with the hole.
    def tiled(x):
        return x.reshape(2, 4, 3, 4).swapaxes(1, 2).reshape(6, 4, 4)

    np.testing.assert_array_equal(masks.numpy(), tiled(mask))
    # Hidden pixels are zeroed before the fill sees them.
    np.testing.assert_allclose(tiles.numpy(), tiled(np.where(mask, 0.0, image)), atol=FLOAT32)
    assert masks[1].sum() == 4 and not masks[[0, 2, 3, 4, 5]].any()


def test_what_the_image_holds_under_the_mask_never_reaches_the_fill():
    image = random_image(9, 7)
    mask = np.zeros((9, 7), dtype=bool)
    mask[8, 6] = mask[3, 2] = True  # one in the padded corner tile
    damaged = np.where(mask, 1.0, image)

    np.testing.assert_array_equal(
        fill_tiled(image, mask, 4, visible_mean), fill_tiled(damaged, mask, 4, visible_mean)
    )


@pytest.mark.parametrize("height,width", [(6, 6), (7, 5), (4, 7), (1, 4)])
def test_sizes_that_are_not_multiples_of_the_tile_are_padded_with_their_edges(height, width):
    image = random_image(height, width, seed=height * width)
    mask = np.zeros((height, width), dtype=bool)
    mask[height - 1, width - 1] = True  # the bottom-right pixel: its copies pad the corner tile
    calls = []

    out = fill_tiled(image, mask, 4, recording(visible_mean, calls))

    assert out.shape == (height, width)  # the padding is cropped off
    ((tiles, masks),) = calls
    padded_h, padded_w = -(-height // 4) * 4, -(-width // 4) * 4
    assert len(tiles) == (padded_h // 4) * (padded_w // 4)
    # The documented padding: edge pixels repeated at the bottom and right, hidden ones hidden.
    pad = ((0, padded_h - height), (0, padded_w - width))
    padded = np.pad(np.where(mask, 0.0, image), pad, mode="edge")
    padded_mask = np.pad(mask, pad, mode="edge")

    def untile(x):
        return x.reshape(padded_h // 4, padded_w // 4, 4, 4).swapaxes(1, 2)

    np.testing.assert_array_equal(untile(masks.numpy()).reshape(padded_h, padded_w), padded_mask)
    np.testing.assert_allclose(
        untile(tiles.numpy()).reshape(padded_h, padded_w), padded, atol=FLOAT32
    )
    # So the hidden corner pixel gets the mean of its tile's visible pixels, copies included.
    corner = padded[-4:, -4:][~padded_mask[-4:, -4:]]
    assert out[-1, -1] == pytest.approx(corner.mean(), abs=FLOAT32)


def test_a_colour_image_is_filled_channel_by_channel_with_one_mask():
    rgb = random_image(10, 13, 3)
    mask = np.zeros((10, 13), dtype=bool)
    mask[2:4, 4:6] = mask[9, 12] = True
    calls = []

    out = fill_tiled(rgb, mask, 4, recording(visible_mean, calls))

    assert out.shape == rgb.shape
    np.testing.assert_array_equal(out[~mask], rgb[~mask])
    ((_, masks),) = calls
    per_channel = len(masks) // 3
    for channel in range(3):
        assert torch.equal(masks[channel * per_channel : (channel + 1) * per_channel], masks[:12])
        np.testing.assert_array_equal(
            out[..., channel], fill_tiled(rgb[..., channel], mask, 4, visible_mean)
        )


def test_a_fill_that_changes_nothing_gives_back_the_image_with_zeros_in_the_holes():
    image = random_image(11, 6)
    mask = random_image(11, 6, seed=1) < 0.2

    out = fill_tiled(image, mask, 4, lambda tiles, masks: tiles, batch_size=3)

    # batch_size=3: the tiles go through the fill in several chunks and come back in place.
    np.testing.assert_allclose(out, np.where(mask, 0.0, image), atol=FLOAT32)
    np.testing.assert_array_equal(out[~mask], image[~mask])


def test_offset_tilings_show_a_hole_in_every_corner_of_its_tile():
    image = random_image(8, 8)
    mask = np.zeros((8, 8), dtype=bool)
    mask[2:4, 4:6] = True  # a 2x2 hole on the patch grid, away from the edges
    calls = []

    out = fill_offset_tilings(image, mask, 4, 2, recording(visible_mean, calls))

    assert len(calls) == 4  # offsets (0, 0), (0, 2), (2, 0), (2, 2)
    corners = set()
    for _, masks in calls:
        (holes,) = [m for m in masks if m.any()]  # one tile holds the hole in each tiling
        rows, cols = torch.nonzero(holes, as_tuple=True)
        assert holes.sum() == 4 and rows.max() - rows.min() == 1 and cols.max() - cols.min() == 1
        corners.add((int(rows.min()), int(cols.min())))
    assert corners == {(0, 0), (0, 2), (2, 0), (2, 2)}
    # The result is the average of the four fills, visible pixels untouched.
    np.testing.assert_array_equal(out[~mask], image[~mask])
    assert out.shape == image.shape


def test_offset_tilings_of_a_constant_fill_give_that_constant():
    image = random_image(7, 10)
    mask = random_image(7, 10, seed=3) < 0.3

    def half(tiles, masks):
        return torch.where(masks, torch.full_like(tiles, 0.5), tiles)

    out = fill_offset_tilings(image, mask, 4, 2, half)

    np.testing.assert_allclose(out, np.where(mask, 0.5, image), atol=FLOAT32)


def test_wrong_masks_are_refused():
    image = random_image(8, 8)
    with pytest.raises(ValueError, match="bool array of shape"):
        fill_tiled(image, np.zeros((8, 7), dtype=bool), 4, visible_mean)
    with pytest.raises(ValueError, match="bool array of shape"):
        fill_tiled(image, np.zeros((8, 8), dtype=np.uint8), 4, visible_mean)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        fill_tiled(np.zeros(8), np.zeros(8, dtype=bool), 4, visible_mean)


def test_all_hidden_tiles_counts_the_tiles_the_fill_gets_no_pixel_of():
    mask = np.zeros((8, 8), dtype=bool)
    assert all_hidden_tiles(mask, 4) == 0
    mask[4:8, 0:4] = True
    assert all_hidden_tiles(mask, 4) == 1
    mask[4:8, 4:7] = True  # 3 of 4 columns
    assert all_hidden_tiles(mask, 4) == 1
    # 6x6: the corner tile is rows 4-5 and columns 4-5 plus their copies: all hidden.
    corner = np.zeros((6, 6), dtype=bool)
    corner[4:6, 4:6] = True
    assert all_hidden_tiles(corner, 4) == 1
