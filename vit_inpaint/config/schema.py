"""The types of the config: one dataclass schema per config group, checked by Hydra as it composes.

`python train.py model.dim=64.0` (a float where an integer belongs), `data.num_train=1e3`,
`model.dim=true` or `seed=abc` is refused while Hydra composes the config, before torch loads and
before any folder is made, with one line naming the field:

    error: model.dim must be an integer, got 64.0 (float)

What a type cannot say (divisibility, ranges, files) stays in `vit_inpaint/config/validate.py`.

Each schema is stored in Hydra's ConfigStore beside the yaml options of its group, and each yaml
option names it first in its defaults list (Hydra's "extending configs"):

    conf/model/vit.yaml:      defaults: [vit_schema, _self_]

Every field is MISSING (`???`) in the schema: the values, and so the composed config, come from
the yaml files alone, exactly as before the schemas existed (a resumed run compares its config key
by key with the one it was trained with). A key the yaml files do not set has no place in a schema
either, or it would appear in every run's config; `+group.key=value` still adds one (Hydra's `+`
adds a key whatever the schema).

Not typed here: the trainer (Lightning's Trainer takes dozens of arguments, several of them unions
OmegaConf cannot express: devices=1|"auto"|[0, 1], precision=32|"bf16-mixed"; validate.py checks
trainer.max_epochs), callbacks, logger and paths (objects Hydra instantiates), and the hydra node.
A new top-level key or config group must be added to `TrainConfig` below.

How a value of the wrong type is reported (one `error:` line): `vit_inpaint/config/type_errors.py`.

`vit_inpaint/config/__init__.py` calls `register()`, so importing anything of `vit_inpaint.config`
(train.py's resolvers, the tests' composition helper) makes the schemas known to Hydra.
"""

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

# --- data: conf/data/*.yaml ---------------------------------------------------------------------


@dataclass
class ImageSourceConfig:
    """data.images of data=uniform_noise (UniformNoise takes no setting in the configs)."""

    _target_: str = MISSING


@dataclass
class GaussianFieldImagesConfig(ImageSourceConfig):
    mean: float = MISSING
    sigma: float = MISSING
    lengthscales: list[float] = MISSING
    jitter: float = MISSING
    clip: bool = MISSING


@dataclass
class PhotosImagesConfig(ImageSourceConfig):
    train: list[str] = MISSING
    val: list[str] = MISSING
    test: list[str] = MISSING
    # One factor, or a list of factors mixed in one training set ([1, 2, 4]): OmegaConf has no
    # int-or-list type, so data/sources.py Photos checks it.
    downscale: Any = MISSING


@dataclass
class DataConfig:
    """data=uniform_noise; the other sources extend it (their yaml files extend uniform_noise)."""

    _target_: str = MISSING  # the data module, vit_inpaint.data.datamodule.InpaintingDataModule
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


@dataclass
class DigitsDataConfig(DataConfig):
    labels_per_class: int | None = MISSING


@dataclass
class GaussianFieldDataConfig(DataConfig):
    images: GaussianFieldImagesConfig = field(default_factory=GaussianFieldImagesConfig)


@dataclass
class PhotosDataConfig(DataConfig):
    images: PhotosImagesConfig = field(default_factory=PhotosImagesConfig)


# --- masking: conf/masking/*.yaml ---------------------------------------------------------------


@dataclass
class BlockMaskingConfig:
    """masking=pixel|patch2x2|block2x2: one size x size square per image."""

    name: str = MISSING
    size: int = MISSING
    aligned: bool = MISSING


@dataclass
class RandomPixelsMaskingConfig:
    """masking=random_pixels: round(ratio * H * W) pixels anywhere."""

    name: str = MISSING
    ratio: float = MISSING


@dataclass
class PatchesMaskingConfig:
    """masking=patches: a ratio of the size x size grid cells (MAE's random masking)."""

    name: str = MISSING
    ratio: float = MISSING
    size: int = MISSING


@dataclass
class HolesMaskingConfig:
    """masking=holes: rectangles anywhere, by count or coverage."""

    name: str = MISSING
    min_size: int = MISSING
    max_size: int = MISSING
    count: Optional[list[int]] = MISSING  # noqa: UP045 (OmegaConf reads Optional, not `| None`)
    coverage_min: float = MISSING
    coverage_max: float = MISSING


@dataclass
class DropoutMaskingConfig:
    """masking=dropout: each pixel hidden with a probability drawn per image."""

    name: str = MISSING
    p_min: float = MISSING
    p_max: float = MISSING


@dataclass
class StrokesMaskingConfig:
    """masking=strokes: thin straight scratches, by coverage."""

    name: str = MISSING
    min_width: float = MISSING
    max_width: float = MISSING
    coverage_min: float = MISSING
    coverage_max: float = MISSING


@dataclass
class MixedHolesConfig:
    min_size: int = MISSING
    max_size: int = MISSING
    coverage_min: float = MISSING
    coverage_max: float = MISSING


@dataclass
class MixedDropoutConfig:
    p_min: float = MISSING
    p_max: float = MISSING


