"""The networks: the shared encoder (`encoder.py`) with an inpainting head (`vit.py`, model=vit),
a masked-autoencoder decoder (`mae.py`, model=mae) or a classification head (`classifier.py`),
each built from its config's settings here."""

from __future__ import annotations

from vit_inpaint.models.settings import MODEL_NAMES


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


def build_classifier(num_classes: int, name: str = "vit", **settings):
    """The classifier on the encoder that `settings` describe. model.name says in which
    inpainting network an encoder was pretrained (config/validate.py refuses to classify with
    model=mae); the classifier is the same either way."""
    from vit_inpaint.models.classifier import ViTClassifier

    return ViTClassifier(**settings, num_classes=num_classes)
