"""AtomicCheckpointIO: the Lightning plugin that writes this project's checkpoints, all or
nothing. Given to the Trainer by conf/trainer/default.yaml (plugins)."""

from __future__ import annotations

import io
from pathlib import Path

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from vit_inpaint.storage.atomic import write_atomic


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, all or nothing: the checkpoint is serialised in memory,
    written to a temporary file beside its destination and renamed over it, so a crash or a full
    disk leaves the previous checkpoint as it was, never half of a new one."""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError(
                f"{type(self).__name__}.save_checkpoint takes no storage_options, got "
                f"{storage_options!r}"
            )
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, buffer.getvalue())
        except OSError as error:
            if error.filename is not None:
                raise
            # A write that fails part-way (a full disk) names no file: the user needs the path.
            raise OSError(error.errno, error.strerror, str(path)) from error
