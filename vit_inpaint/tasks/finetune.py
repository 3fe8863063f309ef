"""Starting one task from another's checkpoint (`init_from=CKPT`) and choosing which weights
train (`finetune=full|linear_probe|last_block`).

Both models are the shared encoder plus a head (`models/encoder.py`), with the encoder's
parameters at the same names in both (`model.embed.weight`, `model.blocks.0...`). So any
checkpoint of either task can start a run of either task: every tensor whose name and shape fit
is copied, everything else (another task's head, a head for another number of classes) keeps its
fresh initialisation. The encoder itself must fit: `encoder_mismatch` refuses, before training, a
checkpoint whose encoder the configured model cannot take, naming the settings that differ.
"""

from __future__ import annotations

import logging

from torch import nn

from vit_inpaint.models.encoder import is_encoder_key

log = logging.getLogger(__name__)

# The settings that shape the encoder's weights (the others, attention and attend_to_hidden,
# change how it computes, not what it holds).
ENCODER_SETTINGS = (
    "image_size",
    "patch_size",
    "dim",
    "depth",
    "heads",
    "mlp_ratio",
    "pos_embedding",
    "prior",
)


def freeze_for(model: nn.Module, finetune: str) -> None:
    """Sets requires_grad for `finetune`: full (everything trains), linear_probe (only the head),
    last_block (the last transformer block, the final norm and the head)."""
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


def encoder_mismatch(checkpoint: dict, model_settings: dict) -> str | None:
    """Why the checkpoint's encoder cannot go into the model `model_settings` builds, naming the
    differing settings (or the first tensor that does not fit); None when it fits."""
    from vit_inpaint.models.encoder import Encoder

    wanted = {k: v for k, v in model_settings.items() if k in ENCODER_SETTINGS}
    expected = {k: v.shape for k, v in Encoder(**wanted).state_dict().items()}
    found = {
        k[len("model.") :]: v.shape
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("model.") and is_encoder_key(k[len("model.") :])
    }
    wrong = [k for k in sorted(set(expected) | set(found)) if expected.get(k) != found.get(k)]
    if not wrong:
        return None
    saved = checkpoint["hyper_parameters"]["model"]
    differ = [
        f"model.{key}={saved[key]!r} there, {wanted[key]!r} here"
        for key in ENCODER_SETTINGS
        if key in saved and key in wanted and saved[key] != wanted[key]
    ]
    if differ:
        return f"an encoder of other settings ({', '.join(differ)})"
    key = wrong[0]
    there = tuple(found[key]) if key in found else "absent"
    here = tuple(expected[key]) if key in expected else "absent"
    return f"an encoder that does not fit the configured model ({key}: {there} there, {here} here)"


def load_fitting(
    model: nn.Module, checkpoint: dict, source: str, task: str | None = None
) -> tuple[list[str], list[str]]:
    """Copies into `model` every tensor of the checkpoint's model whose name and shape fit; logs
    one line naming what was loaded and what kept its initialisation. Returns both lists.

    task: the run's task; a checkpoint of another task gives its encoder only. Its head may have
    the very shape of this one (a 4x4 inpainter's head, 4 pixels a patch, and a 4-lengthscale
    classifier's, 4 classes) but means something else: it keeps its fresh initialisation."""
    from vit_inpaint.storage.checkpoints import checkpoint_task

    other_task = task is not None and checkpoint_task(checkpoint) != task
    saved = {
        k[len("model.") :]: v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("model.") and not (other_task and not is_encoder_key(k[len("model.") :]))
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
