"""The optimizer and its learning-rate schedule, shared by every task: `optimizer=adam|adamw|sgd`,
`optimizer.schedule=constant|cosine`, and MAE's fine-tuning rates (`optimizer.layer_decay`)."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import torch

from vit_inpaint.config.choices import OPTIMIZERS, SCHEDULES
from vit_inpaint.errors import ConfigError

# The default optimizer, declared once: train.yaml's default (the report's Adam), which a module
# built without a config (a notebook's InpaintingModule()) and the timed loops read too.
DEFAULT_OPTIMIZER_FILE = Path(__file__).resolve().parents[2] / "conf" / "optimizer" / "adam.yaml"


def default_optimizer() -> dict:
    """conf/optimizer/adam.yaml's settings (a new dict each call: callers may change theirs)."""
    return dict(_read_default_optimizer())


@functools.cache
def _read_default_optimizer() -> dict:
    from omegaconf import OmegaConf

    settings = OmegaConf.to_container(OmegaConf.load(DEFAULT_OPTIMIZER_FILE))
    settings.pop("defaults", None)  # its schema, which Hydra composes in
    return settings


def build_optimizer(
    params, name: str, lr: float, schedule: str = "constant", **options
) -> torch.optim.Optimizer:
    """`optimizer=adam|adamw|sgd`, fused where torch has a fused kernel for the parameters' device.

    The fused step updates all parameters in one kernel; for a model this small the default
    per-tensor step costs more time than the forward and backward passes together.
    """
    classes = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    if name not in classes:
        raise ValueError(f"optimizer.name must be one of {OPTIMIZERS}, got {name!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"optimizer.schedule must be one of {SCHEDULES}, got {schedule!r}")
    options.pop("warmup_steps", None)  # read by the scheduler, not the optimizer
    options.pop("layer_decay", None)  # read by layer_groups, before this
    params = list(params)
    try:
        return classes[name](params, lr=lr, fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or dtype
        return classes[name](params, lr=lr, **options)


def layer_groups(model: torch.nn.Module, lr: float, decay: float) -> list[dict]:
    """MAE's layer-wise learning-rate decay (its fine-tuning recipe, from BEiT): the head and the
    final norm train at `lr`, the last block at lr * decay, the one before at lr * decay**2, ...,
    the stem, patch embedding and position encoding at lr * decay**(depth + 1). A pretrained
    encoder's first layers, the most general, move least; decay=1 is one rate for all.

    Frozen weights (finetune=linear_probe|last_block) are left out. Returns torch param groups,
    one per layer, each with its own "lr" (which the cosine schedule then scales)."""
    if not getattr(model, "has_blocks", False):
        raise ConfigError(
            f"optimizer.layer_decay needs transformer blocks; {type(model).__name__} has none: "
            "set optimizer.layer_decay=1"
        )
    depth = len(model.blocks)
    layers: dict[int, list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if name.startswith("blocks."):
            layer = int(name.split(".")[1]) + 1
        elif name.startswith(("stem.", "embed.", "pos.")):
            layer = 0
        else:  # the final norm, the head (and an MAE decoder's modules)
            layer = depth + 1
        layers.setdefault(layer, []).append(parameter)
    return [
        {"params": params, "lr": lr * decay ** (depth + 1 - layer)}
        for layer, params in sorted(layers.items())
    ]


def cosine(step: int, total: int, warmup: int = 0) -> float:
    """Learning-rate factor: linear warm-up over `warmup` steps, then half a cosine down to 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def configure_optimizers(module, optimizer_config: dict):
    """What a LightningModule's configure_optimizers returns: the optimizer and its per-step rate,
    constant (the report), or with `optimizer.schedule=cosine` a short warm-up then half a cosine
    from lr down to 0."""
    # Frozen weights (finetune=linear_probe|last_block) are left out; all of them otherwise.
    decay = optimizer_config.get("layer_decay", 1.0)
    if decay < 1.0:
        trainable = layer_groups(module.model, optimizer_config["lr"], decay)
    else:
        trainable = [p for p in module.parameters() if p.requires_grad]
    optimizer = build_optimizer(trainable, **optimizer_config)
    if optimizer_config.get("schedule", "constant") == "constant":
        return optimizer  # no scheduler to step: a constant rate costs nothing per step
    total = max(1, int(module.trainer.estimated_stepping_batches))
    warmup = min(optimizer_config.get("warmup_steps", 0), total // 2)
    factor = functools.partial(cosine, total=total, warmup=warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
