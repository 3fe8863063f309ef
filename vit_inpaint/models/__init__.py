"""The networks: the shared encoder (`encoder.py`) with an inpainting head (`vit.py`, model=vit),
a masked-autoencoder decoder (`mae.py`, model=mae) or a classification head (`classifier.py`)."""

from __future__ import annotations

from vit_inpaint.config.choices import MODEL_NAMES


def build_inpainter(name: str = "vit", **settings):
    """The inpainting network that conf/model/<name>.yaml describes. Checkpoints written before
    model.name existed have no name: they are all model=vit."""
    if name == "mae":
        from vit_inpaint.models.mae import MaskedAutoencoderViT

        return MaskedAutoencoderViT(**settings)
    if name == "vit":
        from vit_inpaint.models.vit import InpaintingViT

        return InpaintingViT(**settings)
    raise ValueError(f"model.name must be one of {MODEL_NAMES}, got {name!r}")
