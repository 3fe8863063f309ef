"""The data settings (conf/data/*.yaml) and their checks, torch-free, each written once here.

The dataclasses are the schemas Hydra checks the config group `data` against (types, as it
composes: vit_inpaint/launch/schema.py registers them), and each checks its own fields when built
(`__post_init__`): vit_inpaint/launch/validate.py builds the data config before any run starts,
so a bad value is one `error:` line. The image sources of data/sources.py are built on the
settings below (`GaussianField(GaussianFieldSettings)`), and the sources and data modules call the
same check functions when a library user builds them directly. Each raises ValueError naming the
config field.

The data modules (data/splits.py and its subclasses) are built on a `DataConfig`, made from a
composed config by `data_config` with the image source instantiated; no module repeats its fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from omegaconf import MISSING

# data=digits: scikit-learn's 1797 8x8 digits, split once, stratified (data/sources.py Digits).
DIGITS_IMAGE_SIZE = 8
DIGITS_SPLIT_SIZES = {"train": 1077, "val": 360, "test": 360}
DIGITS_CLASSES = 10
# The fewest training images of one class (digit 8) in that split: the most data.labels_per_class
# can keep of every class (tests/integration/test_refusals.py counts them again).
DIGITS_TRAIN_PER_CLASS = 104


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


def check_digits_labels(labels_per_class: int | None, num_train: int) -> None:
    """data=digits: data.labels_per_class no more than its training images hold of every class,
    checked before start-up (the data module would only find out once it has drawn them)."""
    if labels_per_class is None:
        return
    if labels_per_class > DIGITS_TRAIN_PER_CLASS:
        raise ValueError(
            f"data.labels_per_class ({labels_per_class}) is more than data=digits holds: its "
            f"{DIGITS_SPLIT_SIZES['train']} training images have at most "
            f"{DIGITS_TRAIN_PER_CLASS} of every class"
        )
    if labels_per_class * DIGITS_CLASSES > num_train:
        raise ValueError(
            f"data.labels_per_class ({labels_per_class}) of each of the {DIGITS_CLASSES} classes "
            f"is more than data.num_train={num_train} images hold: at most "
            f"{num_train // DIGITS_CLASSES} per class, fewer where the draw is uneven"
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


# --- the image sources' settings (data.images) ----------------------------------------------


@dataclass
class GaussianFieldSettings:
    """data=gaussian_field's images: x = mean + z, z ~ N(0, sigma^2 K_l), l drawn per image from
    `lengthscales`; `jitter` (relative to sigma^2) on K_l's diagonal; `clip` to [0, 1]."""

    mean: float = 0.5
    sigma: float = 0.2
    lengthscales: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    jitter: float = 1e-6
    clip: bool = False

    def __post_init__(self) -> None:
        self.lengthscales = tuple(float(x) for x in self.lengthscales)
        if not self.lengthscales or min(self.lengthscales) <= 0:
            raise ValueError(f"data.images.lengthscales must be positive, got {self.lengthscales}")
        if self.sigma <= 0:
            raise ValueError(f"data.images.sigma must be positive, got {self.sigma}")


# The photo inpainter's own splits (conf/experiment/inpainter_full.yaml lists the same names; a test
# checks it): more photographs to learn from, and a test set of every kind a user brings (faces,
# outdoor, an animal, an object, texture, text) that neither training nor model selection sees.
# `cat` is chelsea again: it is in no split.
INPAINTER_SPLITS = {
    "train": [
        "brick",
        "coffee",
        "grass",
        "hubble_deep_field",
        "immunohistochemistry",
        "microaneurysms",
        "retina",
        "rocket",
        "stereo_motorcycle",
        "text",
    ],
    "val": ["coins", "moon", "cell"],
    "test": ["astronaut", "camera", "chelsea", "clock", "gravel", "page"],
}


