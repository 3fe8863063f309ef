"""Starting one task from another's checkpoint (`init_from=CKPT`) and choosing which weights
train (`finetune=full|linear_probe|last_block`).

Both models are the shared encoder plus a head (`models/encoder.py`), with the encoder's
parameters at the same names in both (`model.embed.weight`, `model.blocks.0...`). So any
checkpoint of either task can start a run of either task: every tensor whose name and shape fit
is copied, everything else (another task's head, a head for another number of classes) keeps its
fresh initialisation. The encoder itself must fit: `mismatch` (tasks/checkpoints.py) refuses,
before training, a checkpoint whose encoder the configured model cannot take, naming the settings
that differ.
"""

from __future__ import annotations

import logging

from torch import nn

from vit_inpaint.errors import ConfigError
from vit_inpaint.models.encoder import is_encoder_key
from vit_inpaint.storage.plain_checkpoint import model_state
from vit_inpaint.tasks.checkpoints import checkpoint_task

log = logging.getLogger(__name__)


def freeze_for(model: nn.Module, finetune: str) -> None:
    """Sets requires_grad for `finetune`: full (everything trains), linear_probe (only the head),
    last_block (the last transformer block, the final norm and the head)."""
    if finetune == "last_block" and not getattr(model, "has_blocks", False):
        raise ConfigError(
            f"finetune=last_block needs transformer blocks; {type(model).__name__} has none: "
            "use finetune=full or linear_probe"
        )
    frozen = {
        "full": lambda name: False,
        "linear_probe": is_encoder_key,
        "last_block": lambda name: (
            is_encoder_key(name)
            and not (
                name.startswith(f"blocks.{len(model.blocks) - 1}.") or name.startswith("norm.")
            )
        ),
    }[finetune]
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(not frozen(name))


def load_fitting(
    model: nn.Module, checkpoint: dict, source: str, task: str | None = None
) -> tuple[list[str], list[str]]:
    """Copies into `model` every tensor of the checkpoint's model whose name and shape fit; logs
    one line naming what was loaded and what kept its initialisation. Returns both lists.

    task: the run's task; a checkpoint of another task gives its encoder only. Its head may have
    the very shape of this one (a 4x4 inpainter's head, 4 pixels a patch, and a 4-lengthscale
    classifier's, 4 classes) but means something else: it keeps its fresh initialisation."""
    other_task = task is not None and checkpoint_task(checkpoint).name != task
    saved = {
        k: v for k, v in model_state(checkpoint).items() if is_encoder_key(k) or not other_task
    }
    own = model.state_dict()
    fits = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(fits, strict=False)
    loaded = sorted(fits)
    fresh = sorted(set(own) - set(fits))
    log.info(
        "init_from %s: loaded %d tensors (%s); re-initialised %d (%s)",
        source,
        len(loaded),
        _summary(loaded),
        len(fresh),
        _summary(fresh) or "none",
    )
    return loaded, fresh


def _summary(names: list[str]) -> str:
    """Names grouped by module: blocks.0.* rather than the dozen tensors of a block."""
    groups: list[str] = []
    for name in names:
        parts = name.split(".")
        group = ".".join(parts[:2]) + ".*" if parts[0] == "blocks" else name
        if group not in groups:
            groups.append(group)
    return ", ".join(groups)
