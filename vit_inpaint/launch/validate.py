"""Refuse a bad configuration before any data is made or any file is written.

Each check names the config field at fault and the value it got, so `python train.py
model.heads=3` fails in a second with "model.dim (64) must be divisible by model.heads (3)" instead
of a shape error deep inside attention.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from vit_inpaint.config.choices import (
    FINETUNE,
    LABELLED_SOURCES,
    LOSS_PIXELS,
)
from vit_inpaint.config.errors import unknown_key_line
from vit_inpaint.config.resolvers import run_of_checkpoint
from vit_inpaint.data.masking import build_masking, check_masking, hides_whole_patches
from vit_inpaint.errors import ConfigError  # raised by the checks below
from vit_inpaint.models.registry import get_model, model_settings
from vit_inpaint.tasks.registry import TASKS, Task, task_of


def _positive_integer(cfg: DictConfig, path: str) -> None:
    """For keys no schema types (the trainer's: Lightning takes them as they are)."""
    value = OmegaConf.select(cfg, path)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{path} must be a positive integer, got {value!r}")


def check_config(cfg: DictConfig, multirun: bool = False) -> None:
    """Raises ConfigError on the first value that cannot work.

    A group's own fields are checked by its settings, built here as the run builds them
    (models/settings.py, the masking strategies of data/masking.py and free_masks.py, the data
    config of data/settings.py); here, train.yaml's own keys and what spans groups.

    multirun: the run is one job of a Hydra multirun (`-m`).
    """
    check_known_keys(cfg)
    _built(cfg, "data", OmegaConf.to_object)
    _built(cfg, "optimizer", OmegaConf.to_object)
    _positive_integer(cfg, "trainer.max_epochs")
    check_top_level(cfg)
    _built(cfg, "model", _from_keys(model_settings))
    masking = check_masking_of_task(cfg)
    check_model_fits(cfg, masking)
    # Before init_from's file: a missing pretrained.sweep is what leaves it without one.
    if multirun:
        check_sweep(cfg)  # pretrained.sweep with the rest of what a sweep's job cannot do
    else:
        check_pretrained(cfg)
    check_files(cfg)
    task = check_task(cfg)
    check_optimized_metric(cfg, task)
    if cfg.get("ckpt_path") is not None:
        check_resume(cfg, Path(cfg.ckpt_path))
    check_trainer_keys(cfg)  # last: it imports Lightning, and every check above is torch-free
    check_callbacks(cfg)


def check_masking_of_task(cfg: DictConfig):
    """The masking a task that trains on masked images uses, checked against the images; None
    for a task that hides nothing (task=classify), which neither needs nor reads the group."""
    if not configured_task(cfg).masked:
        return None
    # The builder the data module uses; its messages never named their group, so they are led by it.
    masking = _built(cfg, "masking", _from_keys(build_masking), prefix="masking: ")
    try:
        check_masking(masking, cfg.data.image_size, cfg.data.image_size)
    except ValueError as error:
        raise ConfigError(f"masking: {error}") from None
    return masking


def _built(cfg: DictConfig, group: str, build, prefix: str = ""):
    """The settings object of a config group, built as the run builds it (which checks each
    field), or the ConfigError naming the field at fault."""
    try:
        return build(cfg[group])
    except ValueError as error:
        raise ConfigError(f"{prefix}{error}") from None
    except (TypeError, KeyError) as error:  # a key no setting has, added with `+`
        raise ConfigError(f"{group}: {error}") from None


def _from_keys(build):
    """A builder that takes the group's keys as keyword arguments (`name` picks the class)."""
    return lambda node: build(**OmegaConf.to_container(node, resolve=True))


# Top-level keys no schema declares: the name of the recipe applied (conf/recipe/, schema.py).
UNTYPED_TOP_LEVEL = ("training_recipe",)


def check_known_keys(
    cfg: DictConfig, node: DictConfig | None = None, path: str = "", skip: tuple[str, ...] = ()
) -> None:
    """Every key of a typed node (launch/schema.py) is a field of its schema: Hydra refuses
    `model.nope=1` while it composes, but `+model.nope=1` or `+foo=1` adds the key whatever the
    schema, and the run would ignore it (a group's settings would drop it silently, or fail on
    it with a TypeError). skip: top-level keys left out (`hydra`, in a sweep's own config)."""
    node = cfg if node is None else node
    schema = OmegaConf.get_type(node)
    if dataclasses.is_dataclass(schema):
        fields = {f.name for f in dataclasses.fields(schema)}
        allowed = fields | set((*UNTYPED_TOP_LEVEL, *skip) if not path else ())
        for key in node:
            if key not in allowed:
                raise ConfigError(unknown_key_line(f"{path}{key}", schema))
    for key in node:
        child = node._get_node(key)
        if path or key not in skip:
            if isinstance(child, DictConfig) and not child._is_none() and not child._is_missing():
                check_known_keys(cfg, child, f"{path}{key}.")


def check_trainer_keys(cfg: DictConfig) -> None:
    """The trainer's keys are the arguments of the class it names (Lightning's Trainer): no
    schema types them (schema.py), and an argument it does not take would otherwise fail only
    once the run has started, as Hydra's multi-line "Error in call to target"."""
    trainer = cfg.get("trainer")
    target = trainer.get("_target_") if trainer is not None else None
    if target is None:
        return
    from hydra.utils import get_object

    parameters = inspect.signature(get_object(target)).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    for key in trainer:
        if not str(key).startswith("_") and key not in parameters:
            raise ConfigError(
                f"trainer.{key}: no such setting; {target} takes no argument {key!r} (its "
                "arguments: https://lightning.ai/docs/pytorch/stable/common/trainer.html)"
            )


def check_callbacks(cfg: DictConfig) -> None:
    """Each entry of `callbacks` is null (off) or a `_target_` naming a Lightning Callback:
    anything else (callbacks.ema=foo, a class that is no callback) would fail only once the run
    has started, inside Lightning or Hydra, with a traceback."""
    import pydoc

    from lightning.pytorch.callbacks import Callback

    for name, entry in (cfg.get("callbacks") or {}).items():
        if entry is None:
            continue
        target = entry.get("_target_") if isinstance(entry, DictConfig) else None
        if target is None:
            got = OmegaConf.to_container(entry) if isinstance(entry, DictConfig) else entry
            raise ConfigError(
                f"callbacks.{name} must be null (off) or a callback's settings with a _target_ "
                "(e.g. callbacks.ema={_target_: vit_inpaint.tasks.averaging.EMA, decay: 0.99}), "
                f"got {got!r}"
            )
        found = pydoc.locate(str(target))  # None when nothing has that name (quietly)
        if not (isinstance(found, type) and issubclass(found, Callback)):
            raise ConfigError(
                f"callbacks.{name}._target_={target} is not a Lightning callback class "
                "(a subclass of lightning.pytorch.callbacks.Callback)"
            )


def check_top_level(cfg: DictConfig) -> None:
    """conf/train.yaml's own keys (their types are checked as Hydra composes)."""
    seed = cfg.get("seed")
    if not 0 <= seed < 2**32:
        raise ConfigError(f"seed must be between 0 and 2**32 - 1, got {seed}")
    rates = cfg.rate_thresholds
    if not (0 < rates.perfect < rates.acceptable and math.isfinite(rates.acceptable)):
        raise ConfigError(
            "rate_thresholds must satisfy 0 < rate_thresholds.perfect < "
            f"rate_thresholds.acceptable (both finite), got perfect={rates.perfect}, "
            f"acceptable={rates.acceptable}"
        )
    if cfg.get("loss_pixels", "hidden") not in LOSS_PIXELS:
        raise ConfigError(f"loss_pixels must be one of {LOSS_PIXELS}, got {cfg.loss_pixels!r}")
    if cfg.get("loss_pixels") == "hidden_over_prior" and cfg.model.get("prior", "none") == "none":
        raise ConfigError(
            "loss_pixels=hidden_over_prior divides by the error of the model's prior fill: "
            "set model.prior=biharmonic or pushpull"
        )
    threads = cfg.get("threads")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"threads must be a positive integer or null, got {threads!r}")
    ema = OmegaConf.select(cfg, "callbacks.ema", default=None)
    decay = ema.get("decay") if isinstance(ema, DictConfig) else None
    if decay is not None and not (
        isinstance(decay, (int, float)) and not isinstance(decay, bool) and 0 < decay < 1
    ):
        raise ConfigError(
            f"callbacks.ema.decay must be between 0 and 1 (both excluded), got {decay}"
        )
    finetune = cfg.get("finetune", "full")
    if finetune not in FINETUNE:
        raise ConfigError(f"finetune must be one of {FINETUNE}, got {finetune!r}")
    # Unresolved: transfer=linear_probe's init_from names pretrained.sweep, checked later.
    init_from = OmegaConf.to_container(cfg, resolve=False).get("init_from")
    if finetune != "full" and init_from is None:
        # Training only the head (or the last block) of random weights is never what is meant.
        raise ConfigError(
            f"finetune={finetune} trains part of a pretrained model: give init_from=<a "
            "checkpoint> (or transfer=linear_probe with pretrained.sweep), or finetune=full"
        )


