"""Whole-image filling with overlapping windows (vit_inpaint/fill/windows.py) and the push-pull
prior (vit_inpaint/models/prior.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vit_inpaint.data.sources import load_photo
from vit_inpaint.fill.windows import fill_windows
from vit_inpaint.models.prior import pushpull_fill
from vit_inpaint.models.vit import InpaintingViT


def visible_mean(windows: np.ndarray, masks: np.ndarray) -> np.ndarray:
    seen = (~masks).astype(np.float32)
    mean = (windows * seen).sum((1, 2)) / seen.sum((1, 2))
    return np.broadcast_to(mean[:, None, None], windows.shape)


def test_a_hole_larger_than_a_window_is_filled_from_its_border_inward():
    image = np.full((50, 70), 0.3)
    mask = np.zeros(image.shape, dtype=bool)
    mask[5:45, 10:60] = True  # 40x50: no 16x16 window sees across it
    calls = []

    def predict(windows, masks):
        # Every window handed to the model sees at least one visible pixel.
        assert (~masks).any((1, 2)).all()
        calls.append(len(windows))
        return visible_mean(windows, masks)

    out = fill_windows(image, mask, 16, predict)
    np.testing.assert_allclose(out, image, atol=1e-6)  # filled from visible 0.3s only
    assert len(calls) > 1


@pytest.mark.parametrize("shape", [(37, 41), (5, 6), (16, 16), (3, 100)])
def test_visible_pixels_come_back_unchanged_and_every_hidden_pixel_is_filled(shape):
    rng = np.random.default_rng(0)
    image = rng.random(shape)
    mask = rng.random(shape) < 0.3
    mask.flat[0] = True
    out = fill_windows(image, mask, 16, lambda w, m: np.full_like(w, 0.25))
    np.testing.assert_array_equal(out[~mask], image[~mask])
    np.testing.assert_allclose(out[mask], 0.25, atol=1e-6)


def test_only_windows_with_a_hidden_pixel_are_computed():
    image = np.zeros((256, 256))
    mask = np.zeros(image.shape, dtype=bool)
    mask[100, 100] = True
    seen = []
    fill_windows(image, mask, 16, lambda w, m: seen.append(len(w)) or w, stride=8)
    assert sum(seen) == 4  # one pixel lies in 2 x 2 windows at stride 8


def test_pushpull_fills_from_visible_pixels_only_and_keeps_them():
    images = torch.rand(8, 16, 16)
    masks = torch.rand(8, 16, 16) < 0.4
    fill = pushpull_fill(images, masks)
    assert torch.equal(fill[~masks], images[~masks])
    # Changing hidden values changes nothing.
    other = torch.where(masks, torch.rand(8, 16, 16), images)
    assert torch.equal(pushpull_fill(other, masks), fill)
    # A constant image is filled with its constant; the fill stays within the visible range.
    flat = pushpull_fill(torch.full((2, 16, 16), 0.7), masks[:2])
    torch.testing.assert_close(flat, torch.full((2, 16, 16), 0.7))
    assert fill.min() >= images.min() - 1e-6 and fill.max() <= images.max() + 1e-6


def test_a_model_with_the_prior_starts_from_the_prior_and_never_sees_hidden_values():
    model = InpaintingViT(image_size=16, patch_size=4, dim=32, depth=1, heads=2, prior="pushpull")
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)
    images = torch.rand(4, 16, 16)
    masks = torch.rand(4, 16, 16) < 0.3
    out = model(images, masks)
    torch.testing.assert_close(out[masks], pushpull_fill(images, masks)[masks])
    torch.nn.init.normal_(model.head.weight)  # a head that passes on whatever it is given
    other = torch.where(masks, torch.rand(4, 16, 16), images)
    torch.testing.assert_close(model(other, masks), model(images, masks))


def test_a_biharmonic_model_corrects_the_whole_images_fill_in_one_pass():
    """model.prior=biharmonic: the filling tool gives each window its piece of the whole image's
    biharmonic fill, so even a hole wider than a window is filled in one pass, from the fill."""
    from vit_inpaint.fill.model import Inpainter
    from vit_inpaint.models.biharmonic import biharmonic_fill

    model = InpaintingViT(image_size=8, patch_size=4, dim=16, depth=1, heads=2, prior="biharmonic")
    torch.nn.init.zeros_(model.head.weight)  # no correction: the model returns its prior
    torch.nn.init.zeros_(model.head.bias)
    image = load_photo("camera", 8).double().numpy()[:40, :40]
    mask = np.zeros(image.shape, dtype=bool)
    mask[10:30, 12:28] = True  # wider than a window
    mask[3, 3] = mask[35, 20] = True
    filled = Inpainter(model.eval(), "test").fill(image, mask)
    np.testing.assert_allclose(filled, biharmonic_fill(image, mask), atol=1e-5)


def test_test_time_averaging_turns_each_window_back_before_averaging():
    """Inpainter.orientations=8: the network sees each window in its 8 orientations and each
    prediction is turned back before the average; a network that returns its input pixel for
    pixel (any orientation) is then unchanged by the averaging."""
    from vit_inpaint.fill.model import Inpainter, _orient

    windows = np.random.default_rng(0).random((3, 8, 8), dtype=np.float32)
    for k in range(8):
        np.testing.assert_array_equal(_orient(_orient(windows, k), k, inverse=True), windows)
    assert len({tuple(_orient(windows, k)[0].flatten().tolist()) for k in range(8)}) == 8

    class Echo(torch.nn.Module):  # returns the visible values, an orientation-free "model"
        image_size = 8

        def forward(self, images, masks):
            return images * 2.0

    echo = Inpainter(Echo(), "test", orientations=8)
    np.testing.assert_allclose(echo.predict(windows, windows > 0.5), windows * 2.0, rtol=1e-6)


def test_a_normalized_model_corrects_a_window_the_same_way_at_any_contrast():
    """model.normalize: a window made fainter and brighter (a x + b) is filled as a times the
    original's fill plus b: the model's correction scales with the window's own contrast."""
    model = InpaintingViT(
        image_size=8, patch_size=4, dim=16, depth=1, heads=2, prior="biharmonic", normalize=True
    )
    images = torch.rand(4, 8, 8, dtype=torch.float64)
    masks = torch.rand(4, 8, 8) < 0.3
    model = model.double().eval()
    with torch.no_grad():
        out = model(images, masks)
        faint = model(0.2 * images + 0.5, masks)
    torch.testing.assert_close(faint, 0.2 * out + 0.5, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="model.normalize"):
        InpaintingViT(image_size=8, patch_size=4, normalize=True)


