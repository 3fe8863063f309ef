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

    TASK = "inpaint"  # the task (`task=`) whose checkpoints this module reads

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, **kwargs):
        written_by = checkpoint_task(read_checkpoint(checkpoint_path))
        if written_by != cls.TASK:
            module = {"inpaint": "InpaintingModule", "classify": "ClassificationModule"}
            raise CheckpointError(
                f"{checkpoint_path}: a checkpoint of task={written_by}: load it with "
                f"{module[written_by]} (init_from= starts a {cls.TASK} run from its encoder)"
            )
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


def epochs_done(checkpoint: dict) -> int:
    """How many epochs of training a checkpoint holds (Lightning saves ours at an epoch's end)."""
    try:
        return int(checkpoint["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"])
    except (KeyError, TypeError, ValueError):
        return int(checkpoint.get("epoch", -1)) + 1


def checkpoint_task(checkpoint: dict) -> str:
    """The task (`task=`) that wrote a checkpoint: only a classifier saves num_classes."""
    return "classify" if "num_classes" in checkpoint["hyper_parameters"] else "inpaint"


def model_mismatch(checkpoint: dict, model_settings: dict, task: str = "inpaint") -> str | None:
    """Why the checkpoint's weights cannot be the model `model_settings` builds (the encoder's
    arguments) for `task`, naming the settings that differ; None when they fit."""
    from vit_inpaint.models import build_classifier, build_inpainter

    written_by = checkpoint_task(checkpoint)
    if written_by != task:
        return (
            f"a model of task={written_by}, not task={task} (init_from=CKPT starts a run from "
            "another task's encoder)"
        )
    saved = checkpoint["hyper_parameters"]["model"]
    differ = [
        f"model.{key}={saved[key]!r} there, {model_settings[key]!r} here"
        for key in sorted(set(saved) & set(model_settings))
        if saved[key] != model_settings[key]
    ]
    if task == "classify":
        num_classes = checkpoint["hyper_parameters"]["num_classes"]
        built = build_classifier(num_classes, **model_settings).state_dict()
    else:
        built = build_inpainter(**model_settings).state_dict()
    expected = {f"model.{k}": v.shape for k, v in built.items()}
    found = {k: v.shape for k, v in checkpoint["state_dict"].items() if k.startswith("model.")}
    wrong = [k for k in sorted(set(expected) | set(found)) if expected.get(k) != found.get(k)]
    if not differ and not wrong:
        return None
    if differ:
        return f"a model of other settings ({', '.join(differ)})"
    key = wrong[0]

    def shape(shapes: dict) -> str:
        return str(tuple(shapes[key])) if key in shapes else "absent"

    return (
        f"weights that do not fit the configured model ({key}: {shape(found)} there, "
        f"{shape(expected)} here)"
    )


def _atomic_checkpoint_io_class():
    import io

    import torch
    from lightning.pytorch.plugins.io import TorchCheckpointIO

    from vit_inpaint.storage.atomic import write_atomic

    class AtomicCheckpointIO(TorchCheckpointIO):
        """Lightning's checkpoint writer, all or nothing: the checkpoint is serialised in
        memory, written to a temporary file beside its destination and renamed over it, so a
        crash or a full disk leaves the previous checkpoint as it was, never half of a new one.
        Given to the Trainer by conf/trainer/default.yaml (plugins)."""

        def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
            if storage_options is not None:
                raise TypeError(
                    f"{type(self).__name__}.save_checkpoint takes no storage_options, got "
                    f"{storage_options!r}"
                )
            buffer = io.BytesIO()
            torch.save(checkpoint, buffer)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, buffer.getvalue())

    AtomicCheckpointIO.__module__ = __name__
    AtomicCheckpointIO.__qualname__ = "AtomicCheckpointIO"
    return AtomicCheckpointIO


def __getattr__(name: str):
    # AtomicCheckpointIO subclasses a Lightning class: built on first use, so that reading a
    # checkpoint (the inpaint tool) does not import Lightning.
    if name == "AtomicCheckpointIO":
        globals()[name] = _atomic_checkpoint_io_class()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