def check_files(cfg: DictConfig) -> None:
    """The checkpoint files a run reads must exist (what they hold: training.py)."""
    for key in ("ckpt_path", "init_from"):
        path = cfg.get(key)
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{key}: no checkpoint file at {path}")
    test_ckpt = cfg.get("test_ckpt")
    if cfg.get("test") and test_ckpt is not None:
        checkpoints = (cfg.get("callbacks") or {}).get("model_checkpoint")
        if test_ckpt in ("best", "last") and checkpoints is None:
            raise ConfigError(
                f"test_ckpt={test_ckpt} needs the model_checkpoint callback, which "
                "callbacks.model_checkpoint=null removed: set test_ckpt=null to test the final "
                "weights, or test=false"
            )
        if test_ckpt not in ("best", "last") and not Path(test_ckpt).is_file():
            raise ConfigError(
                f"test_ckpt must be best, last, null (the final weights) or a checkpoint file, "
                f"got {test_ckpt!r}"
            )


def check_optimized_metric(cfg: DictConfig, task: Task) -> None:
    """The value train() returns for a hyperparameter sweeper: a validation metric (tuning on the
    test split would leak it), one that every run logs or a baseline's mse_* beside it."""
    optimized = cfg.get("optimized_metric")
    if optimized is None:
        return
    prefix, _, name = str(optimized).partition("/")
    known, baseline = task.metrics, task.baseline_prefixes
    if prefix != "val" or not (name in known or name.startswith(baseline)):
        raise ConfigError(
            f"optimized_metric must be a validation metric val/<name> with <name> one of "
            f"{known}, got {optimized!r}"
        )


