import pytest
import torch

from vit_inpaint.data.masking import BlockMasking, RandomMasking, build_masking, check_masking


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
