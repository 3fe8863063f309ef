"""vit-inpaint: tiny Vision Transformers that fill in masked pixels.

`from vit_inpaint import InpaintingModule` (or `ClassificationModule`) works, but torch and
Lightning load only when a name that needs them is first used, so tools that only compose configs
start fast.
"""

__all__ = [
    "InpaintingModule",
    "InpaintingViT",
    "InpaintingDataModule",
    "ClassificationModule",
    "ViTClassifier",
]

_LAZY = {
    "InpaintingModule": "vit_inpaint.tasks.inpainting",
    "InpaintingViT": "vit_inpaint.models.vit",
    "InpaintingDataModule": "vit_inpaint.data.datamodule",
    "ClassificationModule": "vit_inpaint.tasks.classification",
    "ViTClassifier": "vit_inpaint.models.classifier",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vit_inpaint' has no attribute {name!r}")
