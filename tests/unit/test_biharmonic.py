"""The biharmonic fill the photo inpainter corrects (vit_inpaint/models/biharmonic.py): the same
fill as scikit-image's, per window and per whole image, never reading a hidden value."""

import numpy as np
import pytest
import torch
from skimage.restoration import inpaint_biharmonic

from vit_inpaint.data.sources import load_photo
from vit_inpaint.models.biharmonic import biharmonic_fill, biharmonic_windows


def _holes(shape, count, size, seed, margin=3):
    """A mask of `count` size x size holes kept `margin` pixels from the border (where the two
    solvers truncate the stencil differently)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, dtype=bool)
    for _ in range(count):
        top = rng.integers(margin, shape[0] - size - margin)
        left = rng.integers(margin, shape[1] - size - margin)
        mask[top : top + size, left : left + size] = True
    return mask


@pytest.mark.parametrize("size", [1, 3, 8])
def test_the_whole_image_fill_is_scikit_images_biharmonic(size):
    image = load_photo("camera", 4).double().numpy()  # 128x128
    mask = _holes(image.shape, 40, size, seed=size)
    ours = biharmonic_fill(image, mask)
    reference = inpaint_biharmonic(image, mask)
    ours = np.clip(ours, image.min(), image.max())  # as scikit-image clips its result
    np.testing.assert_allclose(ours[mask], reference[mask], atol=2e-3)
    np.testing.assert_array_equal(ours[~mask], image[~mask])


def test_the_window_solver_gives_each_window_its_whole_image_fill():
    windows = load_photo("brick", 4)[:64, :64].reshape(4, 16, 4, 16).permute(0, 2, 1, 3)
    windows = windows.reshape(16, 16, 16)
    masks = torch.rand(16, 16, 16, generator=torch.Generator().manual_seed(0)) < 0.3
    batch = biharmonic_windows(windows, masks).double().numpy()
    for k in range(16):
        alone = biharmonic_fill(windows[k].double().numpy(), masks[k].numpy(), tolerance=1e-8)
        np.testing.assert_allclose(batch[k], alone, atol=1e-3)


def test_hidden_values_are_never_read_and_visible_ones_kept():
    image = np.random.default_rng(1).random((24, 30))
    mask = _holes(image.shape, 6, 4, seed=2, margin=0)
    other = np.where(mask, 5.0, image)  # hidden values far outside [0, 1]
    np.testing.assert_array_equal(biharmonic_fill(other, mask), biharmonic_fill(image, mask))
    windows = torch.from_numpy(np.stack([image, other])).float()
    masks = torch.from_numpy(np.stack([mask, mask]))
    filled = biharmonic_windows(windows, masks)
    torch.testing.assert_close(filled[0], filled[1])
    assert torch.equal(filled[0][~masks[0]], windows[0][~masks[0]])


def test_a_smooth_ramp_is_filled_exactly_and_an_empty_image_stays_finite():
    rows, cols = np.mgrid[0:20, 0:20] / 20.0
    ramp = 0.2 + 0.3 * rows + 0.4 * cols  # biharmonic (its Laplacian is 0): filled exactly
    mask = _holes(ramp.shape, 3, 5, seed=3, margin=2)
    np.testing.assert_allclose(biharmonic_fill(ramp, mask), ramp, atol=1e-4)
    everything = np.ones((8, 8), dtype=bool)
    assert np.isfinite(biharmonic_fill(ramp[:8, :8], everything)).all()
    out = biharmonic_windows(torch.rand(2, 8, 8), torch.ones(2, 8, 8, dtype=torch.bool))
    assert torch.isfinite(out).all()


def test_a_colour_image_is_filled_channel_by_channel_in_one_solve():
    """Three channels share the mask's matrix: one solve with three right-hand sides gives each
    channel its own gray fill."""
    image = load_photo("camera", 4).double().numpy()[:64, :64]
    colour = np.stack([image, image[::-1], 1.0 - image], axis=-1)
    mask = _holes(image.shape, 12, 4, seed=5)
    together = biharmonic_fill(colour, mask)
    for c in range(3):
        np.testing.assert_allclose(
            together[..., c], biharmonic_fill(colour[..., c], mask), atol=1e-5
        )


def test_every_solve_gives_the_same_fill(monkeypatch):
    """Few hidden pixels find their neighbours by binary search, many by a position map; the
    system is solved by numpy's conjugate gradients, scipy's sparse LU or scipy's conjugate
    gradients by the number of hidden pixels: all solve the same equations."""
    import vit_inpaint.models.biharmonic_image as solver

    image = load_photo("camera", 4).double().numpy()
    mask = _holes(image.shape, 3, 3, seed=6)  # 27 of 16,384 pixels: binary search
    mask[40:52, 60:75] = True  # and a hole 12 pixels across
    fills = []
    for direct_from, iterative_from in ((10**9, 10**9), (1, 10**9), (1, 1)):
        monkeypatch.setattr(solver, "DIRECT_FROM", direct_from)
        monkeypatch.setattr(solver, "ITERATIVE_FROM", iterative_from)
        fills.append(biharmonic_fill(image, mask))
    for fill in fills[1:]:
        np.testing.assert_allclose(fill, fills[0], atol=1e-4)
    np.testing.assert_allclose(fills[1][mask], inpaint_biharmonic(image, mask)[mask], atol=2e-3)


@pytest.mark.parametrize("size", [100, 200])
def test_one_visible_pixel_is_filled_with_its_value_everywhere(size):
    """The smoothest image through one pixel is flat at its value; an image large enough for the
    coarse-to-fine start once came back between 0.18 and 2.2 for a pixel of 0.502."""
    mask = np.ones((size, size), dtype=bool)
    mask[size // 3, size // 2] = False
    image = np.full((size, size), 0.502)
    filled = biharmonic_fill(image, mask)
    np.testing.assert_allclose(filled, 0.502, atol=1e-6)
