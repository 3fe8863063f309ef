"""The classifier: the shared encoder (`encoder.py`) and a linear head on the mean of its tokens.

    images (B, H, W) in [0, 1]
    -> Encoder.pixel_features (nothing hidden), forward_features   (B, N, dim)
    -> mean over the N tokens     (B, dim)
    (-> head_norm                 (B, dim)   a linear probe's BatchNorm, MAE's: add_probe_norm)
    -> head                       (B, num_classes) logits

Mean pooling rather than a class token: a class token would be a new parameter and a new
sequence position the inpainting encoder never saw, while the mean of the tokens uses exactly the
encoder an inpainting checkpoint trained (`init_from=`), and the position-encoding table keeps its
shape. The images go through the same pixel features as inpainting, with no pixel hidden (the
hidden-flag channel is all zero), so both tasks' encoders take the same input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vit_inpaint.models.encoder import Encoder
from vit_inpaint.models.layers import init_weights


class ViTClassifier(Encoder):
    """Class logits of whole images. Takes the Encoder's arguments and `num_classes`."""

    def __init__(self, *args, num_classes: int = 10, **settings):
        super().__init__(*args, **settings)
        if num_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
        self.num_classes = num_classes
        self.head_norm: nn.Module = nn.Identity()
        self.head = nn.Linear(self.dim, num_classes)
        self.apply(init_weights)

    def add_probe_norm(self) -> None:
        """MAE's linear probe: a BatchNorm without scale or shift before the head, so the frozen
        encoder's features, whatever their scale (a pretrained encoder's are not made for a
        linear head), reach the head standardised. It is still a linear classifier: at test time
        the norm is a fixed affine map, the running mean and variance of the training features."""
        self.head_norm = ProbeNorm(self.dim).to(self.norm.weight.device)

    def fit_probe_norm(self, state_keys) -> None:
        """A linear probe's checkpoint written before the probe norm existed has none: drop it,
        so the checkpoint loads as the classifier it was trained as."""
        if isinstance(self.head_norm, ProbeNorm) and not any(
            key.startswith("head_norm.") for key in state_keys
        ):
            self.head_norm = nn.Identity()

    def forward_head(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, dim) -> (B, num_classes) logits."""
        return self.head(self.head_norm(tokens.mean(dim=1)))

    def reset_classifier(self, num_classes: int) -> None:
        """A new, freshly initialised head for `num_classes` classes (timm's name)."""
        self.num_classes = num_classes
        self.head = nn.Linear(self.dim, num_classes).to(self.norm.weight.device)
        init_weights(self.head)

    def forward(
        self, images: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """images (B, H, W) -> logits (B, num_classes) (and the attention maps)."""
        mask = torch.zeros_like(images, dtype=torch.bool)
        features, _ = self.pixel_features(images, mask)
        tokens, attention_maps = self.forward_features(features, mask, return_attention)
        logits = self.forward_head(tokens)
        return (logits, attention_maps) if return_attention else logits


class ProbeNorm(nn.BatchNorm1d):
    """MAE's probe norm (affine=False, eps=1e-6). A training batch of one image has no spread to
    standardise by (BatchNorm refuses it): that batch uses the running statistics instead."""

    def __init__(self, dim: int):
        super().__init__(dim, affine=False, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] == 1:
            return F.batch_norm(x, self.running_mean, self.running_var, eps=self.eps)
        return super().forward(x)
