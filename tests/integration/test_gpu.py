"""GPU checks: run by scripts/gpu_check.sh on a CUDA machine; skipped cleanly without one."""

import json

import pytest
import torch

from vit_inpaint.models.vit import InpaintingViT
from vit_inpaint.training import train

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("attention", ["manual", "sdpa"])
def test_model_on_gpu_matches_cpu(attention):
    torch.manual_seed(0)
    model = InpaintingViT(8, 2, dim=64, depth=2, heads=4, attention=attention)
    images = torch.rand(16, 8, 8)
    masks = torch.rand(16, 8, 8) < 0.25
    masks[:, 0, 0] = True
    expected = model(images, masks)
    got = model.cuda()(images.cuda(), masks.cuda()).cpu()
    assert torch.allclose(got, expected, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_training_run_on_gpu(precision, tiny_config, tmp_path):
    if precision == "bf16-mixed" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    train(tiny_config("trainer=gpu", f"trainer.precision={precision}"))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 < metrics["test/mse"] < 1


@pytest.mark.slow
def test_a_nan_loss_on_gpu_stops_within_a_logging_interval(tmp_path):
    """On a GPU the loss is read only on logging steps and an epoch's last batch (each read waits
    for the device); the run must still stop before any checkpoint holds bad weights."""
    from tests.conftest import TINY, compose_config
    from tests.integration.test_faults import PoisonedNoise
    from vit_inpaint.tasks.inpainting import NonFiniteLossError

    run = tmp_path / "nan"
    cfg = compose_config(
        TINY,
        "trainer=gpu",
        f"data.images._target_={PoisonedNoise.__module__}.PoisonedNoise",
        "data.fresh_images=true",
        "trainer.max_epochs=3",
        output_dir=run,
    )
    # debug=tiny: 8 steps an epoch, logged every 4th; epoch 1's images are NaN from its first step.
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1, batch 3"):
        train(cfg)
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["epoch"] == 0
    assert all(torch.isfinite(t).all() for t in checkpoint["state_dict"].values())
