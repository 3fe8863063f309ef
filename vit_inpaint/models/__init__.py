"""The networks: the shared encoder (`encoder.py`) with an inpainting head (`vit.py`, model=vit),
a masked-autoencoder decoder (`mae.py`, model=mae) or a classification head (`classifier.py`),
each built by name through the model registry (`registry.py`)."""

from __future__ import annotations

from vit_inpaint.models.registry import CLASSIFIER, INPAINTER, get_model


def build_inpainter(name: str = "vit", **settings):
    """The inpainting network that conf/model/<name>.yaml describes. Checkpoints written before
    model.name existed have no name: they are all model=vit."""
    return get_model(name).network(INPAINTER, **settings)


def build_classifier(num_classes: int, name: str = "vit", **settings):
    """The classifier of model `name` (launch/validate.py refuses a model without one before a
    run starts: model=mae is pretrained, and its encoder loaded into model=vit's classifier)."""
    return get_model(name).network(CLASSIFIER, num_classes=num_classes, **settings)
