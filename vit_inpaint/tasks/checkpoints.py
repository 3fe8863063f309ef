"""The one way from a checkpoint file to weights: the inpaint and evaluate tools, the Python API
(`InpaintingModule.load_from_checkpoint`), `init_from=`, resuming and the report all come here.

    checkpoint = read_checkpoint(path)        # the file's dict, read safely and checked
    checkpoint_task(checkpoint)               # the task (tasks/registry.py) that wrote it
    model_state(checkpoint)                   # the network's weights, without "model."
    network = build_network(checkpoint, path) # the bare network, its weights loaded
    mismatch(checkpoint, model_settings, ...) # why it cannot be the configured model, or None

The file is read with torch's safe loader (`weights_only=True`: tensors and plain values, never
arbitrary code), checked to hold what training writes (a `state_dict` of tensors, every one finite,
and `hyper_parameters` with the model's settings under "model"), and every failure becomes a
CheckpointError that names the file and says what to use instead. Nothing here imports
Lightning: the tools that only fill images start in a second or two.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vit_inpaint.models.encoder import ENCODER_SETTINGS, Encoder, is_encoder_key
from vit_inpaint.storage.images import CheckpointError, check_readable, one_line
from vit_inpaint.storage.plain_checkpoint import PREFIX, model_state
from vit_inpaint.tasks.registry import Task, task_of_checkpoint


def read_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """The checkpoint's contents (a dict), read safely and checked to be one of ours. The only
    place that reads a checkpoint file. map_location: torch.load's (where_saved: the devices it
    was saved from)."""
    path = Path(path)
    check_readable(path)
    not_ours = f"{path}: not a checkpoint of vit-inpaint"
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
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
    try:
        checkpoint_task(checkpoint)
    except ValueError as err:  # a task this version does not know
        raise CheckpointError(f"{path}: {err}") from None
    check_weights(checkpoint["state_dict"], path)
    check_recorded_values(checkpoint, path)
    return checkpoint


def check_recorded_values(checkpoint: dict, source: str | os.PathLike) -> None:
    """What a checkpoint records besides its weights, each of the type and range training writes,
    or a CheckpointError naming it: its model settings (checked by its model's settings object,
    models/registry.py), the photographs it trained on (the evaluate tool refuses them) and a
    classifier's temperature (NaN or 0 would give NaN probabilities, -1 flip every argmax)."""
    from vit_inpaint.models.registry import model_settings

    hparams = checkpoint["hyper_parameters"]
    try:
        model_settings(**hparams["model"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"{source}: its model settings are not valid ({one_line(err)})"
        ) from None
    # Settings and tensors must agree on every route, init_from= too, which takes the tensors
    # only: a file that says dim 4096 over dim-32 weights is not a checkpoint training wrote.
    wrong = _shape_mismatch(checkpoint_task(checkpoint), hparams, model_state(checkpoint))
    if wrong is not None:
        raise CheckpointError(f"{source}: its weights do not fit its settings ({wrong})")
    photos = hparams.get("photos")
    if photos is not None and not (
        isinstance(photos, dict)
        and all(isinstance(names, (list, tuple)) for names in photos.values())
        and all(isinstance(name, str) for names in photos.values() for name in names)
    ):
        raise CheckpointError(
            f"{source}: its record of the photographs it trained on is not a mapping of splits "
            f"to photograph names (got {one_line(repr(photos))[:80]})"
        )
    if "temperature" in checkpoint:
        check_temperature(checkpoint["temperature"], source)


def check_temperature(value, source: str | os.PathLike) -> float:
    """A classifier's saved temperature as a float: a positive finite number, or CheckpointError."""
    import math

    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise CheckpointError(
            f"{source}: its temperature must be a positive finite number, got {value!r} (a "
            "temperature fitted on the validation split is always one)"
        )
    return float(value)


def check_weights(state_dict: dict, source: str | os.PathLike) -> None:
    """Every entry a tensor, every value finite, or a CheckpointError naming the entries.

    Here, once for every route (the tools, init_from=, ckpt_path=, test_ckpt=, the report): NaN
    weights would fill every hole with garbage, test to a NaN score, or train into a NaN loss
    that blames the learning rate; a string where a tensor belongs fails deep in a shape check.
    """
    not_tensors = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        what = type(state_dict[not_tensors[0]]).__name__
        raise CheckpointError(
            f"{source}: not a checkpoint of vit-inpaint (its state_dict holds a {what}, not a "
            f"tensor, at {_some(not_tensors)})"
        )
    bad = [k for k, v in state_dict.items() if not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(
            f"{source}: non-finite weights: NaN or infinite values in {_some(bad)} (a training "
            "run that diverged?); use an earlier or the best checkpoint"
        )


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def where_saved(storage, location: str):
    """torch.load's map_location for "each tensor on the device it was saved from", except that a
    device this machine lacks (a GPU run read on a laptop) gives the CPU, as Lightning's loader."""
    gone = (location.startswith("cuda") and not torch.cuda.is_available()) or (
        location.startswith("mps") and not torch.backends.mps.is_available()
    )
    return storage.cpu() if gone else None


def checkpoint_task(checkpoint: dict) -> Task:
    """The task (`task=`) that wrote a checkpoint (its rules: tasks/registry.py)."""
    return task_of_checkpoint(checkpoint["hyper_parameters"])


def build_network(
    checkpoint: dict, source: str | os.PathLike = "checkpoint", task: str = "inpaint"
):
    """The bare network (no LightningModule) of a checkpoint of `task`, its weights loaded, on
    the CPU in eval mode; source names the file in errors."""
    written_by = checkpoint_task(checkpoint)
    if written_by.name != task:
        raise CheckpointError(f"{source}: a checkpoint of task={written_by.name}, not task={task}")
    hparams = checkpoint["hyper_parameters"]
    state = model_state(checkpoint)
    wrong = _shape_mismatch(written_by, hparams, state)  # before a network of any size is made
    if wrong is not None:
        raise CheckpointError(f"{source}: its weights do not fit its settings ({wrong})")
    try:
        network = written_by.build_network(hparams["model"], hparams, state_keys=state)
        network.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"{source}: its weights do not fit its settings ({one_line(err)})"
        ) from err
    return network.eval()


def shapes_of(build) -> dict:
    """The tensor shapes of the network `build()` makes, made on torch's meta device: no memory
    and no time, whatever size the settings say (a checkpoint's settings are checked against its
    tensors before a network is built for real)."""
    with torch.device("meta"):
        network = build()
    return {k: v.shape for k, v in network.state_dict().items()}


def _shape_mismatch(task: Task, hparams: dict, state: dict) -> str | None:
    """The first tensor of `state` whose name or shape the network `hparams` describe does not
    have, or None."""
    try:
        expected = shapes_of(
            lambda: task.build_network(hparams["model"], hparams, state_keys=state)
        )
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        return one_line(err)
    found = {k: v.shape for k, v in state.items()}
    wrong = [k for k in sorted(set(expected) | set(found)) if expected.get(k) != found.get(k)]
    if not wrong:
        return None
    key, settings = wrong[0], hparams["model"]
    there = tuple(found[key]) if key in found else "absent"
    here = tuple(expected[key]) if key in expected else "absent"
    described = ", ".join(
        f"{k}={settings[k]!r}" for k in ("image_size", "dim", "depth") if k in settings
    )
    return f"{key}: {there} in the file, {here} for the settings it records ({described})"


def mismatch(
    checkpoint: dict, model_settings: dict, task: str | None = None, run: dict | None = None
) -> str | None:
    """Why the checkpoint cannot give the model `model_settings` describe, naming the settings
    that differ (or the first tensor that does not fit); None when it fits.

    task: the configured task, whose whole model the checkpoint must be (resuming, testing): any
    differing setting is refused, even one that changes no shape. None: only its encoder must fit
    (init_from=, which starts a run of either task from either task's checkpoint), and only
    settings that change the encoder's shapes matter. run: the configured run's settings that
    shape its network besides the model's (`finetune`: a linear probe's network has a norm more),
    so the network checked is the one the run will load the checkpoint into."""
    saved = checkpoint["hyper_parameters"]["model"]
    hyper_parameters = {**checkpoint["hyper_parameters"], **(run or {})}
    found = {k: v.shape for k, v in model_state(checkpoint).items()}
    if task is not None:
        written_by = checkpoint_task(checkpoint).name
        if written_by != task:
            return (
                f"a model of task={written_by}, not task={task} (init_from=CKPT starts a run from "
                "another task's encoder)"
            )
        what, fits = "a model", "weights that do not fit the configured model"
        settings = sorted(set(saved) & set(model_settings))
        expected = shapes_of(
            lambda: checkpoint_task(checkpoint).build_network(
                model_settings, hyper_parameters, state_keys=found
            )
        )
    else:
        what, fits = "an encoder", "an encoder that does not fit the configured model"
        settings = [k for k in ENCODER_SETTINGS if k in saved and k in model_settings]
        wanted = {k: v for k, v in model_settings.items() if k in ENCODER_SETTINGS}
        expected = shapes_of(lambda: Encoder(**wanted))
        found = {k: v for k, v in found.items() if is_encoder_key(k)}
    wrong = [k for k in sorted(set(expected) | set(found)) if expected.get(k) != found.get(k)]
    differ = [
        f"model.{key}={saved[key]!r} there, {model_settings[key]!r} here"
        for key in settings
        if saved[key] != model_settings[key]
    ]
    if not wrong and (task is None or not differ):
        return None
    if differ:
        return f"{what} of other settings ({', '.join(differ)})"
    differ = [
        f"{key}={checkpoint['hyper_parameters'].get(key)!r} there, {value!r} here"
        for key, value in (run or {}).items()
        if key in checkpoint["hyper_parameters"] and checkpoint["hyper_parameters"][key] != value
    ]
    if differ:  # and the shapes differ: a run of these settings cannot load it
        return f"{what} of other settings ({', '.join(differ)})"
    key = wrong[0]
    there = tuple(found[key]) if key in found else "absent"
    here = tuple(expected[key]) if key in expected else "absent"
    # The whole model's tensors are named as in the module's state_dict (model.blocks.0...).
    name = f"{PREFIX}{key}" if task is not None else key
    return f"{fits} ({name}: {there} there, {here} here)"


def epochs_done(checkpoint: dict) -> int:
    """How many epochs of training a checkpoint holds (Lightning saves ours at an epoch's end)."""
    try:
        return int(checkpoint["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"])
    except (KeyError, TypeError, ValueError):
        return int(checkpoint.get("epoch", -1)) + 1
