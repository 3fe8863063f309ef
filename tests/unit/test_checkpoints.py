"""The task registry and the one checkpoint module: every task resolves to its code, checkpoints
say which task wrote them (older files by the num_classes rule), and one function reads files."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from vit_inpaint.fill.model import SHIPPED, load_inpainter
from vit_inpaint.models import build_classifier, build_inpainter
from vit_inpaint.tasks.base import TaskModule
from vit_inpaint.tasks.checkpoints import (
    CheckpointError,
    build_network,
    checkpoint_task,
    mismatch,
    read_checkpoint,
    where_saved,
)
from vit_inpaint.tasks.classification import ClassificationModule
from vit_inpaint.tasks.registry import TASKS, Task, resolve

PACKAGE = Path(__file__).resolve().parents[2] / "vit_inpaint"
SETTINGS = dict(image_size=4, dim=16, depth=1, heads=2)


def _checkpoint(network, **hparams) -> dict:
    return {
        "state_dict": {f"model.{k}": v for k, v in network.state_dict().items()},
        "hyper_parameters": {"model": SETTINGS, **hparams},
    }


def test_every_registered_task_resolves_to_its_code():
    for name, task in TASKS.items():
        module = task.module_class()
        assert issubclass(module, TaskModule) and module.TASK == name
        for path in (task.data, task.baselines, task.report_columns, task.report_findings):
            assert callable(resolve(path)), path


def test_a_checkpoint_says_its_task_and_older_ones_are_told_by_num_classes():
    inpainter = _checkpoint(build_inpainter(**SETTINGS))
    classifier = _checkpoint(build_classifier(3, **SETTINGS), num_classes=3)
    # Files written before checkpoints stored their task (e.g. weights/inpainter.ckpt).
    assert checkpoint_task(inpainter).name == "inpaint"
    assert checkpoint_task(classifier).name == "classify"
    assert checkpoint_task(read_checkpoint(SHIPPED)).name == "inpaint"
    # From now on the stored name decides.
    module = ClassificationModule(model=SETTINGS, num_classes=3)
    saved = {"hyper_parameters": dict(module.hparams)}
    module.on_save_checkpoint(saved)
    assert saved["hyper_parameters"]["task"] == "classify"


def test_a_checkpoint_of_an_unknown_task_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "future.ckpt"
    torch.save(_checkpoint(build_inpainter(**SETTINGS), task="denoise"), path)
    with pytest.raises(CheckpointError, match=r"future\.ckpt: task\.name must be one of"):
        read_checkpoint(path)


def test_the_network_of_a_checkpoint_and_the_one_mismatch_check():
    classifier = _checkpoint(build_classifier(3, **SETTINGS), num_classes=3)
    network = build_network(classifier, "c.ckpt", task="classify")
    assert network.num_classes == 3 and not network.training
    with pytest.raises(CheckpointError, match="c.ckpt: a checkpoint of task=classify, not task="):
        build_network(classifier, "c.ckpt", task="inpaint")
    # Resuming: the whole model of the same task, every setting equal.
    assert mismatch(classifier, SETTINGS, task="classify") is None
    assert "task=classify, not task=inpaint" in mismatch(classifier, SETTINGS, task="inpaint")
    wider = {**SETTINGS, "dim": 32}
    assert "model.dim=16 there, 32 here" in mismatch(classifier, wider, task="classify")
    # init_from: only the encoder must fit, from either task.
    assert mismatch(classifier, SETTINGS) is None
    assert mismatch(classifier, wider).startswith("an encoder of other settings (model.dim=16")


def test_a_gpu_runs_checkpoint_loads_on_a_machine_without_one():
    storage = torch.zeros(1).untyped_storage()
    assert where_saved(storage, "cpu") is None  # torch.load's default: where it was saved
    assert (where_saved(storage, "cuda:0") is None) == torch.cuda.is_available()


def test_only_read_checkpoint_calls_torch_load():
    callers = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Attribute) and node.attr == "load":
                    if isinstance(node.value, ast.Name) and node.value.id == "torch":
                        callers.append(f"{path.relative_to(PACKAGE)}:{function.name}")
    assert callers == ["tasks/checkpoints.py:read_checkpoint"]


def _saved(tmp_path, checkpoint: dict, name: str = "crafted.ckpt") -> Path:
    path = tmp_path / name
    torch.save(checkpoint, path)
    return path


def test_settings_that_disagree_with_the_tensors_are_refused_before_a_network_is_built(
    tmp_path, monkeypatch
):
    """A 137 KB file whose settings say dim 4096, depth 8 once had its 4.6 GB network built (22 s)
    before the weights were found not to fit; now only a shapeless (meta) one is made first."""
    built_on = []
    original = Task.build_network

    def recording(self, *args, **kwargs):
        built_on.append(torch.empty(0).device.type)  # the default device in use
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Task, "build_network", recording)
    crafted = _checkpoint(build_inpainter(**SETTINGS))
    crafted["hyper_parameters"]["model"] = {**SETTINGS, "dim": 4096, "depth": 8}
    path = _saved(tmp_path, crafted)
    with pytest.raises(CheckpointError, match=r"crafted\.ckpt: its weights do not fit its"):
        load_inpainter(path)
    assert built_on == ["meta"]


@pytest.mark.parametrize(
    "model, found",
    [
        ({**SETTINGS, "image_size": -4}, "model.image_size must be a positive integer, got -4"),
        ({**SETTINGS, "dim": "16"}, "model.dim must be a positive integer, got '16'"),
        ({**SETTINGS, "depth": 1.5}, "model.depth must be a positive integer, got 1.5"),
    ],
)
def test_invalid_model_settings_in_a_checkpoint_are_refused_naming_them(tmp_path, model, found):
    crafted = _checkpoint(build_inpainter(**SETTINGS))
    crafted["hyper_parameters"]["model"] = model
    with pytest.raises(CheckpointError, match="its model settings are not valid") as refused:
        read_checkpoint(_saved(tmp_path, crafted))
    assert found in str(refused.value)


@pytest.mark.parametrize("photos", ["brick", ["brick"], {"train": 5}, {"train": [1]}])
def test_a_record_of_photographs_of_the_wrong_type_is_refused(tmp_path, photos):
    crafted = _checkpoint(build_inpainter(**SETTINGS), photos=photos)
    with pytest.raises(CheckpointError, match="its record of the photographs it trained on"):
        load_inpainter(_saved(tmp_path, crafted))


@pytest.mark.parametrize("temperature", [float("nan"), 0.0, -1.0, float("inf"), "1", True])
def test_a_classifier_temperature_that_is_not_positive_and_finite_is_refused(
    tmp_path, temperature
):
    """NaN or 0 gave NaN probabilities, -1 flipped every argmax: refused on every route."""
    crafted = _checkpoint(build_classifier(3, **SETTINGS), num_classes=3)
    crafted["temperature"] = temperature
    path = _saved(tmp_path, crafted)
    with pytest.raises(CheckpointError, match="its temperature must be a positive finite number"):
        read_checkpoint(path)
    with pytest.raises(CheckpointError, match="its temperature must be a positive finite number"):
        ClassificationModule(model=SETTINGS, num_classes=3).on_load_checkpoint(crafted)
    crafted["temperature"] = 1.7
    assert ClassificationModule.load_from_checkpoint(_saved(tmp_path, crafted)).temperature == 1.7


def test_settings_that_disagree_with_the_tensors_are_refused_on_every_route(tmp_path):
    """init_from= takes a checkpoint's encoder tensors only, so a file whose settings said dim
    4096 over dim-16 weights started a run; read_checkpoint, which every route uses, refuses it."""
    crafted = _checkpoint(build_inpainter(**SETTINGS))
    crafted["hyper_parameters"]["model"] = {**SETTINGS, "dim": 4096, "depth": 8}
    with pytest.raises(CheckpointError, match=r"crafted\.ckpt: its weights do not fit its"):
        read_checkpoint(_saved(tmp_path, crafted))
