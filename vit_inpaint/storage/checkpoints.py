"""The one way this project reads a checkpoint: the Python API, the report and the inpaint tool all
come here.

The file is read with torch's safe loader (`weights_only=True`: tensors and plain values, never
arbitrary code), checked to hold what training writes (a `state_dict` and `hyper_parameters` with
the model's settings under "model"), and every failure becomes a CheckpointError that names the
file and says what to use instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from vit_inpaint.storage.images import FileError, check_readable, one_line


class CheckpointError(FileError):
    """A file that is not a usable checkpoint of this project."""


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint's contents (a dict), read safely and checked to be one of ours."""
    path = Path(path)
    check_readable(path)
    import torch

    not_ours = f"{path}: not a checkpoint of vit-inpaint"
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a non-torch file fails in many different ways
        raise CheckpointError(f"{not_ours} (not a file torch.load can read)") from err
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if (
        not isinstance(checkpoint, dict)
        or not isinstance(checkpoint.get("state_dict"), dict)
        or not isinstance(hparams, dict)
        or not isinstance(hparams.get("model"), dict)
    ):
        raise CheckpointError(
            f"{not_ours} (a torch file without the 'state_dict' and 'hyper_parameters' with a "
            "'model' entry that training writes; use checkpoints/last.ckpt or the best one of a "
            "run's folder)"
        )
    return checkpoint


def load_checkpoint(path: str | os.PathLike, module_class=None):
    """A trained module from one of this project's checkpoints, on the CPU, in eval mode.

    module_class: the LightningModule to rebuild (default: InpaintingModule).
    """
    if module_class is None:
        from vit_inpaint.tasks.inpainting import InpaintingModule as module_class
    return module_class.load_from_checkpoint(path, map_location="cpu").eval()


class SafeLoading:
    """Mixed into each task's LightningModule: its `load_from_checkpoint` (the Python API) reads
    through `read_checkpoint`, torch's safe loader, and fails with a CheckpointError that names
    the file instead of a traceback from deep inside torch or Lightning."""

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, **kwargs):
        read_checkpoint(checkpoint_path)
        kwargs.setdefault("weights_only", True)
        try:
            return super().load_from_checkpoint(
                checkpoint_path, map_location=map_location, **kwargs
            )
        except Exception as err:  # e.g. weights that do not fit the saved settings
            raise CheckpointError(
                f"{checkpoint_path}: not a checkpoint of vit-inpaint "
                f"({type(err).__name__}: {one_line(err)})"
            ) from err
