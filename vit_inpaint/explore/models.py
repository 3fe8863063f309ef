"""The models the explorer page shows: the small ones shipped in vit_inpaint/weights/ (how each
was trained: `RECIPES`, docs/explore.md), or a user's own run (`RUN=outputs/runs/<time>`).

    model = load_model(SHIPPED_MODELS["4x4, Gaussian fields"])   # an ExploredModel
    model = load_run("outputs/runs/<time>")                       # its last.ckpt

A shipped file is a training checkpoint without the optimizer's state (`ship`), with an "explore"
entry that names the data it was trained on, so the page can draw a new image of that data and
compute its exact Bayes fill. A run folder says the same in its .hydra/config.yaml. Every file is
read by tasks/checkpoints.py (torch's safe loader, finite weights); every failure is an
ExploreError whose message the page shows as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
# The page's models, by the name its selectors show, and the file each ships as.
SHIPPED_MODELS = {
    "4x4, uniform noise": WEIGHTS / "explore_noise4.ckpt",
    "4x4, Gaussian fields": WEIGHTS / "explore_gaussian4.ckpt",
    "8x8, Gaussian fields": WEIGHTS / "explore_gaussian8.ckpt",
}
DIGITS_MODEL = WEIGHTS / "explore_digits.ckpt"
# How each shipped file was made (run from the repository root, then `ship`): BENCHMARKS.md.
GRF = "data=gaussian_field data.num_train=12800 data.num_val=1000 data.num_test=1000"
RECIPES = {
    "explore_noise4.ckpt": "python train.py threads=1 seed=0",
    "explore_gaussian4.ckpt": f"python train.py {GRF} threads=1 seed=0",
    "explore_gaussian8.ckpt": f"python train.py {GRF} data.image_size=8 threads=1 seed=0",
    "explore_digits.ckpt": "python train.py experiment=digits trainer.max_epochs=80 threads=1 "
    "seed=0",
}


class ExploreError(ValueError):
    """Something the page cannot show, said in one line the page prints as it is."""


@dataclass
class ExploredModel:
    network: object  # InpaintingViT / ViTClassifier / MAE, eval mode, on the CPU
    source: str  # the file it came from, for messages
    task: str  # "inpaint" | "classify"
    # {"kind": uniform_noise | gaussian_field | digits | photos | other, and its settings}
    data: dict = field(default_factory=dict)
    temperature: float = 1.0  # a classifier's, fitted on its validation split
    metrics: dict = field(default_factory=dict)  # its run's test figures (run_metrics)

    @property
    def image_size(self) -> int:
        return self.network.image_size

    @property
    def patch_size(self) -> int:
        return self.network.patch_size

    @property
    def recipe(self) -> str | None:
        """The command that trained a shipped model (None for RUN=)."""
        return RECIPES.get(Path(self.source).name)

    @property
    def kind(self) -> str:
        return self.data.get("kind", "other")

    @property
    def shows_attention(self) -> bool:
        """Whether forward takes return_attention (models declare it: has_attention_maps)."""
        return bool(getattr(self.network, "has_attention_maps", True))


def load_model(path: str | os.PathLike, data: dict | None = None) -> ExploredModel:
    """The model of a checkpoint file; data: what it was trained on, when the file does not say."""
    from vit_inpaint.storage.images import FileError
    from vit_inpaint.tasks.checkpoints import build_network, checkpoint_task, read_checkpoint

    path = Path(path)
    try:
        checkpoint = read_checkpoint(path)
        task = checkpoint_task(checkpoint).name
        network = build_network(checkpoint, path, task=task)
    except FileError as err:
        raise ExploreError(str(err)) from None
    explore = checkpoint.get("explore") if isinstance(checkpoint.get("explore"), dict) else {}
    recorded = explore.get("data")
    return ExploredModel(
        network=network,
        source=str(path),
        task=task,
        data=dict(recorded or data or {"kind": "other"}),
        temperature=float(checkpoint.get("temperature", 1.0)),
        metrics=dict(explore.get("metrics") or {}),
    )


def run_checkpoint(run: str | os.PathLike) -> Path:
    """RUN=: a checkpoint file itself, or a run folder's checkpoints/last.ckpt."""
    run = Path(run)
    if run.is_file():
        return run
    if not run.exists():
        raise ExploreError(f"RUN={run}: no such file or folder")
    last = run / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise ExploreError(
            f"RUN={run}: no checkpoints/last.ckpt in this folder; give a run folder of "
            "`python train.py` (outputs/runs/<time>) or a .ckpt file"
        )
    return last