def check_model_fits(cfg: DictConfig, masking) -> None:
    """The model must have a network for the task's role (models/registry.py: model=mae is an
    inpainter only), and a model whose encoder drops hidden patches (model=mae) masks of whole
    patches; the model's own settings are checked by its settings class."""
    model, task = get_model(cfg.model.name), configured_task(cfg)
    if task.network_role not in model.networks:
        raise ConfigError(
            f"model={model.name} has no {task.network_role} for task={task.name}"
            + (
                ": it is a pretraining model: classify with model=vit and "
                "init_from=<the mae run's checkpoint> (its encoder loads into the classifier)"
                if model.name == "mae"
                else f" (its networks: {', '.join(model.networks) or 'none'})"
            )
        )
    if not model.drops_hidden_patches or masking is None:
        return
    p = cfg.model.patch_size
    if not hides_whole_patches(masking, p):
        raise ConfigError(
            f"model={model.name} needs a mask that hides whole {p}x{p} patches (its encoder drops "
            f"hidden patches, and with them a partly hidden patch's visible pixels): "
            f"masking=patches (a ratio of patches, masking.size={p}) or patch{p}x{p}; "
            f"masking={masking.name} hides pixels inside patches"
        )


def configured_task(cfg: DictConfig) -> Task:
    """The task (tasks/registry.py) `cfg` trains; a ConfigError naming the choices otherwise."""
    try:
        return task_of(cfg)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def check_task(cfg: DictConfig) -> Task:
    """task= and the settings that only make sense for one task; returns the task."""
    chosen = configured_task(cfg)
    data = cfg.data
    source = OmegaConf.select(cfg, "data.images._target_")
    if chosen.labelled and source not in LABELLED_SOURCES:
        raise ConfigError(
            f"task={chosen.name} needs labelled images (data=digits or data=gaussian_field); "
            f"data.images._target_={source} has no labels"
        )
    if data.get("labels_per_class") is not None and not chosen.labelled:
        labelled = ", ".join(f"task={t.name}" for t in TASKS.values() if t.labelled)
        raise ConfigError(
            f"data.labels_per_class needs {labelled} (labels train nothing in task={chosen.name})"
        )
    shift = OmegaConf.select(cfg, "task.augment_shift", default=0)
    if not 0 <= shift < data.image_size:
        raise ConfigError(
            f"task.augment_shift must be between 0 and data.image_size - 1, got {shift}"
        )
    rotate = OmegaConf.select(cfg, "task.augment_rotate", default=0.0)
    if not 0 <= rotate <= 180:
        raise ConfigError(f"task.augment_rotate must be between 0 and 180 degrees, got {rotate}")
    scale = OmegaConf.select(cfg, "task.augment_scale", default=0.0)
    if not 0 <= scale < 1:
        raise ConfigError(f"task.augment_scale must be at least 0 and below 1, got {scale}")
    smoothing = OmegaConf.select(cfg, "task.label_smoothing", default=0.0)
    if not 0 <= smoothing < 1:
        raise ConfigError(f"task.label_smoothing must be at least 0 and below 1, got {smoothing}")
    if not chosen.takes_loss_pixels and cfg.get("loss_pixels", "hidden") != "hidden":
        raise ConfigError(f"loss_pixels is an inpainting setting: task={chosen.name} takes none")
    if not chosen.reconstructs and OmegaConf.select(cfg, "model.normalize", default=False):
        raise ConfigError(
            f"model.normalize scales an inpainter's correction: task={chosen.name} takes none"
        )
    return chosen


