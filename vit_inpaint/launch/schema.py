"""The types of the config: one dataclass schema per config group, checked by Hydra as it composes.

`python train.py model.dim=64.0` (a float where an integer belongs), `data.num_train=1e3`,
`model.dim=true` or `seed=abc` is refused while Hydra composes the config, before torch loads and
before any folder is made, with one line naming the field:

    error: model.dim must be an integer, got 64.0 (float)

Where the run builds a settings object from a group, that object is the group's schema, so each
option is declared once: its value in the yaml, its type and checks in the dataclass.

    model      vit_inpaint/models/settings.py     ModelSettings, MAESettings
    masking    vit_inpaint/data/masking.py        BlockMasking, RandomMasking, PatchMasking
               vit_inpaint/data/free_masks.py     HolesMasking, DropoutMasking, StrokesMasking,
                                                  MixedMasking
    data       vit_inpaint/data/settings.py       DataConfig and its kin, whose images node is the
                                                  settings of the image source (GaussianField's)
    optimizer  the dataclasses below: AdamConfig, and AdamW's and SGD's one field more
    task, train.yaml's own keys: the dataclasses below (single values, checked in validate.py)

What a type cannot say (divisibility, ranges) the settings check themselves, in `__post_init__`,
when built; what spans config groups, and files, `vit_inpaint/launch/validate.py` checks.

Each schema is stored in Hydra's ConfigStore under hydra/schema/<group>/<name> (`--help` lists no
group under hydra/), and each yaml option names it first in its defaults list (Hydra's
"extending configs"):

    conf/model/vit.yaml:      defaults: [/hydra/schema/model/vit@_here_, _self_]

The yaml files set every field of their schema, so the composed config holds the yaml's keys and
values only (a resumed run compares its config key by key with the one it was trained with): the
schema nodes hold no value (`register()` stores them with every field MISSING, `???`), and the
defaults of the settings objects are the library's (`BlockMasking(size=1)` in a notebook).
`+group.key=value` still adds a key (Hydra's `+` adds a key whatever the schema); a settings
object then refuses it.

Not typed here: the trainer (Lightning's Trainer takes dozens of arguments, several of them unions
OmegaConf cannot express: devices=1|"auto"|[0, 1], precision=32|"bf16-mixed"; validate.py checks
trainer.max_epochs), callbacks, logger and paths (objects Hydra instantiates), and the hydra node.
A new top-level key or config group must be added to `TrainConfig` below.

How a config error is reported (one `error:` line): `vit_inpaint/config/errors.py`.

`vit_inpaint/config/__init__.py` calls `register()`, so importing anything of `vit_inpaint.config`
(train.py's resolvers, the tests' composition helper) makes the schemas known to Hydra.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from vit_inpaint.config.choices import OPTIMIZERS, SCHEDULES
from vit_inpaint.data.free_masks import DropoutMasking, HolesMasking, MixedMasking, StrokesMasking
from vit_inpaint.data.masking import BlockMasking, PatchMasking, RandomMasking
from vit_inpaint.data.settings import (
    DataConfig,
    DigitsDataConfig,
    GaussianFieldDataConfig,
    PhotosDataConfig,
)

# --- optimizer: conf/optimizer/*.yaml -----------------------------------------------------------


@dataclass
class AdamConfig:
    """conf/optimizer/adam.yaml: what every optimizer takes; the others add their own field, after
    these (their yaml files list them in the same order, so the composed config reads alike)."""

    name: str = MISSING
    lr: float = MISSING
    schedule: str = MISSING
    warmup_steps: int = MISSING
    layer_decay: float = MISSING

    def __post_init__(self) -> None:
        """What every optimizer's settings must satisfy, checked when built (launch/validate.py)."""
        if self.name not in OPTIMIZERS:
            raise ValueError(f"optimizer.name must be one of {OPTIMIZERS}, got {self.name!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"optimizer.lr must be positive (and finite), got {self.lr}")
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"optimizer.schedule must be one of {SCHEDULES}, got {self.schedule!r}"
            )
        if not 0 < self.layer_decay <= 1:
            raise ValueError(
                f"optimizer.layer_decay must be in (0, 1] (1: one rate for every layer), "
                f"got {self.layer_decay}"
            )