def test_the_python_api_refuses_what_it_cannot_fill_and_reads_any_0_1_mask():
    from vit_inpaint.fill.model import Inpainter

    model = InpaintingViT(image_size=8, patch_size=4, dim=16, depth=1, heads=2, prior="biharmonic")
    inpainter = Inpainter(model.eval(), "test")
    image = load_photo("camera", 8).double().numpy()[:24, :24]
    mask = np.zeros(image.shape, dtype=np.uint8)
    mask[5:9, 5:9] = 1  # 0/1 integers, not bools: rows 0 and 1 stay as they are
    filled = inpainter.fill(image, mask)
    np.testing.assert_array_equal(filled[mask == 0], image[mask == 0])
    with pytest.raises(ValueError, match="no visible pixel"):
        inpainter.fill(image, np.ones(image.shape, dtype=bool))  # with a prior too
    colour = inpainter.fill(np.stack([image] * 3, axis=-1), mask)  # colour is filled, not refused
    assert colour.shape == (24, 24, 3)
    with pytest.raises(ValueError, match=r"\(H, W\) mask of its size"):
        inpainter.fill(np.stack([image] * 3, axis=-1), mask[:20])
    broken = np.full((20, 20), 0.5)
    broken[3, 5] = np.nan  # a visible NaN would spread over the holes around it
    with pytest.raises(ValueError, match="NaN or infinite values at visible pixels"):
        inpainter.fill(broken, np.eye(20, dtype=bool))
    with pytest.raises(ValueError, match="colour must be one of luminance, channels"):
        inpainter.fill(image, mask, colour="rgb")
    with pytest.raises(ValueError, match="positive divisor"):
        inpainter.fill(image, mask, stride=-2)
    with pytest.raises(ValueError, match="orientations must be 1, 2, 4 or 8"):
        Inpainter(model, "test", orientations=3)


