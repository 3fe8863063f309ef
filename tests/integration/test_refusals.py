"""Every config error a user can make on train.py's command line, Hydra's own included, and every
unusable checkpoint a run is given: one `error:` line naming the key (or the field and the file),
exit status 2, no traceback, and no run folder left behind (issue 17: W2, W3, W4, U6).

They are refused before training, so none of them trains: fast tests."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import TINY, compose_config, refused, run_train
from vit_inpaint.models import build_inpainter

# Issue 17's budget for its probes.
T = (TINY, "data.num_val=64", "data.num_test=64", "threads=1", "trainer.max_epochs=1")


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        # Keys the project does not read: Hydra's `+` adds any key, its struct mode refuses one
        # without `+`; both are the same mistake.
        (("+foo=1",), ("foo",)),
        (("+model.nope=1",), ("model.nope",)),
        (("model.nope=1",), ("model.nope",)),
        (("masking.nope=1",), ("masking.nope",)),
        (("+data.nope=1",), ("data.nope",)),
        (("+optimizer.nope=1",), ("optimizer.nope",)),
        # A group option that does not exist: the group and its choices.
        (("model=nope",), ("model=nope", "mae, vit")),
        (("optimizer=nope",), ("optimizer=nope", "adam, adamw, sgd")),
        # A Trainer argument Lightning does not take.
        (("+trainer.bogus_arg=1",), ("trainer.bogus_arg",)),
        # A linear probe on random weights is never what a user means.
        (("finetune=linear_probe",), ("finetune=linear_probe", "init_from")),
        (("finetune=last_block",), ("finetune=last_block", "init_from")),
        # More labelled images per class than the data holds: the most it holds.
        (
            ("task=classify", "data=digits", "data.labels_per_class=100000"),
            ("data.labels_per_class", "104"),
        ),
        (
            ("task=classify", "data=digits", "data.labels_per_class=50"),
            ("data.labels_per_class", "data.num_train"),
        ),
        # Within what 256 images can hold (25 a class) but more than this draw's smallest
        # class has (22): found only once the split is drawn, still before training.
        (
            ("task=classify", "data=digits", "data.labels_per_class=24"),
            ("data.labels_per_class=24", "class"),
        ),
        (("data.eval_batch_size=0",), ("data.eval_batch_size",)),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_a_config_error_is_one_line_and_leaves_no_folder(overrides, fragments, tmp_path):
    run_dir = tmp_path / "run"
    result = run_train(*T, *overrides, f"hydra.run.dir={run_dir}")
    refused(result, *fragments)
    assert not run_dir.exists(), sorted(p.name for p in run_dir.iterdir())


# --- checkpoint files -------------------------------------------------------------------------


def _tiny_checkpoint() -> dict:
    """What training writes for T's model, without training: the module's state_dict of a fresh
    network, the model settings that built it, and the Lightning version (Lightning's test loop
    needs it: with it, test_ckpt= a NaN copy used to test to `"test/mse": NaN` with exit 0)."""
    import lightning

    settings = OmegaConf.to_container(compose_config(*T).model, resolve=True)
    network = build_inpainter(**settings)
    return {
        "state_dict": {f"model.{k}": v for k, v in network.state_dict().items()},
        "hyper_parameters": {"model": settings},
        "pytorch-lightning_version": lightning.__version__,
    }


@pytest.fixture
def bad_checkpoints(tmp_path):
    """A checkpoint of T's model with a NaN weight (a run that diverged), and one whose
    state_dict holds a string where a tensor belongs."""
    nan = _tiny_checkpoint()
    next(iter(nan["state_dict"].values())).fill_(float("nan"))
    torch.save(nan, tmp_path / "nan.ckpt")
    text = _tiny_checkpoint()
    text["state_dict"]["model.head.weight"] = "not a tensor"
    torch.save(text, tmp_path / "text.ckpt")
    return tmp_path


@pytest.mark.parametrize("field", ["test_ckpt", "init_from", "ckpt_path"])
@pytest.mark.parametrize(
    "name, fragment", [("nan.ckpt", "non-finite weights"), ("text.ckpt", "model.head.weight")]
)
def test_an_unusable_checkpoint_is_refused_naming_the_field_and_file(
    field, name, fragment, bad_checkpoints, tmp_path
):
    run_dir = tmp_path / "run"
    path = bad_checkpoints / name
    result = run_train(*T, f"{field}={path}", f"hydra.run.dir={run_dir}")
    refused(result, f"{field}:", str(path), fragment)
    assert not run_dir.exists()


def test_the_most_labels_per_class_digits_hold_is_counted_from_the_split():
    from vit_inpaint.data.settings import DIGITS_CLASSES, DIGITS_TRAIN_PER_CLASS
    from vit_inpaint.data.sources import _digits_split

    _, labels = _digits_split("train")
    counts = torch.bincount(labels)
    assert len(counts) == DIGITS_CLASSES and int(counts.min()) == DIGITS_TRAIN_PER_CLASS


def _classifier_checkpoint(finetune: str = "full", temperature: float = 1.0) -> dict:
    """What a task=classify run of C writes, without training (a fresh module's state)."""
    import lightning

    from vit_inpaint.tasks.classification import ClassificationModule

    settings = OmegaConf.to_container(compose_config(*C).model, resolve=True)
    module = ClassificationModule(model=settings, num_classes=10, finetune=finetune)
    checkpoint = {
        "state_dict": module.state_dict(),
        "hyper_parameters": dict(module.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    module.on_save_checkpoint(checkpoint)
    checkpoint["temperature"] = temperature
    return checkpoint


C = (*T, "task=classify", "data=digits")


@pytest.mark.parametrize(
    "finetune, temperature, fragments",
    [
        # A probe has a norm before its head that a finetune=full run's network lacks: the check
        # passed, the run trained, then Lightning's strict load failed with no metrics.json.
        ("linear_probe", 1.0, ["finetune='linear_probe' there, 'full' here"]),
        # A NaN temperature trained, then crashed at test time; 0 and -1 are no temperature.
        ("full", float("nan"), ["temperature must be a positive finite number"]),
        ("full", 0.0, ["temperature must be a positive finite number"]),
        ("full", -1.0, ["temperature must be a positive finite number"]),
    ],
)
def test_a_test_ckpt_the_test_cannot_load_is_refused_before_training(
    finetune, temperature, fragments, tmp_path
):
    path = tmp_path / "crafted.ckpt"
    torch.save(_classifier_checkpoint(finetune, temperature), path)
    run_dir = tmp_path / "run"
    result = run_train(*C, f"test_ckpt={path}", f"hydra.run.dir={run_dir}")
    refused(result, "test_ckpt:", str(path), *fragments)
    assert not run_dir.exists()


def test_a_probe_checkpoint_fits_a_probe_run_and_a_full_one_fits_either():
    """The check refuses only what the run cannot load: a linear-probe run loads a full model's
    checkpoint too (its norm is dropped for one that has none, as for old probes)."""
    from vit_inpaint.tasks.checkpoints import mismatch

    settings = OmegaConf.to_container(compose_config(*C).model, resolve=True)
    probe, full = _classifier_checkpoint("linear_probe"), _classifier_checkpoint("full")
    assert mismatch(probe, settings, "classify", run={"finetune": "linear_probe"}) is None
    assert mismatch(full, settings, "classify", run={"finetune": "linear_probe"}) is None
    assert mismatch(full, settings, "classify", run={"finetune": "full"}) is None
    assert "finetune" in mismatch(probe, settings, "classify", run={"finetune": "full"})