@dataclass
class AdamWConfig(AdamConfig):
    weight_decay: float = MISSING


@dataclass
class SGDConfig(AdamConfig):
    momentum: float = MISSING


# --- task: conf/task/*.yaml ---------------------------------------------------------------------


@dataclass
class TaskConfig:
    name: str = MISSING  # inpaint | classify
    augment_shift: int = MISSING
    augment_rotate: float = MISSING
    augment_scale: float = MISSING


@dataclass
class ClassifyTaskConfig(TaskConfig):
    label_smoothing: float = MISSING


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
    threads: int | None = MISSING
    loss_pixels: str = MISSING
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


# (group, name, schema): each yaml option of a group names its schema first in its defaults list,
# as /hydra/schema/<group>/<name>@_here_. Under hydra/, where `python train.py --help` lists no
# group: a schema is no option a user picks.
SCHEMAS = (
    ("data", "uniform_noise", DataConfig),
    ("data", "gaussian_field", GaussianFieldDataConfig),
    ("data", "photos", PhotosDataConfig),
    ("data", "digits", DigitsDataConfig),
    ("task", "inpaint", TaskConfig),
    ("task", "classify", ClassifyTaskConfig),
    ("masking", "block", BlockMasking),
    ("masking", "random_pixels", RandomMasking),
    ("masking", "patches", PatchMasking),
    ("masking", "holes", HolesMasking),
    ("masking", "dropout", DropoutMasking),
    ("masking", "strokes", StrokesMasking),
    ("masking", "mixed", MixedMasking),
    ("optimizer", "adam", AdamConfig),
    ("optimizer", "adamw", AdamWConfig),
    ("optimizer", "sgd", SGDConfig),
)


def _schema_node(schema) -> DictConfig:
    """The node Hydra checks a group against: the dataclass's types, with every value MISSING.

    MISSING, so that a value comes from the yaml files alone: the settings objects' defaults are
    the library's, and conf/model/mae.yaml, which extends vit.yaml and then names its schema,
    would otherwise have them replace vit.yaml's values. Writable, as a frozen dataclass (the
    masking strategies, which never change once drawn from) makes a read-only node.
    """
    node = OmegaConf.structured(schema)
    _missing_and_writable(node)
    return node


def _missing_and_writable(node: DictConfig) -> None:
    OmegaConf.set_readonly(node, False)
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            _missing_and_writable(child)
        else:
            node[key] = MISSING


def register() -> None:
    """Stores every schema in Hydra's ConfigStore (again: storing replaces)."""
    from hydra.core.config_store import ConfigStore

    from vit_inpaint.config.hydra_private import config_store_copies_itself

    # Hydra's help copies its repository of configs once per config group it lists (about 160
    # times), and with it the ConfigStore, a process-wide singleton that it only reads (loading a
    # node copies that node): 3 of the 4 s of `python train.py --help`. A copy of the store is
    # the store itself, as every new config source of Hydra's takes `ConfigStore.instance()`.
    config_store_copies_itself()
    store = ConfigStore.instance()
    # conf/train.yaml's own keys. Not in struct mode while the defaults compose, so that a recipe
    # (conf/recipe/) can add `training_recipe`, the name of the recipe applied, which no run
    # without one then shows; Hydra turns struct mode on before it applies the command line.
    root = OmegaConf.structured(TrainConfig)
    OmegaConf.set_struct(root, False)
    store.store(name="train_schema", node=root)
    from vit_inpaint.models.registry import MODELS

    models = tuple(("model", model.name, model.settings) for model in MODELS.values())
    for group, name, schema in (*SCHEMAS, *models):
        store.store(group=f"hydra/schema/{group}", name=name, node=_schema_node(schema))
