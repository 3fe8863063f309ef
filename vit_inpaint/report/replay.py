"""A configuration's model replayed on its own test images, for the report's pictures: the data
rebuilt from the job's recorded config (data/datamodule.py's build_inpainting_data) and the model
read through the project's one checkpoint module (tasks/checkpoints.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vit_inpaint.report.runs import Configuration, Job


@dataclass
class Prediction:
    """A configuration's model on a few of its own test images (numpy arrays)."""

    label: str
    images: np.ndarray  # (k, H, W) in [0, 1]-ish
    masks: np.ndarray  # (k, H, W) bool, True = hidden
    reconstructions: np.ndarray  # (k, H, W)
    # (heads, N, N): the last layer's weights for the first image; None for a network without
    # attention maps (its class's has_attention_maps)
    attention: np.ndarray | None


def rebuild_test_data(job: Job, count: int):
    """The job's first `count` test images and masks, made from its config as training made them."""
    from omegaconf import OmegaConf

    from vit_inpaint.data.datamodule import build_inpainting_data

    config = OmegaConf.load(job.path / ".hydra" / "config.yaml")
    # paths.output_dir is `${hydra:runtime.output_dir}`, which resolves only inside a Hydra run;
    # the data never needs it, but anything that resolves the config must not trip on it.
    if "paths" in config:
        config.paths.output_dir = str(job.path)
    datamodule = build_inpainting_data(config)  # the report replays inpainting runs only
    datamodule.setup()
    return datamodule.images["test"][:count], datamodule.masks["test"][:count]


def predict(configuration: Configuration, count: int) -> Prediction | None:
    """The first finished seed's best model on `count` test images; None if no model is saved."""
    job = next((job for job in configuration.finished if job.checkpoint), None)
    if job is None:
        return None
    import torch

    from vit_inpaint.tasks.inpainting import InpaintingModule

    images, masks = rebuild_test_data(job, count)
    module = InpaintingModule.load_from_checkpoint(job.checkpoint, map_location="cpu").eval()
    reconstructions = module.inpaint(images, masks)
    attention = None
    if getattr(module.model, "has_attention_maps", False):
        with torch.no_grad():
            _, layers = module.model(images[:1], masks[:1], return_attention=True)
        attention = layers[-1][0].float().numpy()
    seed = f" (seed {job.seed})" if job.seed is not None else ""
    return Prediction(
        label=configuration.label + seed + f", {checkpoint_words(job.checkpoint)}",
        images=images.numpy(),
        masks=masks.numpy(),
        reconstructions=reconstructions.numpy(),
        attention=attention,
    )


def checkpoint_words(path) -> str:
    """Which checkpoint a picture shows, for its title: TensorBoard's pictures show the last
    epoch, the report's the best one, which may come early ("best val/mse, epoch 3")."""
    from vit_inpaint.tasks.checkpoints import epochs_done, read_checkpoint

    which = "last epoch" if path.name == "last.ckpt" else "best val/mse"
    return f"{which}, epoch {epochs_done(read_checkpoint(path))}"