def run_data(checkpoint: Path) -> dict:
    """What a run trained on, from its folder's .hydra/config.yaml ({"kind": "other"} if absent)."""
    config = checkpoint.parent.parent / ".hydra" / "config.yaml"
    if not config.is_file():
        return {"kind": "other"}
    from omegaconf import OmegaConf

    try:
        data = OmegaConf.to_container(OmegaConf.load(config).get("data", {}), resolve=False)
    except Exception:  # a hand-edited or truncated config: the model still shows, without Bayes
        return {"kind": "other"}
    return data_summary(data)


def data_summary(data: dict) -> dict:
    """conf/data's node -> {"kind", and for Gaussian fields mean, sigma, lengthscales, jitter}."""
    images = data.get("images") or {}
    target = str(images.get("_target_", ""))
    kinds = {"UniformNoise": "uniform_noise", "GaussianField": "gaussian_field",
             "Digits": "digits", "Photos": "photos"}  # fmt: skip
    kind = next((k for name, k in kinds.items() if target.endswith(name)), "other")
    summary = {"kind": kind}
    if kind == "gaussian_field":
        for key in ("mean", "sigma", "lengthscales", "jitter"):
            if key in images:
                summary[key] = images[key]
    return summary


def run_metrics(checkpoint: Path) -> dict:
    """The test figures the page quotes, from the run's metrics.json ({} if it has none)."""
    import json

    path = checkpoint.parent.parent / "metrics.json"
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    wanted = ("test/mse", "test/mse_bayes", "test/mse_over_bayes", "test/acc", "test/nll")
    return {key: float(metrics[key]) for key in wanted if key in metrics}


def load_run(run: str | os.PathLike) -> ExploredModel:
    checkpoint = run_checkpoint(run)
    model = load_model(checkpoint, data=run_data(checkpoint))
    model.metrics = model.metrics or run_metrics(checkpoint)
    return model


def ship(run: str | os.PathLike, destination: str | os.PathLike, half: bool = False) -> Path:
    """A run's last.ckpt without the optimizer's state, with the data it trained on recorded:
    the file the page ships (`python -m vit_inpaint.explore.models RUN DEST [--half]`). half:
    the weights in 16-bit floats (half the size; loading turns them back into 32-bit ones)."""
    import io

    import torch

    from vit_inpaint.storage.atomic import write_atomic
    from vit_inpaint.tasks.checkpoints import read_checkpoint

    source = run_checkpoint(run)
    model = load_model(source, data=run_data(source))  # refuses what the page could not show
    checkpoint = read_checkpoint(source)
    keep = ("state_dict", "hyper_parameters", "epoch", "global_step", "temperature",
            "pytorch-lightning_version")  # fmt: skip
    slim = {key: checkpoint[key] for key in keep if key in checkpoint}
    if half:
        slim["state_dict"] = {k: v.half() if v.is_floating_point() else v
                              for k, v in slim["state_dict"].items()}  # fmt: skip
    slim["explore"] = {"data": model.data, "metrics": run_metrics(source)}
    buffer = io.BytesIO()
    torch.save(slim, buffer)
    destination = Path(destination)
    write_atomic(destination, buffer.getvalue())
    return destination


if __name__ == "__main__":
    import sys

    arguments = [a for a in sys.argv[1:] if a != "--half"]
    if len(arguments) != 2:
        sys.exit("usage: python -m vit_inpaint.explore.models RUN_FOLDER DESTINATION.ckpt [--half]")
    print(f"wrote {ship(*arguments, half='--half' in sys.argv)}")