@pytest.mark.parametrize("shape", [(37, 41), (5, 6), (40, 3)])
def test_the_sparse_fill_with_a_prior_is_the_padded_images_fill(shape):
    """fill_with_prior cuts windows with mirrored indices and sums at the hidden pixels only;
    it gives what filling the mirror-padded image gives, to float rounding, and computes only
    the windows that hold a hidden pixel of the image itself."""
    from vit_inpaint.fill.windows import WindowGrid, checked_stride, fill_in_passes

    rng = np.random.default_rng(1)
    image, prior = rng.random(shape), rng.random(shape)
    mask = rng.random(shape) < 0.2
    mask.flat[0] = mask.flat[-1] = True

    def predict(windows, masks, priors):  # depends on position, visible values and the prior
        ramp = np.linspace(0, 1, windows.shape[-1], dtype=np.float32)
        return 0.5 * priors + 0.3 * windows * ~masks + 0.2 * ramp

    sparse = fill_windows(image, mask, 16, predict, prior=prior)
    grid = WindowGrid.of(shape, 16, checked_stride(16, None))
    padded = fill_in_passes(image, mask, grid, predict, 4, 2048, False, prior=prior)
    np.testing.assert_allclose(sparse, padded, atol=1e-6)
    np.testing.assert_array_equal(sparse[~mask], image[~mask])
    seen = []
    one = np.zeros((256, 256), dtype=bool)
    one[100, 100] = True
    fill_windows(np.zeros((256, 256)), one, 16, lambda w, m, p: seen.append(len(w)) or w,
                 stride=8, prior=np.zeros((256, 256)))  # fmt: skip
    assert sum(seen) == 4


def test_the_python_api_fills_a_colour_photo_as_luminance_and_biharmonic_colour():
    """Inpainter.fill on (H, W, 3): the network corrects the channels' mean, each channel gets
    its biharmonic fill plus that correction (colour="luminance"), or the network runs on each
    channel (colour="channels"); visible pixels come back exactly, in every mode."""
    from vit_inpaint.fill.model import Inpainter
    from vit_inpaint.models.biharmonic import biharmonic_fill

    torch.manual_seed(0)
    model = InpaintingViT(image_size=8, patch_size=4, dim=16, depth=1, heads=2, prior="biharmonic")
    inpainter = Inpainter(model.eval(), "test")
    photo = load_photo("astronaut", 8).double().numpy()[:32, :40]
    rgb = np.stack([photo, photo[::-1], 1 - photo], axis=-1)
    mask = np.random.default_rng(2).random(photo.shape) < 0.2
    filled = inpainter.fill(rgb, mask)
    np.testing.assert_array_equal(filled[~mask], rgb[~mask])
    gray = inpainter.fill(rgb.mean(-1), mask)  # the network's fill of the luminance
    smooth = biharmonic_fill(rgb, mask)
    expected = np.clip(smooth + (gray - smooth.mean(-1))[..., None], 0, 1)
    np.testing.assert_allclose(filled[mask], expected[mask], atol=1e-5)
    assert np.abs(gray - biharmonic_fill(rgb.mean(-1), mask))[mask].max() > 1e-3  # it corrects
    per = inpainter.fill(rgb, mask, colour="channels")
    for c in range(3):
        np.testing.assert_array_equal(per[..., c], inpainter.fill(rgb[..., c], mask))


def test_centre_windows_give_each_hidden_pixel_the_window_it_is_central_in():
    """windows="centre": an isolated hidden pixel costs one window, not four, and every hidden
    pixel's value comes from a window where it lies in the central 8x8 block of the 16x16."""
    rng = np.random.default_rng(3)
    image, prior = rng.random((45, 38)), rng.random((45, 38))
    mask = rng.random(image.shape) < 0.3
    mask[0, 0] = mask[-1, -1] = True

    def where_in_window(windows, masks, priors):  # each pixel's row and column in its window
        rows, cols = np.indices(windows.shape[1:])
        return np.broadcast_to((rows * 16 + cols) / 255.0, windows.shape)

    out = fill_windows(image, mask, 16, where_in_window, prior=prior, centre=True)
    offset = np.rint(out[mask] * 255).astype(int)
    assert (np.abs(out[mask] * 255 - offset) < 1e-3).all()  # one window each, not a mix
    assert (
        (offset // 16 >= 4) & (offset // 16 < 12) & (offset % 16 >= 4) & (offset % 16 < 12)
    ).all()
    seen = []
    one = np.zeros((256, 256), dtype=bool)
    one[100, 100] = True
    fill_windows(np.zeros((256, 256)), one, 16, lambda w, m, p: seen.append(len(w)) or w,
                 prior=np.zeros((256, 256)), centre=True)  # fmt: skip
    assert sum(seen) == 1
    with pytest.raises(ValueError, match="centre windows need a model with a prior"):
        fill_windows(image, mask, 16, where_in_window, centre=True)
