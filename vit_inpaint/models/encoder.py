"""The encoder every model here shares: pixel features, patches, embedding, position encoding,
transformer blocks and the final norm (report sections 7.1-7.3, 3-4 and 6).

A model is this encoder plus a head, timm-style: `forward_features` gives one vector per patch,
the subclass's `forward_head` turns them into pixels (`vit.py`, inpainting) or class scores
(`classifier.py`). The encoder's modules are attributes of the model itself (`embed`, `pos`,
`blocks`, `norm`), not of a child module: the inpainting checkpoints written before the encoder
was split out keep their parameter names (`model.embed.weight`, ...), and a checkpoint of either
task hands its encoder to the other by those names (`ENCODER_PREFIXES`).

    images (B, H, W) in [0, 1], mask (B, H, W) bool, True = hidden
    -> pixel features (B, C, H, W): the value (0 where hidden), a "this pixel is hidden" flag
       (, a classical fill of the hidden pixels with model.prior: models/prior.py)
    (-> ConvStem       (B, S, H, W)    with model.stem_channels=S: two 3x3 convolutions)
    -> patchify        (B, N, C*p*p)   N = (H/p) * (W/p) tokens (S*p*p values with a stem)
    -> embed + pos     (B, N, dim)
    -> depth x Block   (B, N, dim)
    -> norm            (B, N, dim)
"""

from __future__ import annotations

import torch
from torch import nn

from vit_inpaint.models.layers import Block, PositionalEncoding, patchify
from vit_inpaint.models.prior import prior_fill
from vit_inpaint.models.settings import ModelSettings

# The state_dict names (inside a model) that belong to the encoder; everything else is a head.
ENCODER_PREFIXES = ("embed.", "pos.", "blocks.", "norm.", "stem.")
# The settings that shape the encoder's weights (the others, attention and attend_to_hidden,
# change how it computes, not what it holds): what init_from= must match.
ENCODER_SETTINGS = (
    "image_size",
    "patch_size",
    "dim",
    "depth",
    "heads",
    "mlp_ratio",
    "pos_embedding",
    "prior",
    "stem_channels",
)


def is_encoder_key(name: str) -> bool:
    return name.startswith(ENCODER_PREFIXES)


class Encoder(nn.Module):
    """Builds the encoder's modules in the order the original InpaintingViT built them.

    A subclass adds its head after calling this `__init__` and then applies `init_weights`: the
    modules are created, and draw their random numbers, in exactly the order they always did, so a
    seed gives the same initial weights as before the split.
    """

    # What the constructor's arguments are, and how each is checked (models/settings.py).
    settings_type = ModelSettings
    # What a network can show and fine-tune, asked by the code that would otherwise assume it
    # (viz/, report/replay.py, tasks/finetune.py, tasks/optim.py): `forward` takes
    # return_attention=True and returns each layer's (B, heads, N, N) weights beside its output;
    # `.blocks` is the list of transformer blocks (layer-wise decay, finetune=last_block).
    has_attention_maps: bool = True
    has_blocks: bool = True

    def __init__(self, *args, **settings):
        super().__init__()
        # Refuses a bad value, naming its field; a subclass reads its own settings here too.
        s = self.settings = self.settings_type(*args, **settings)
        image_size, patch_size, dim, prior = s.image_size, s.patch_size, s.dim, s.prior
        self.image_size = image_size
        self.patch_size = patch_size
        self.dim = dim
        self.attend_to_hidden = s.attend_to_hidden
        self.prior = prior
        channels = 2 if prior == "none" else 3  # value, hidden flag (, prior fill)
        grid = image_size // patch_size
        num_tokens = grid * grid
        # With a stem (model.stem_channels), its channels are what the patches hold.
        embedded = s.stem_channels or channels
        self.embed = nn.Linear(embedded * patch_size * patch_size, dim)  # e = W x + b (7.2)
        self.pos = PositionalEncoding(s.pos_embedding, num_tokens, (grid, grid), dim)
        self.blocks = nn.ModuleList(
            Block(dim, s.heads, s.mlp_ratio, s.attention) for _ in range(s.depth)
        )
        self.norm = nn.LayerNorm(dim)
        # Last, so that without a stem the modules draw their random numbers as they always did.
        self.stem = ConvStem(channels, s.stem_channels) if s.stem_channels else None

    def pixel_features(
        self, images: torch.Tensor, mask: torch.Tensor, prior: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, C, H, W) features and, with a model.prior, the prior fill (B, H, W).

        Hidden pixel values never reach the model: they are zeroed here. The hidden-flag channel
        lets a mask hide one pixel inside a patch: the model is told which pixels are missing
        rather than guessing it from a zero that could also be a real black pixel.
        prior: the fill of these windows when the caller has it, e.g. cut from the biharmonic
        fill of a whole image (fill/windows.py), which sees past the window's border; by
        default each window is filled on its own.
        """
        hidden = mask.to(images.dtype)
        visible_values = images * (1.0 - hidden)
        channels = [visible_values, hidden]
        base = None
        if self.prior != "none":
            base = prior_fill(self.prior, visible_values, mask) if prior is None else prior
            base = torch.where(mask, base, images)  # visible pixels: their own values
            channels.append(base)
        return torch.stack(channels, dim=1), base

    def prior_fill(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The model.prior fill of (B, H, W) images (models/prior.py), from their visible pixels."""
        return prior_fill(self.prior, images * (~mask).to(images.dtype), mask)

    def forward_features(
        self, features: torch.Tensor, mask: torch.Tensor, return_attention: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        """features (B, C, H, W), mask (B, H, W) bool -> tokens (B, N, dim) after the final norm,
        and the attention weights of every layer (each (B, heads, N, N), or None without
        return_attention)."""
        if self.stem is not None:
            features = self.stem(features)
        x = self.pos(self.embed(patchify(features, self.patch_size)))
        key_mask = None
        if not self.attend_to_hidden:
            key_mask = ~patchify(mask, self.patch_size).all(dim=-1)  # (B, N): has a visible pixel
        attention_maps = []
        for block in self.blocks:
            x, weights = block(x, key_mask, return_attention)
            attention_maps.append(weights)
        return self.norm(x), attention_maps


class ConvStem(nn.Sequential):
    """model.stem_channels=N: two 3x3 convolutions (each followed by GELU) from the pixel features
    to N channels per pixel, before the patches are cut: each patch token then sees its
    neighbours' pixels too, the locality a plain patch embedding lacks (Xiao et al. 2021, "Early
    convolutions help transformers see better"). The image size is kept (padding 1)."""

    def __init__(self, channels: int, width: int):
        super().__init__(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.GELU(),
        )