def check_pretrained(cfg: DictConfig) -> None:
    """pretrained.sweep, where set, must be a sweep's folder: a fine-tuning sweep started before
    (or without) its pretraining sweep is refused as a whole, not job by job."""
    sweep = OmegaConf.select(cfg, "pretrained.sweep", default=None)
    raw_init_from = OmegaConf.to_container(cfg, resolve=False).get("init_from") or ""
    if sweep is None and "pretrained.sweep" in str(raw_init_from):  # transfer=finetune, say
        raise ConfigError(
            "pretrained.sweep is not set: give the pretraining sweep's folder, "
            "pretrained.sweep=<the hydra.sweep.dir of stage 1>"
        )
    if sweep is not None and not (Path(sweep) / "multirun.yaml").is_file():
        raise ConfigError(
            f"pretrained.sweep={sweep} is not a sweep's folder (no multirun.yaml): run the "
            "pretraining sweep first, with hydra.sweep.dir set to that folder"
        )


def check_sweep(cfg: DictConfig) -> None:
    """What cannot run as a job of a multirun (called when a sweep starts, and in each job,
    where it replaces check_pretrained: once per job)."""
    check_pretrained(cfg)
    trainer = cfg.get("trainer") or {}
    if str(trainer.get("strategy", "auto")) == "ddp" and trainer.get("devices", 1) not in (1, "1"):
        raise ConfigError(
            "trainer.strategy=ddp (trainer=ddp) cannot run inside a multirun (-m): Lightning "
            "starts each extra process by re-running this command, which would start the sweep "
            "again. Run each DDP training as a single run (python train.py trainer=ddp ...), or "
            "keep -m and use trainer.strategy=ddp_spawn, which starts its processes from within "
            "the job."
        )


# What a resumed run must share with the run that wrote its checkpoint; the rest (epochs,
# devices, threads, callbacks, ...) may change, e.g. trainer.max_epochs to train for longer.
RESUME_MUST_MATCH = (
    "data",
    "masking",
    "model",
    "optimizer",
    "seed",
    "loss_pixels",
    "task",
    "finetune",
)


def check_resume(cfg: DictConfig, ckpt_path: Path) -> None:
    """A checkpoint in <run>/checkpoints/ resumes <run> (the folder train.py then writes to, see
    vit_inpaint/config/resolvers.py): the config recorded in <run>/.hydra/ must agree."""
    run = run_of_checkpoint(str(ckpt_path))
    saved_file = run / ".hydra" / "config.yaml" if run is not None else None
    if saved_file is None or not saved_file.is_file():
        return  # a checkpoint from elsewhere: Lightning checks that its weights fit the model
    saved = _flat(OmegaConf.to_container(OmegaConf.load(saved_file)))
    current = _flat(OmegaConf.to_container(cfg))
    differ = [
        key
        for key in sorted(set(saved) | set(current))
        if key.split(".")[0] in RESUME_MUST_MATCH and saved.get(key) != current.get(key)
    ]
    if differ:
        changes = ", ".join(f"{k}={saved.get(k)!r} there, {current.get(k)!r} here" for k in differ)
        raise ConfigError(
            f"ckpt_path resumes the run in {run}, which was trained with "
            f"other settings ({changes}): repeat that run's overrides "
            f"(listed in {saved_file.parent / 'overrides.yaml'}) with ckpt_path=..."
        )


def _flat(tree, prefix: str = "") -> dict:
    if not isinstance(tree, dict):
        return {prefix[:-1]: tree}
    flat = {}
    for key, value in tree.items():
        flat.update(_flat(value, f"{prefix}{key}."))
    return flat
