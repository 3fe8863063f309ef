"""A new model and a new task land in their own files plus one registry line each: a toy model
and a toy task, registered here, trained through `train.py` and written into a sweep report.

Their yaml files go in a folder of this test's own, added to Hydra's search path, as a user's
files would go in conf/model/ and conf/task/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from tests.conftest import run_sweep
from vit_inpaint.report.tables import Column
from vit_inpaint.tasks.base import TaskModule

# --- a toy model: one learned value per pixel, no attention, no transformer blocks ------------


@dataclass
class ToySettings:
    name: str = "toy"
    image_size: int = 4
    dim: int = 8  # debug=tiny sets model.dim and model.depth, as it does for every model
    depth: int = 1

    def __post_init__(self) -> None:
        if self.image_size < 1:
            raise ValueError(f"model.image_size must be positive, got {self.image_size}")


class ToyInpainter(nn.Module):
    has_attention_maps = False
    has_blocks = False

    def __init__(self, image_size: int = 4, dim: int = 8, depth: int = 1):
        super().__init__()
        self.image_size = image_size
        self.fill = nn.Parameter(torch.zeros(image_size, image_size))

    def forward(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.where(mask, self.fill.expand_as(images), images)


TOY_MODEL_YAML = """\
defaults:
  - /hydra/schema/model/toy@_here_
  - _self_
name: toy
image_size: ${data.image_size}
dim: 8
depth: 1
"""

# --- a toy task: fill the hidden pixels, scored by their mean absolute error ------------------


class ToyModule(TaskModule):
    TASK = "toy"

    def __init__(self, model: dict | None = None, optimizer: dict | None = None):
        super().__init__(optimizer)
        self.save_hyperparameters()
        from vit_inpaint.tasks.registry import get_task

        self.model = get_task("toy").build_network(model or {}, dict(self.hparams))

    @classmethod
    def from_config(cls, cfg, datamodule) -> ToyModule:
        model = OmegaConf.to_container(cfg.model, resolve=True)
        return cls(model=model, optimizer=OmegaConf.to_container(cfg.optimizer, resolve=True))

    def describe(self) -> str:
        return "the toy task"

    def _error(self, batch) -> torch.Tensor:
        images, masks = batch
        return (self.model(images, masks) - images).abs()[masks].mean()

    def training_loss(self, batch) -> torch.Tensor:
        return self._error(batch)

    def validation_step(self, batch, batch_idx: int) -> None:
        self.log("val/toy_error", self._error(batch))

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        if dataloader_idx == 0:  # the run's own masks only
            self.log("test/toy_error", self._error(batch), add_dataloader_idx=False)


def toy_baselines(datamodule) -> dict[str, float]:
    images, masks = datamodule.images["val"], datamodule.masks["val"]
    return {"val/toy_error_half": float((images - 0.5).abs()[masks].mean())}


def toy_columns(configurations) -> list[Column]:
    return [Column("test/toy_error", "test toy error", better="lower")]


def toy_findings(configurations) -> str:
    return f"The toy task ran {len(configurations)} configuration(s)."


def toy_glossary(configurations) -> list[str]:
    return ["- `toy error`: mean absolute error over the hidden pixels"]


TOY_TASK_YAML = """\
# @package _global_
defaults:
  - /hydra/schema/task/inpaint@task
  - _self_
task:
  name: toy
  augment_shift: 0
  augment_rotate: 0.0
  augment_scale: 0.0
optimized_metric: val/toy_error
callbacks:
  model_checkpoint:
    monitor: val/toy_error
"""


@pytest.fixture
def registered(tmp_path):
    """The toy model and task in their registries (one line each) and their yaml files on
    Hydra's search path; both registries as they were afterwards."""
    from vit_inpaint.launch import schema
    from vit_inpaint.models.registry import MODELS, Model, register_model
    from vit_inpaint.tasks.registry import TASKS, Task, register_task

    here = __name__  # this module, wherever it lives
    register_model(Model("toy", ToySettings, {"inpainter": f"{here}:ToyInpainter"}))
    register_task(
        Task(
            name="toy",
            module=f"{here}:ToyModule",
            data="vit_inpaint.data.datamodule:build_inpainting_data",
            baselines=f"{here}:toy_baselines",
            network_role="inpainter",
            metrics=("toy_error",),
            baseline_prefixes=("toy_error_",),
            report_columns=f"{here}:toy_columns",
            report_all_columns=f"{here}:toy_columns",
            report_findings=f"{here}:toy_findings",
            report_glossary=f"{here}:toy_glossary",
            report_heading="Toy",
            masked=True,  # its data are build_inpainting_data's: images and masks
        )
    )
    schema.register()  # the toy model's settings become conf/model/toy.yaml's schema
    conf = tmp_path / "conf"
    (conf / "model").mkdir(parents=True)
    (conf / "task").mkdir()
    (conf / "model" / "toy.yaml").write_text(TOY_MODEL_YAML)
    (conf / "task" / "toy.yaml").write_text(TOY_TASK_YAML)
    try:
        yield f"hydra.searchpath=[file://{conf}]"
    finally:
        MODELS.pop("toy", None)
        TASKS.pop("toy", None)


def metrics_of(sweep: Path) -> dict:
    (job,) = [p for p in sweep.iterdir() if (p / "metrics.json").is_file()]
    return json.loads((job / "metrics.json").read_text())


@pytest.mark.slow
def test_a_toy_model_registered_in_one_line_trains_and_is_reported(registered, tmp_path):
    sweep = tmp_path / "model_sweep"
    result = run_sweep(sweep, registered, "model=toy", "threads=1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics_of(sweep)["test/mse"] > 0
    # It trained: the fill it learned moved away from the zeros it started from.
    from vit_inpaint.tasks.inpainting import InpaintingModule

    (last,) = sweep.glob("*/checkpoints/last.ckpt")
    assert InpaintingModule.load_from_checkpoint(last).model.fill.abs().min() > 0
    report = (sweep / "report.md").read_text()
    # No attention maps to draw, said in the report rather than failing it.
    assert "no model of this sweep has attention maps" in report


@pytest.mark.slow
def test_a_toy_task_registered_in_one_line_trains_and_writes_its_own_report(registered, tmp_path):
    sweep = tmp_path / "task_sweep"
    result = run_sweep(sweep, registered, "task=toy", "threads=1")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = metrics_of(sweep)
    assert 0 <= metrics["test/toy_error"] < metrics["val/toy_error_half"] * 3
    report = (sweep / "report.md").read_text()
    assert "## Toy" in report and "test toy error" in report
    assert "The toy task ran 1 configuration(s)." in report
    assert "mean absolute error over the hidden pixels" in report
