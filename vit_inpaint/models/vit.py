"""The tiny Vision Transformer that fills in hidden pixels: the shared encoder (`encoder.py`) and
a head that turns every token back into its p*p pixel values (report section 9).

A batch flows as:
    images (B, H, W) in [0, 1], mask (B, H, W) bool, True = hidden
    -> Encoder.pixel_features, forward_features   (B, N, dim)
    -> head            (B, N, p*p)
    -> unpatchify      (B, H, W) reconstruction of every pixel
"""

from __future__ import annotations

import torch
from torch import nn

from vit_inpaint.models.encoder import Encoder
from vit_inpaint.models.layers import init_weights, unpatchify

# The least spread normalize divides by: a flat window gets corrections of at most this scale.
SPREAD_FLOOR = 2e-3


def normalize_windows(features: torch.Tensor, mask: torch.Tensor):
    """model.normalize: (B, 3, H, W) features (values, hidden flag, prior fill) -> the same with
    values and prior shifted by each window's visible mean and divided by its visible spread, and
    that spread (B, 1, 1), which scales the network's correction back to pixels."""
    visible = (~mask).to(features.dtype)
    count = visible.sum((1, 2)).clamp_min(1.0)
    mean = (features[:, 0] * visible).sum((1, 2)) / count
    centred = (features[:, 0] - mean[:, None, None]) * visible
    spread = (centred.square().sum((1, 2)) / count + SPREAD_FLOOR**2).sqrt()
    spread, mean = spread[:, None, None], mean[:, None, None]
    values = centred / spread  # hidden pixels stay 0
    prior = (features[:, 2] - mean) / spread
    return torch.stack([values, features[:, 1], prior], dim=1), spread


class InpaintingViT(Encoder):
    """Predicts every pixel of an image from its visible pixels and the mask of hidden ones.

    attend_to_hidden=False adds the report's attention mask (section 6): tokens whose pixels are
    all hidden carry no information of their own, so no query may attend to them as a key.
    prior="pushpull" or "biharmonic" gives each pixel a third input channel, a classical smooth
    fill of the hidden pixels (models/prior.py), and the head predicts a correction to that fill
    instead of the pixel itself (beyond the report: the photo inpainter's recipe,
    conf/experiment/inpainter.yaml).
    Takes the Encoder's arguments (conf/model/vit.yaml).
    """

    def __init__(self, *args, **settings):
        super().__init__(*args, **settings)
        p = self.patch_size
        self.head = nn.Linear(self.dim, p * p)  # the report's 4-pixel head for p=2
        self.apply(init_weights)

    def forward_head(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, dim) -> (B, H, W): each token's p*p pixels, put back in place."""
        pixels = self.head(tokens)  # (B, N, p*p)
        return unpatchify(pixels, self.patch_size, self.image_size, self.image_size)

    def forward(
        self,
        images: torch.Tensor,
        mask: torch.Tensor,
        return_attention: bool = False,
        prior: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """images (B, H, W), mask (B, H, W) bool (True = hidden) -> reconstruction (B, H, W).

        With return_attention, also the attention weights of every layer, each (B, heads, N, N).
        prior: the windows' model.prior fill, when the caller has it (Encoder.pixel_features).
        """
        features, base = self.pixel_features(images, mask, prior)
        spread = None
        if self.settings.normalize:
            features, spread = normalize_windows(features, mask)
        tokens, attention_maps = self.forward_features(features, mask, return_attention)
        out = self.forward_head(tokens)
        if spread is not None:
            out = spread * out
        if base is not None:
            out = base + out  # the head predicts the prior's error, not the pixel
        return (out, attention_maps) if return_attention else out
