"""Checks of data settings that the config check and the data code share, written once here.

Torch-free: vit_inpaint/config/validate.py runs them before any run starts (as one `error:` line),
and the sources and data modules run the same ones when a library user builds them directly.
Each raises ValueError naming the config field.
"""

from __future__ import annotations

from vit_inpaint.config.choices import DIGITS_IMAGE_SIZE, DIGITS_SPLIT_SIZES


def downscale_factors(downscale) -> list[int]:
    """data.images.downscale of data=photos: one factor, or a list of factors mixed in one
    training set (OmegaConf has no int-or-list type, so no schema says it)."""
    listed = hasattr(downscale, "__iter__") and not isinstance(downscale, str)
    factors = list(downscale) if listed else [downscale]
    if not factors or not all(type(f) is int and f >= 1 for f in factors):
        raise ValueError(
            f"data.images.downscale must be a positive integer or a list of them, got {downscale!r}"
        )
    return factors


def check_digits(image_size: int, **counts: int) -> None:
    """data=digits: its images are 8x8, and each split has a fixed number of them
    (counts: num_train=..., num_val=..., num_test=..., any of them)."""
    if image_size != DIGITS_IMAGE_SIZE:
        raise ValueError(
            f"data=digits images are {DIGITS_IMAGE_SIZE}x{DIGITS_IMAGE_SIZE}: "
            f"data.image_size must be {DIGITS_IMAGE_SIZE}, got {image_size}"
        )
    for split, available in DIGITS_SPLIT_SIZES.items():
        n = counts.get(f"num_{split}")
        if n is not None and n > available:
            raise ValueError(
                f"data.num_{split} ({n}) is more than the {available} {split} images of data=digits"
            )


def check_labels_per_class(labels_per_class: int | None, fresh_images: bool) -> None:
    """data.labels_per_class keeps that many labelled training images of each class: of one
    training set, so not with a new one every epoch."""
    if labels_per_class is None:
        return
    if labels_per_class < 1:
        raise ValueError(f"data.labels_per_class must be positive, got {labels_per_class}")
    if fresh_images:
        raise ValueError("data.labels_per_class needs data.fresh_images=false")
