"""The classical fills an inpainting model can start from (`model.prior`): it predicts a
correction to the fill instead of the pixel, so it does not have to learn plain interpolation,
only what a smooth fill gets wrong (edges, texture).

    pushpull     each window's own quick smooth fill (models/pushpull.py)
    biharmonic   the smoothest fill (models/biharmonic.py): the photo inpainter's prior, solved
                 over the whole image by the filling tool and over each window in training
"""

from __future__ import annotations

import torch

from vit_inpaint.models.pushpull import pushpull_fill

__all__ = ["prior_fill", "pushpull_fill"]


def prior_fill(name: str, visible_values: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """The `model.prior` fill of a batch: (B, H, W) values (hidden ones zero), masks -> (B, H, W).

    Neither depends on a weight: no gradient flows through them."""
    if name == "pushpull":
        return pushpull_fill(visible_values, masks)
    if name == "biharmonic":
        from vit_inpaint.models.biharmonic import biharmonic_windows

        with torch.no_grad():
            return biharmonic_windows(visible_values.detach(), masks)
    raise ValueError(f"unknown prior {name!r}")
