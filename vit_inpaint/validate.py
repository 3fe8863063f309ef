"""Refuse a bad configuration before any data is made or any file is written.

Each check names the config field at fault and the value it got, so `python train.py
model.heads=3` fails in a second with "model.dim (64) must be divisible by model.heads (3)" instead
of a shape error deep inside attention.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the field."""


def _positive(cfg: DictConfig, path: str) -> None:
    value = cfg_select(cfg, path)
    if value is None or value <= 0:
        raise ConfigError(f"{path} must be positive, got {value}")


def cfg_select(cfg: DictConfig, path: str):
    node = cfg
    for key in path.split("."):
        if node is None or key not in node:
            return None
        node = node[key]
    return node


def check_config(cfg: DictConfig, multirun: bool = False) -> None:
    """Raises ConfigError on the first value that cannot work.

    multirun: the run is one job of a Hydra multirun (`-m`).
    """
    from vit_inpaint.masking import build_masking, check_masking
    from vit_inpaint.metrics import InpaintingMetrics
    from vit_inpaint.model import ATTENTIONS, POS_EMBEDDINGS
    from vit_inpaint.module import OPTIMIZERS, SCHEDULES

    for path in (
        "data.image_size",
        "data.num_train",
        "data.num_val",
        "data.num_test",
        "data.batch_size",
        "optimizer.lr",
        "model.patch_size",
        "model.dim",
        "model.depth",
        "model.heads",
        "trainer.max_epochs",
    ):
        _positive(cfg, path)

    data, model = cfg.data, cfg.model
    if data.batch_size > data.num_train:
        raise ConfigError(
            f"data.batch_size ({data.batch_size}) is larger than the training set "
            f"(data.num_train={data.num_train})"
        )
    if data.image_size % model.patch_size != 0:
        raise ConfigError(
            f"data.image_size ({data.image_size}) must be divisible by model.patch_size "
            f"({model.patch_size})"
        )
    if model.dim % model.heads != 0:
        raise ConfigError(
            f"model.dim ({model.dim}) must be divisible by model.heads ({model.heads})"
        )
    if model.pos_embedding not in POS_EMBEDDINGS:
        raise ConfigError(
            f"model.pos_embedding must be one of {POS_EMBEDDINGS}, got {model.pos_embedding!r}"
        )
    if model.pos_embedding == "sincos" and model.dim % 4 != 0:
        raise ConfigError(
            f"model.dim ({model.dim}) must be divisible by 4 for model.pos_embedding=sincos"
        )
    if model.attention not in ATTENTIONS:
        raise ConfigError(f"model.attention must be one of {ATTENTIONS}, got {model.attention!r}")
    if cfg.optimizer.name not in OPTIMIZERS:
        raise ConfigError(f"optimizer.name must be one of {OPTIMIZERS}, got {cfg.optimizer.name!r}")

    schedule = cfg.optimizer.get("schedule", "constant")
    if schedule not in SCHEDULES:
        raise ConfigError(f"optimizer.schedule must be one of {SCHEDULES}, got {schedule!r}")

    try:
        masking = build_masking(**cfg.masking)
        check_masking(masking, data.image_size, data.image_size)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"masking: {error}") from None

    threads = cfg.get("threads")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"threads must be a positive integer or null, got {threads!r}")

    ckpt_path = cfg.get("ckpt_path")
    if ckpt_path is not None and not Path(ckpt_path).is_file():
        raise ConfigError(f"ckpt_path: no checkpoint file at {ckpt_path}")

    # The value train() returns for a hyperparameter sweeper: a validation metric (tuning on the
    # test split would leak it), one that every run logs or a baseline's mse_* beside it.
    optimized = cfg.get("optimized_metric")
    if optimized is not None:
        prefix, _, name = str(optimized).partition("/")
        known = (*InpaintingMetrics.NAMES, "mse_over_bayes")
        if prefix != "val" or not (name in known or name.startswith("mse_")):
            raise ConfigError(
                f"optimized_metric must be a validation metric val/<name> with <name> one of "
                f"{known}, got {optimized!r}"
            )

    strategy = str(cfg.trainer.get("strategy", "auto"))
    if multirun and strategy == "ddp" and cfg.trainer.get("devices", 1) not in (1, "1"):
        raise ConfigError(
            "trainer.strategy=ddp (trainer=ddp) cannot run inside a multirun (-m): Lightning "
            "starts each extra process by re-running this command, which would start the sweep "
            "again. Run each DDP training as a single run (python train.py trainer=ddp ...), or "
            "keep -m and use trainer.strategy=ddp_spawn, which starts its processes from within "
            "the job."
        )
