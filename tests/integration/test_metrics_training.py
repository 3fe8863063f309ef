"""The loss over the prior in a real run: `loss_pixels=hidden_over_prior` trains a biharmonic model
(the loss itself is tested without training in tests/unit/test_metrics.py)."""

import math

import pytest


@pytest.mark.slow  # a short training run
def test_training_over_the_prior_trains_a_biharmonic_model(tmp_path):
    import json

    from tests.conftest import TINY, compose_config
    from vit_inpaint.training import train

    cfg = compose_config(
        TINY, "data=photos", "data.image_size=8", "model.patch_size=4", "masking=mixed",
        "model.prior=biharmonic", "loss_pixels=hidden_over_prior", output_dir=tmp_path / "run",
    )  # fmt: skip
    train(cfg)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert math.isfinite(metrics["test/mse"]) and metrics["test/mse"] < 0.05