@dataclass
class PhotosSettings:
    """data=photos' images: the photographs of each split (names in skimage.data), shrunk by
    `downscale`: one factor, or a list of factors mixed in one training set ([1, 2, 4])."""

    train: list[str] = field(default_factory=list)
    val: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
    downscale: Any = 1  # int or list of ints: OmegaConf has no type for either
    # Training crops mirrored and turned by multiples of 90 degrees at random (8 orientations):
    # a photograph's edges and textures seen in every direction.
    flip_and_turn: bool = False

    def __post_init__(self) -> None:
        self.train, self.val, self.test = list(self.train), list(self.val), list(self.test)
        shared = (set(self.train) & set(self.val)) | (set(self.train) & set(self.test))
        shared |= set(self.val) & set(self.test)
        if shared:
            raise ValueError(f"data.images: photographs used by two splits: {sorted(shared)}")
        downscale_factors(self.downscale)

    @property
    def factors(self) -> list[int]:
        """The downscale factors, as a list."""
        return downscale_factors(self.downscale)


# --- the config group `data` ------------------------------------------------------------------


@dataclass
class ImageSourceConfig:
    """data.images of data=uniform_noise and digits (their sources take no setting here)."""

    _target_: str = MISSING


# data.images of the sources with settings: the class Hydra instantiates (first: dataclasses
# take the fields of the last base first), then the settings.
@dataclass
class GaussianFieldImagesConfig(GaussianFieldSettings, ImageSourceConfig):
    pass


@dataclass
class PhotosImagesConfig(PhotosSettings, ImageSourceConfig):
    pass


@dataclass
class DataConfig:
    """data=uniform_noise; the other sources extend it (their yaml files extend uniform_noise).
    Every field is MISSING: the values come from the yaml files."""

    # The yaml names InpaintingDataModule; the task's data builder (tasks/registry.py) chooses the
    # module itself (task=classify's is another), so no module is built from this key.
    _target_: str = MISSING
    images: ImageSourceConfig = field(default_factory=ImageSourceConfig)
    image_size: int = MISSING
    num_train: int = MISSING
    num_val: int = MISSING
    num_test: int = MISSING
    batch_size: int = MISSING
    eval_batch_size: int = MISSING
    seed: int = MISSING
    fresh_masks: bool = MISSING
    fresh_images: bool = MISSING

    def __post_init__(self) -> None:
        sizes = ("image_size", "num_train", "num_val", "num_test", "batch_size", "eval_batch_size")
        for key in sizes:
            value = getattr(self, key)
            if value is None or not math.isfinite(value) or value <= 0:
                raise ValueError(f"data.{key} must be positive (and finite), got {value}")
        if self.batch_size > self.num_train:
            raise ValueError(
                f"data.batch_size ({self.batch_size}) is larger than the training set "
                f"(data.num_train={self.num_train})"
            )


def data_config(data: Mapping, images: Any) -> DataConfig:
    """The config group `data` (cfg.data, or a plain dict) as the settings a data module is built
    on, with `images` the image source itself; its checks run. Keys of one source only
    (data=digits' labels_per_class) stay behind: the task that uses them reads them itself."""
    names = [f.name for f in fields(DataConfig) if f.name not in ("_target_", "images")]
    return DataConfig(images=images, **{name: data[name] for name in names})


@dataclass
class DigitsDataConfig(DataConfig):
    labels_per_class: int | None = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        counts = {"num_train": self.num_train, "num_val": self.num_val, "num_test": self.num_test}
        check_digits(self.image_size, **counts)
        check_labels_per_class(self.labels_per_class, self.fresh_images)
        check_digits_labels(self.labels_per_class, self.num_train)


@dataclass
class GaussianFieldDataConfig(DataConfig):
    images: GaussianFieldImagesConfig = field(default_factory=GaussianFieldImagesConfig)


@dataclass
class PhotosDataConfig(DataConfig):
    images: PhotosImagesConfig = field(default_factory=PhotosImagesConfig)