@dataclass
class MixedStrokesConfig:
    min_width: float = MISSING
    max_width: float = MISSING
    coverage_min: float = MISSING
    coverage_max: float = MISSING


@dataclass
class MixedMaskingConfig:
    """masking=mixed: one of holes, dropout, strokes per image, with these weights."""

    name: str = MISSING
    weights: list[float] = MISSING
    holes: MixedHolesConfig = field(default_factory=MixedHolesConfig)
    dropout: MixedDropoutConfig = field(default_factory=MixedDropoutConfig)
    strokes: MixedStrokesConfig = field(default_factory=MixedStrokesConfig)


# --- model: conf/model/vit.yaml, mae.yaml ------------------------------------------------------


@dataclass
class ModelConfig:
    name: str = MISSING  # vit | mae
    image_size: int = MISSING
    patch_size: int = MISSING
    dim: int = MISSING
    depth: int = MISSING
    heads: int = MISSING
    mlp_ratio: float = MISSING
    pos_embedding: str = MISSING
    attention: str = MISSING
    attend_to_hidden: bool = MISSING
    prior: str = MISSING


@dataclass
class MAEModelConfig(ModelConfig):
    decoder_dim: int = MISSING
    decoder_depth: int = MISSING
    decoder_heads: int = MISSING


# --- optimizer: conf/optimizer/*.yaml -----------------------------------------------------------


# Fields in the order of their yaml file, so the composed config reads as it always did.
@dataclass
class AdamConfig:
    name: str = MISSING
    lr: float = MISSING
    schedule: str = MISSING
    warmup_steps: int = MISSING


@dataclass
class AdamWConfig:
    name: str = MISSING
    lr: float = MISSING
    weight_decay: float = MISSING
    schedule: str = MISSING
    warmup_steps: int = MISSING


@dataclass
class SGDConfig:
    name: str = MISSING
    lr: float = MISSING
    momentum: float = MISSING
    schedule: str = MISSING
    warmup_steps: int = MISSING


# --- task: conf/task/*.yaml ---------------------------------------------------------------------


@dataclass
class TaskConfig:
    name: str = MISSING  # inpaint | classify


@dataclass
class ClassifyTaskConfig(TaskConfig):
    augment_shift: int = MISSING


# --- the top level: conf/train.yaml -------------------------------------------------------------


@dataclass
class RateThresholdsConfig:
    perfect: float = MISSING
    acceptable: float = MISSING


@dataclass
class PretrainedConfig:
    """Where a two-stage experiment's fine-tuning runs find their pretrained checkpoints."""

    sweep: str | None = MISSING
    run: dict[str, str] = MISSING


@dataclass
class TrainConfig:
    """conf/train.yaml's own keys, in its order, then the config groups (typed by their own
    schemas, or not at all)."""

    seed: int = MISSING
    training_recipe: str | None = MISSING
    threads: int | None = MISSING
    loss_pixels: str = MISSING
    loss_on_visible: bool | None = MISSING
    deprecated: dict[str, str] = MISSING
    rate_thresholds: RateThresholdsConfig = field(default_factory=RateThresholdsConfig)
    ckpt_path: str | None = MISSING
    init_from: str | None = MISSING
    pretrained: PretrainedConfig = field(default_factory=PretrainedConfig)
    finetune: str = MISSING
    test: bool = MISSING
    test_ckpt: str | None = MISSING
    optimized_metric: str | None = MISSING
    optimizer: Any = MISSING
    data: Any = MISSING
    masking: Any = MISSING
    model: Any = MISSING
    trainer: Any = MISSING
    callbacks: Any = MISSING
    logger: Any = MISSING
    paths: Any = MISSING
    task: TaskConfig = field(default_factory=TaskConfig)


# (group, name in the ConfigStore, schema); the yaml options list `<name>` in their defaults.
SCHEMAS = (
    (None, "train_schema", TrainConfig),
    ("data", "uniform_noise_schema", DataConfig),
    ("data", "gaussian_field_schema", GaussianFieldDataConfig),
    ("data", "photos_schema", PhotosDataConfig),
    ("data", "digits_schema", DigitsDataConfig),
    ("task", "task_schema", TaskConfig),
    ("task", "classify_schema", ClassifyTaskConfig),
    ("masking", "block_schema", BlockMaskingConfig),
    ("masking", "random_pixels_schema", RandomPixelsMaskingConfig),
    ("masking", "patches_schema", PatchesMaskingConfig),
    ("masking", "holes_schema", HolesMaskingConfig),
    ("masking", "dropout_schema", DropoutMaskingConfig),
    ("masking", "strokes_schema", StrokesMaskingConfig),
    ("masking", "mixed_schema", MixedMaskingConfig),
    ("model", "vit_schema", ModelConfig),
    ("model", "mae_schema", MAEModelConfig),
    ("optimizer", "adam_schema", AdamConfig),
    ("optimizer", "adamw_schema", AdamWConfig),
    ("optimizer", "sgd_schema", SGDConfig),
)


def register() -> None:
    """Stores every schema in Hydra's ConfigStore (again: storing replaces)."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for group, name, node in SCHEMAS:
        store.store(group=group, name=name, node=node)
