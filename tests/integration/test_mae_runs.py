"""model=mae trained: pretraining, then a digits classifier from its encoder, and the MAE
benchmark's comparison. The model's parts are tested without training in tests/unit/test_mae.py."""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY, compose_config
from vit_inpaint.models.encoder import is_encoder_key


@pytest.mark.slow
def test_mae_pretraining_then_a_digits_classifier_from_its_encoder(tmp_path):
    from vit_inpaint.training import train

    pretrain = tmp_path / "mae"
    train(compose_config(TINY, "model=mae", "masking=patches", "data=digits",
                         "trainer.max_epochs=1", output_dir=pretrain))  # fmt: skip
    metrics = json.loads((pretrain / "metrics.json").read_text())
    assert metrics["test/mse"] > 0 and "test/mse_biharmonic" in metrics
    assert metrics["test/coverage"] == pytest.approx(0.75)
    checkpoint = pretrain / "checkpoints" / "last.ckpt"
    probe = tmp_path / "probe"
    train(compose_config(TINY, "task=classify", "data=digits", "trainer.max_epochs=1",
                         f"init_from={checkpoint}", "finetune=linear_probe",
                         output_dir=probe))  # fmt: skip
    after = torch.load(probe / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    before = torch.load(checkpoint, weights_only=True)["state_dict"]
    encoder = [k for k in before if is_encoder_key(k.removeprefix("model."))]
    assert encoder and all(torch.equal(after[k], before[k]) for k in encoder)
    assert not any(k.startswith("model.decoder_") for k in after)


@pytest.mark.slow
def test_bench_mae_trains_both_models_on_the_same_masks_and_reports_them(monkeypatch):
    import argparse

    from vit_inpaint.benchmarks.mae import compare_at
    from vit_inpaint.cli import bench_mae

    args = ["--image-sizes", "8", "--num-train", "64", "--num-val", "32", "--epochs", "3",
            "--dim", "16", "--depth", "1"]  # fmt: skip
    parsed = argparse.Namespace(
        ratio=0.75, patch_size=2, dim=16, depth=1, num_train=64, num_val=32, batch_size=128,
        epochs=3, lr=1e-3, seed=0, decoder_dim=None, decoder_depth=None, decoder_heads=None,
    )  # fmt: skip
    result = compare_at(8, parsed)
    assert result["vit_params"] < result["mae_params"]  # the same encoder, plus a decoder
    assert result["vit_mse"] > 0 and result["mae_mse"] > 0 and result["bayes_mse"] > 0
    assert result["speedup"] == result["vit_epoch_s"] / result["mae_epoch_s"]
    # Equal wall time: the faster model went on from where the equal-epoch comparison stopped.
    assert result["equal_time_model"] == ("mae" if result["speedup"] >= 1 else "vit")
    assert result["equal_time_epochs"] >= 3 and result["equal_time_mse"] > 0
    lines = []
    monkeypatch.setattr("builtins.print", lambda *a: lines.append(" ".join(map(str, a))))
    bench_mae.main(args)
    assert lines[-2].startswith("8x8, 75% of the 2x2 patches hidden, 3 epochs of 64: vit ")
    assert lines[-1].startswith("  at equal wall time (")
