"""Test-time tuning: a few training steps of the inpainting network on the photograph it is about
to fill, before it fills it. A photograph's textures and edges repeat across it; its visible
pixels are training data no classical fill uses: windows are cut from the photograph, more of
their pixels hidden (the training masks, masking=mixed), and the network learns to fill those,
as in training (the biharmonic prior of each window, the loss over the prior's error). The
photograph's own hidden pixels stay hidden in every window and out of the loss: their values are
never read. The shipped network is left as it is: a copy is tuned.
"""

from __future__ import annotations

import copy

import numpy as np

TUNE_BATCH = 64  # windows a step
TUNE_RATE = 3e-4  # AdamW's learning rate: a seventh of the recipe's peak, for a few steps


def tuned_network(network, image: np.ndarray, mask: np.ndarray, steps: int, seed: int = 0,
                  rate: float = TUNE_RATE, batch: int = TUNE_BATCH):  # fmt: skip
    """A copy of `network` (an InpaintingViT) trained `steps` steps on windows of the (H, W) gray
    image, its hidden pixels (mask, True = hidden) kept hidden and unscored; the network itself
    when the image is smaller than a window or steps is 0."""
    import torch

    from vit_inpaint.data.free_masks import MixedMasking
    from vit_inpaint.models.prior import prior_fill
    from vit_inpaint.tasks.metrics import hidden_over_prior_mse

    size = network.image_size
    height, width = mask.shape
    if steps <= 0 or height < size or width < size:
        return network
    tuned = copy.deepcopy(network).eval()  # eval: no dropout; the weights still learn
    tuned.requires_grad_(True)
    optimizer = torch.optim.AdamW(tuned.parameters(), lr=rate, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.from_numpy(np.where(mask, 0.0, image).astype(np.float32))
    hidden = torch.from_numpy(mask)
    masking = MixedMasking()
    offsets = torch.arange(size)
    prior_name = getattr(network, "prior", "none")
    for _ in range(steps):
        tops = torch.randint(0, height - size + 1, (batch,), generator=generator)
        lefts = torch.randint(0, width - size + 1, (batch,), generator=generator)
        rows = (tops[:, None] + offsets)[:, :, None]
        cols = (lefts[:, None] + offsets)[:, None, :]
        windows, unknown = pixels[rows, cols], hidden[rows, cols]
        scored = masking(batch, size, size, generator) & ~unknown
        masks = scored | unknown
        inputs = windows.masked_fill(masks, 0.0)
        prior = None if prior_name == "none" else prior_fill(prior_name, inputs, masks)
        pred = tuned(inputs, masks, prior=prior)
        if prior is None:
            loss = ((pred - windows).square() * scored).sum() / scored.sum().clamp_min(1)
        else:
            loss = hidden_over_prior_mse(pred, prior, windows, scored)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return tuned.requires_grad_(False)
