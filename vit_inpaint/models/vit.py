"""The tiny Vision Transformer that fills in hidden pixels (its layers: `layers.py`).

Read top to bottom, this follows the report: cut the image into patches (section 7.1), embed each
flattened patch linearly (7.2), add a positional encoding (7.3), run multi-head self-attention
(sections 3-4, with an optional attention mask, section 6), then a head that turns every token back
into its p*p pixel values (section 9).

A batch flows as:
    images (B, H, W) in [0, 1], mask (B, H, W) bool, True = hidden
    -> pixel features (B, 2, H, W): the value (0 where hidden) and a "this pixel is hidden" flag
    -> patchify        (B, N, 2*p*p)   N = (H/p) * (W/p) tokens
    -> embed + pos     (B, N, dim)
    -> depth x Block   (B, N, dim)
    -> head            (B, N, p*p)
    -> unpatchify      (B, H, W) reconstruction of every pixel
The hidden-flag channel is what lets a mask hide one pixel inside a patch: the model is told which
pixels are missing rather than guessing it from a zero that could also be a real black pixel.
"""

from __future__ import annotations

import torch
from torch import nn

from vit_inpaint.config.choices import PRIORS
from vit_inpaint.models.layers import Block, PositionalEncoding, init_weights, patchify, unpatchify
from vit_inpaint.models.prior import pushpull_fill


class InpaintingViT(nn.Module):
    """Predicts every pixel of an image from its visible pixels and the mask of hidden ones.

    attend_to_hidden=False adds the report's attention mask (section 6): tokens whose pixels are
    all hidden carry no information of their own, so no query may attend to them as a key.
    prior="pushpull" gives each pixel a third input channel, a classical smooth fill of the hidden
    pixels (models/prior.py), and the head predicts a correction to that fill instead of the
    pixel itself (beyond the report: the photo inpainter's recipe, conf/experiment/inpainter.yaml).
    """

    def __init__(
        self,
        image_size: int = 4,
        patch_size: int = 2,
        dim: int = 64,
        depth: int = 2,
        heads: int = 4,
        mlp_ratio: float = 2.0,
        pos_embedding: str = "learned",
        attention: str = "manual",
        attend_to_hidden: bool = True,
        prior: str = "none",
    ):
        super().__init__()
        if prior not in PRIORS:
            raise ValueError(f"model.prior must be one of {PRIORS}, got {prior!r}")
        if image_size % patch_size != 0:
            raise ValueError(
                f"data.image_size ({image_size}) must be divisible by model.patch_size "
                f"({patch_size})"
            )
        self.image_size = image_size
        self.patch_size = patch_size
        self.attend_to_hidden = attend_to_hidden
        self.prior = prior
        channels = 2 if prior == "none" else 3  # value, hidden flag (, prior fill)
        grid = image_size // patch_size
        num_tokens = grid * grid
        self.embed = nn.Linear(channels * patch_size * patch_size, dim)  # e = W x + b (7.2)
        self.pos = PositionalEncoding(pos_embedding, num_tokens, (grid, grid), dim)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, attention) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, patch_size * patch_size)  # the report's 4-pixel head for p=2
        self.apply(init_weights)

    def forward(
        self, images: torch.Tensor, mask: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """images (B, H, W), mask (B, H, W) bool (True = hidden) -> reconstruction (B, H, W).

        With return_attention, also the attention weights of every layer, each (B, heads, N, N).
        Hidden pixel values never reach the model: they are zeroed before patchify.
        """
        hidden = mask.to(images.dtype)
        visible_values = images * (1.0 - hidden)
        channels = [visible_values, hidden]
        if self.prior == "pushpull":
            base = pushpull_fill(visible_values, mask)
            channels.append(base)
        features = torch.stack(channels, dim=1)  # (B, 2 or 3, H, W)
        x = self.pos(self.embed(patchify(features, self.patch_size)))

        key_mask = None
        if not self.attend_to_hidden:
            key_mask = ~patchify(mask, self.patch_size).all(dim=-1)  # (B, N): has a visible pixel

        attention_maps = []
        for block in self.blocks:
            x, weights = block(x, key_mask, return_attention)
            attention_maps.append(weights)

        pixels = self.head(self.norm(x))  # (B, N, p*p)
        out = unpatchify(pixels, self.patch_size, self.image_size, self.image_size)
        if self.prior == "pushpull":
            out = base + out  # the head predicts the prior's error, not the pixel
        return (out, attention_maps) if return_attention else out


