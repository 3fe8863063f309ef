"""MAE-style pretraining (`model=mae`): the shared encoder sees only the visible patches, a small
decoder with mask tokens and its own position embedding predicts the hidden ones (He et al.,
"Masked Autoencoders Are Scalable Vision Learners", 2021).

    images (B, H, W), mask (B, H, W) bool, True = hidden (whole patches: masking=patches)
    -> Encoder.pixel_features (-> ConvStem)               (B, C, H, W)
    -> patchify, embed, + pos                             (B, N, dim)
    -> keep the visible tokens (ids_keep)                 (B, N_vis, dim)   <- the saving:
    -> depth x Block, norm                                (B, N_vis, dim)      attention over
    -> decoder_embed                                      (B, N_vis, d_dim)    N_vis, not N
    -> put back in place, mask_token where hidden         (B, N, d_dim)
    -> + decoder_pos, decoder_depth x Block, decoder_norm (B, N, d_dim)
    -> decoder_head, unpatchify                           (B, H, W)

The encoder's modules keep the names of `model=vit`'s (`embed`, `pos`, `blocks`, `norm`), so
`init_from=` hands them to either task; the decoder's names all start with `decoder_` or
`mask_token` and are another model's head there. The loss is the project's: MSE over the hidden
pixels (the tasks' module), not MAE's per-patch-normalised target.

Which patches are hidden: those with any hidden pixel. Training masks must hide whole patches
(launch/validate.py refuses the others: a partly hidden patch would drop its visible pixels);
the test's cross-evaluation masks (one pixel, a 2x2 block at any offset) go through the same
rule, so there the model loses the visible rest of each touched patch. Images of a batch may hide
different numbers of patches: the shorter rows are padded and the padding is masked out of
attention, so the result never depends on the other images in the batch.
"""

from __future__ import annotations

import torch
from torch import nn

from vit_inpaint.models.encoder import Encoder
from vit_inpaint.models.layers import Block, PositionalEncoding, init_weights, patchify, unpatchify
from vit_inpaint.models.settings import MAESettings


class MaskedAutoencoderViT(Encoder):
    """The Encoder's arguments, plus the decoder's width, depth and heads (conf/model/mae.yaml).
    `attend_to_hidden` has no effect here: hidden patches never reach the encoder at all."""

    settings_type = MAESettings  # the encoder's settings and the decoder's, checked there

    def __init__(self, *args, **settings):
        super().__init__(*args, **settings)
        s = self.settings
        decoder_dim, p, grid = s.decoder_dim, self.patch_size, self.image_size // self.patch_size
        self.decoder_embed = nn.Linear(self.dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.decoder_pos = PositionalEncoding(self.pos.kind, grid * grid, (grid, grid), decoder_dim)
        self.decoder_blocks = nn.ModuleList(
            Block(decoder_dim, s.decoder_heads, s.mlp_ratio, s.attention)
            for _ in range(s.decoder_depth)
        )
        self.decoder_norm = nn.LayerNorm(decoder_dim)
        self.decoder_head = nn.Linear(decoder_dim, p * p)
        self.apply(init_weights)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(
        self, images: torch.Tensor, mask: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """images (B, H, W), mask (B, H, W) bool (True = hidden) -> reconstruction (B, H, W).

        With return_attention, also the encoder's attention weights of every layer, each
        (B, heads, N_vis, N_vis) over the kept tokens.
        """
        features, _ = self.pixel_features(images, mask)
        if self.stem is not None:
            # Over the whole masked image (hidden pixels are zeros with their flag set, as in
            # model=vit): the stem's features of a visible patch see its visible neighbours and
            # nothing hidden, and the classifier's stem gets weights for the images it will see.
            features = self.stem(features)
        patches = patchify(features, self.patch_size)  # (B, N, C*p*p)
        b, n, _ = patches.shape
        hidden = patchify(mask, self.patch_size).any(dim=-1)  # (B, N) patches to predict
        # Visible patches first, in their grid order (a stable sort of the hidden flags).
        ids_shuffle = hidden.to(torch.int8).argsort(dim=1, stable=True)
        keep = int((~hidden).sum(dim=1).max())  # the most visible patches any image has
        ids_keep = ids_shuffle[:, :keep]
        # Only the kept patches are embedded, each with the position encoding of its place.
        kept = torch.gather(patches, 1, ids_keep[..., None].expand(-1, -1, patches.shape[-1]))
        x = self.embed(kept)
        if self.pos.table is not None:
            table = self.pos.table.expand(b, -1, -1)
            x = x + torch.gather(table, 1, ids_keep[..., None].expand(-1, -1, self.dim))
        # Padding: an image with fewer visible patches fills its row with hidden ones, which no
        # query may attend to (and whose outputs are replaced by mask tokens below).
        real = ~torch.gather(hidden, 1, ids_keep)  # (B, keep)
        key_mask = None if bool(real.all()) else real
        attention_maps = []
        for block in self.blocks:
            x, weights = block(x, key_mask, return_attention)
            attention_maps.append(weights)
        x = self.decoder_embed(self.norm(x))  # (B, keep, d_dim)

        # Back to the full grid: every position starts as the mask token, the kept visible
        # tokens are scattered back to where they came from.
        d_dim = x.shape[-1]
        full = self.mask_token.expand(b, n, d_dim).clone()
        x = torch.where(real[..., None], x, self.mask_token.expand(b, keep, d_dim))
        full = full.scatter(1, ids_keep[..., None].expand(-1, -1, d_dim), x)
        full = self.decoder_pos(full)
        for block in self.decoder_blocks:
            full, _ = block(full)
        pixels = self.decoder_head(self.decoder_norm(full))  # (B, N, p*p)
        out = unpatchify(pixels, self.patch_size, self.image_size, self.image_size)
        return (out, attention_maps) if return_attention else out
