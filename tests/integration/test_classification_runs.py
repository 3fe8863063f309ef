"""task=classify end to end on tiny budgets (debug=tiny): runs, metrics, the Python API, and
starting a run from another task's checkpoint."""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY, compose_config
from vit_inpaint.launch.validate import ConfigError
from vit_inpaint.training import train

pytestmark = pytest.mark.slow


def _metrics(folder) -> dict:
    return json.loads((folder / "metrics.json").read_text())


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "run"
    train(compose_config(TINY, "task=classify", "data=digits", output_dir=out))
    return out


def test_a_digits_run_logs_accuracy_nll_baselines_and_a_confusion_matrix(digits_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    metrics = _metrics(digits_run)
    for split in ("val", "test"):
        for name in ("acc", "nll", "acc_logreg", "nll_logreg", "acc_svm", "nll_svm"):
            assert f"{split}/{name}" in metrics, name
        assert "test/mse" not in metrics and "val/acc_bayes" not in metrics  # digits: no Bayes
    assert 0.0 <= metrics["test/acc"] <= 1.0 and metrics["test/nll"] > 0
    assert metrics["test/acc_svm"] > 0.9  # 256 training digits are plenty for an RBF SVM
    images = set()
    for events in digits_run.glob("events.out.tfevents.*"):  # one file per fit, test, hparams
        accumulator = EventAccumulator(str(events), size_guidance={"images": 0}).Reload()
        images |= set(accumulator.Tags()["images"])
    assert "test/confusion_matrix" in images


def test_a_classifier_loads_from_its_checkpoint_and_classifies(digits_run):
    from vit_inpaint import ClassificationModule

    module = ClassificationModule.load_from_checkpoint(digits_run / "checkpoints" / "last.ckpt")
    probabilities = module.classify(torch.rand(5, 8, 8))
    assert probabilities.shape == (5, 10)
    assert torch.allclose(probabilities.sum(1), torch.ones(5))


def test_gaussian_field_classification_is_scored_against_bayes(tmp_path):
    out = tmp_path / "run"
    train(compose_config(TINY, "task=classify", "data=gaussian_field", output_dir=out))
    metrics = _metrics(out)
    for name in ("acc", "nll", "acc_bayes", "nll_bayes", "acc_logreg", "acc_svm"):
        assert f"test/{name}" in metrics
    assert metrics["test/acc_bayes"] > 0.5  # 4 lengthscales: chance is 0.25


def test_init_from_an_inpainting_run_and_a_mismatch_refused(tmp_path):
    inpaint = tmp_path / "inpaint"
    train(compose_config(TINY, "data=digits", "trainer.max_epochs=1", output_dir=inpaint))
    checkpoint = inpaint / "checkpoints" / "last.ckpt"
    out = tmp_path / "probe"
    overrides = (TINY, "task=classify", "data=digits", "trainer.max_epochs=1")
    cfg = compose_config(*overrides, f"init_from={checkpoint}", "finetune=linear_probe",
                         output_dir=out)  # fmt: skip
    train(cfg)
    probe = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    start = torch.load(checkpoint, weights_only=True)["state_dict"]
    # A linear probe trains the head only: the encoder is the inpainting run's, unchanged.
    for key, value in start.items():
        if not key.startswith("model.head."):
            assert torch.equal(probe[key], value), key
    wider = compose_config(*overrides, f"init_from={checkpoint}", "model.dim=64",
                           output_dir=tmp_path / "wide")  # fmt: skip
    with pytest.raises(ConfigError, match=r"init_from: .*model\.dim=32 there, 64 here"):
        train(wider)
    assert not (tmp_path / "wide").exists() or not any((tmp_path / "wide").iterdir())


def test_the_digits_recipe_tests_its_averaged_weights_with_the_fitted_temperature(tmp_path):
    """experiment=digits' EMA and temperature: the test split scores the weights that were
    validated (the average, not the raw weights) with the temperature fitted beside them."""
    from vit_inpaint import ClassificationModule
    from vit_inpaint.data.labelled import build_labelled_data

    out = tmp_path / "run"
    cfg = compose_config(
        TINY, "experiment=digits", "model.stem_channels=8", "trainer.max_epochs=1", output_dir=out
    )
    assert cfg.callbacks.ema is not None
    train(cfg)
    metrics = _metrics(out)
    assert metrics["val/temperature"] > 0 and "test/nll_calibrated" in metrics
    best = next((out / "checkpoints").glob("epoch*.ckpt"))
    saved = torch.load(best, weights_only=False)
    assert "current_model_state" in saved  # the average is the state_dict, raw weights beside
    assert any(
        not torch.equal(saved["state_dict"][k], saved["current_model_state"][k])
        for k in saved["state_dict"]
    )
    module = ClassificationModule.load_from_checkpoint(best)
    assert module.temperature == pytest.approx(saved["temperature"])
    data = build_labelled_data(cfg)
    data.setup("test")
    images, labels = next(iter(data.test_dataloader()))
    accuracy = (module.classify(images).argmax(1) == labels).double().mean().item()
    assert accuracy == pytest.approx(metrics["test/acc"], abs=1e-6)
    # Resuming it without the average would continue from the averaged weights and drop the
    # raw ones: refused before training, naming the setting.
    resume = compose_config(
        TINY, "experiment=digits", "model.stem_channels=8", "trainer.max_epochs=2",
        "callbacks.ema=null", f"ckpt_path={out / 'checkpoints' / 'last.ckpt'}",
        output_dir=tmp_path / "resumed",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="callbacks.ema"):
        train(resume)
