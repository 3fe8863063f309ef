"""Test-time tuning (vit_inpaint/fill/tuning.py) trains a copy of the network; the rest of the
window filling is tested without training in tests/unit/test_windows.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vit_inpaint.data.sources import load_photo
from vit_inpaint.models.vit import InpaintingViT


@pytest.mark.slow  # steps an optimizer
def test_test_time_tuning_trains_a_copy_on_the_visible_pixels_only():
    """fill/tuning.py: the copy learns (its weights move, its error on the photograph's visible
    pixels hidden anew falls), the network given stays as it was, and the photograph's hidden
    values are never read: changing them tunes the very same weights."""
    from vit_inpaint.fill.tuning import tuned_network

    torch.manual_seed(0)
    model = InpaintingViT(image_size=8, patch_size=4, dim=16, depth=1, heads=2, prior="biharmonic")
    model.eval()
    before = [p.detach().clone() for p in model.parameters()]
    image = load_photo("brick", 4).double().numpy()[:48, :48]
    mask = np.random.default_rng(0).random(image.shape) < 0.1
    tuned = tuned_network(model, image, mask, steps=30, rate=3e-3, batch=16)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))
    assert any(not torch.equal(p, q) for p, q in zip(tuned.parameters(), before, strict=True))
    other = tuned_network(model, np.where(mask, 7.0, image), mask, steps=30, rate=3e-3, batch=16)
    assert all(torch.equal(p, q) for p, q in zip(tuned.parameters(), other.parameters(),
                                                 strict=True))  # fmt: skip
    from vit_inpaint.fill.model import Inpainter

    probe = np.random.default_rng(1).random(image.shape) < 0.1
    probe &= ~mask  # visible pixels of the photograph, hidden for the check

    def error(network):
        filled = Inpainter(network, "t").fill(image, probe)
        return float(((filled - image)[probe] ** 2).mean())

    assert error(tuned) < error(model)
    assert tuned_network(model, image[:6, :6], mask[:6, :6], steps=5) is model  # under a window
