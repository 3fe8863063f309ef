import pytest
import torch

from vit_inpaint.data.masking import (
    BlockMasking,
    GridHoles,
    RandomMasking,
    build_masking,
    check_masking,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("size", [4, 5, 8, 16])
def test_pixel_hides_exactly_one_pixel_anywhere(size):
    masks = BlockMasking(size=1, name="pixel")(4000, size, size, gen())
    assert masks.dtype == torch.bool and masks.shape == (4000, size, size)
    assert (masks.flatten(1).sum(1) == 1).all()
    # Every position gets used: the pixel is drawn uniformly over the image.
    assert masks.any(0).all()


@pytest.mark.parametrize("size", [4, 8, 16])
def test_patch2x2_hides_one_aligned_2x2_patch(size):
    masks = BlockMasking(size=2, aligned=True, name="patch2x2")(2000, size, size, gen())
    assert (masks.flatten(1).sum(1) == 4).all()
    rows, cols = masks.any(2), masks.any(1)
    top = rows.float().argmax(1)
    left = cols.float().argmax(1)
    assert (top % 2 == 0).all() and (left % 2 == 0).all()
    # Exactly the 2x2 square at (top, left).
    expected = torch.zeros_like(masks)
    for i in range(len(masks)):
        expected[i, top[i] : top[i] + 2, left[i] : left[i] + 2] = True
    assert torch.equal(masks, expected)
    assert masks.any(0).all()


def test_block2x2_straddles_patches():
    masks = BlockMasking(size=2, aligned=False, name="block2x2")(4000, 4, 4, gen())
    assert (masks.flatten(1).sum(1) == 4).all()
    top = masks.any(2).float().argmax(1)
    left = masks.any(1).float().argmax(1)
    assert set(top.tolist()) == {0, 1, 2} and set(left.tolist()) == {0, 1, 2}
    # Rows and columns are contiguous pairs: a 2x2 square.
    assert (masks.any(2).sum(1) == 2).all() and (masks.any(1).sum(1) == 2).all()


@pytest.mark.parametrize(
    "ratio,size,expected", [(0.25, 4, 4), (0.5, 4, 8), (0.1, 8, 6), (0.75, 16, 192)]
)
def test_random_hides_a_ratio_of_pixels(ratio, size, expected):
    masks = RandomMasking(ratio=ratio)(500, size, size, gen())
    assert (masks.flatten(1).sum(1) == expected).all()
    assert masks.any(0).all()


def test_masks_are_reproducible_from_the_seed():
    m = BlockMasking(size=2, aligned=False)
    assert torch.equal(m(64, 8, 8, gen(3)), m(64, 8, 8, gen(3)))
    assert not torch.equal(m(64, 8, 8, gen(3)), m(64, 8, 8, gen(4)))


@pytest.mark.parametrize(
    "params,size",
    [
        ({"name": "random_pixels", "ratio": 1.0}, 4),
        ({"name": "random_pixels", "ratio": 0.0}, 4),
        ({"name": "random_pixels", "ratio": 0.01}, 4),
        ({"name": "block4", "size": 4, "aligned": True}, 4),
        ({"name": "block5", "size": 5, "aligned": False}, 4),
    ],
)
def test_masks_hiding_everything_or_nothing_are_refused(params, size):
    with pytest.raises(ValueError, match="masking"):
        check_masking(build_masking(**params), size, size)


# --- Shapes on any image, and GridHoles (the inpaint tool's --holes N) -------------------------


@pytest.mark.parametrize(
    "masking",
    [
        BlockMasking(size=1),
        BlockMasking(size=2, aligned=True),
        BlockMasking(size=3, aligned=False),
        RandomMasking(ratio=0.3),
        GridHoles(count=3, size=2),
    ],
    ids=repr,
)
@pytest.mark.parametrize("height,width", [(4, 4), (6, 10), (9, 5)])
def test_every_strategy_gives_bool_masks_of_the_asked_shape_hiding_what_it_says(
    masking, height, width
):
    masks = masking(64, height, width, gen())
    assert masks.dtype == torch.bool and masks.shape == (64, height, width)
    assert (masks.flatten(1).sum(1) == masking.hidden_count(height, width)).all()


def cells(masks: torch.Tensor, size: int) -> torch.Tensor:
    """(B, H, W) -> (B, H // size, W // size, size * size): the size x size grid cells."""
    b, h, w = masks.shape
    grid = masks[:, : h // size * size, : w // size * size]
    grid = grid.reshape(b, h // size, size, w // size, size).transpose(2, 3)
    return grid.reshape(b, h // size, w // size, size * size)


@pytest.mark.parametrize("size", [2, 3])
def test_grid_holes_are_whole_distinct_cells_of_their_grid(size):
    masks = GridHoles(count=4, size=size)(500, 11, 14, gen())
    grid = cells(masks, size)
    # Each cell is hidden whole or not at all, and 4 of them are: 4 holes that never overlap.
    assert (grid.all(-1) | ~grid.any(-1)).all()
    assert (grid.all(-1).flatten(1).sum(1) == 4).all()
    # The rows and columns past the last whole cell are never hidden.
    assert not masks[:, 11 // size * size :].any() and not masks[:, :, 14 // size * size :].any()
    # Every cell gets used: the holes are drawn uniformly over the grid.
    assert grid.all(-1).any(0).all()


def test_grid_holes_are_set_by_the_generator():
    holes = GridHoles(count=3)
    assert torch.equal(holes(8, 8, 8, gen(1)), holes(8, 8, 8, gen(1)))
    assert not torch.equal(holes(8, 8, 8, gen(1)), holes(8, 8, 8, gen(2)))


@pytest.mark.parametrize(
    "height,width,size,most",
    [
        (4, 4, 2, 3),  # 4 cells cover the image: one is left visible
        (5, 4, 2, 4),  # the odd last row stays visible: all 4 cells may be holes
        (9, 9, 3, 8),
        (10, 9, 3, 9),
    ],
)
def test_grid_holes_refuse_more_holes_than_fit_with_a_pixel_left(height, width, size, most):
    assert GridHoles(size=size).max_count(height, width) == most
    masks = GridHoles(count=most, size=size)(2, height, width, gen())
    assert (masks.flatten(1).sum(1) == most * size * size).all()
    assert not masks.all()
    with pytest.raises(ValueError, match=f"room for at most {most} distinct"):
        GridHoles(count=most + 1, size=size)(2, height, width, gen())
    with pytest.raises(ValueError, match="at least 1"):
        GridHoles(count=0, size=size).hidden_count(height, width)


def test_a_block_larger_than_the_image_is_refused_by_name():
    with pytest.raises(ValueError, match=r"masking\.size=5 does not fit a 4x6 image"):
        BlockMasking(size=5).hidden_count(4, 6)
