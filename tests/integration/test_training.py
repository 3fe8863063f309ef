"""Real training runs through the Trainer, on tiny budgets."""

import json

import pytest
import torch

from vit_inpaint.data.masking import BlockMasking
from vit_inpaint.tasks.inpainting import InpaintingModule
from vit_inpaint.tasks.optim import build_optimizer
from vit_inpaint.training import train

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("masking", ["pixel", "patch2x2", "block2x2", "random_pixels"])
def test_short_run_per_masking_strategy(masking, tiny_config, tmp_path):
    cfg = tiny_config(f"masking={masking}", "optimized_metric=val/mse")
    result = train(cfg)
    out = tmp_path / "run"
    metrics = json.loads((out / "metrics.json").read_text())
    # What train() gives back is what it recorded: no global to read it from afterwards.
    assert result.output_dir == out and result.metrics == pytest.approx(metrics)
    assert result.optimized == metrics["val/mse"]
    for split in ("val", "test"):
        for name in ("mse", "nmse", "psnr", "rate_perfect", "rate_acceptable", "rate_failed"):
            assert f"{split}/{name}" in metrics
        rates = sum(metrics[f"{split}/rate_{r}"] for r in ("perfect", "acceptable", "failed"))
        assert rates == pytest.approx(1.0)
    # Cross-evaluation: the same test images under every kind of mask, with baselines.
    for kind in ("pixel", "patch2x2", "block2x2"):
        for name in ("mse", "nmse", "mse_bayes", "mse_linear", "mse_biharmonic", "mse_over_bayes"):
            assert f"test/{kind}/{name}" in metrics
    for name in ("mse_visible_mean", "mse_biharmonic", "mse_linear", "mse_bayes", "mse_mean_fill"):
        assert f"val/{name}" in metrics and f"test/{name}" in metrics
    assert metrics["test/mse_over_bayes"] == pytest.approx(
        metrics["test/mse"] / metrics["test/mse_bayes"]
    )
    assert (out / "checkpoints" / "last.ckpt").exists()
    assert list(out.glob("events.out.tfevents.*"))


@pytest.mark.parametrize("data", ["gaussian_field", "photos"])
def test_short_run_on_informative_data(data, tiny_config, tmp_path):
    budget = [
        "data.num_train=2048",
        "data.batch_size=64",
        "optimizer.lr=3e-3",
        "trainer.max_epochs=3",
    ]
    train(tiny_config(f"data={data}", *budget))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test/nmse"] < 1.0  # even a tiny run uses the context on such data
    assert ("test/mse_bayes" in metrics) == (data == "gaussian_field")


def test_same_seed_same_config_gives_identical_metrics(tmp_path):
    from tests.conftest import TINY, compose_config

    results = []
    for name in ("a", "b"):
        train(compose_config(TINY, "seed=7", output_dir=tmp_path / name))
        results.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert results[0] == results[1]
    train(compose_config(TINY, "seed=8", output_dir=tmp_path / "c"))
    assert json.loads((tmp_path / "c" / "metrics.json").read_text()) != results[0]


def test_overfitting_one_small_batch_drives_the_loss_down():
    torch.manual_seed(0)
    module = InpaintingModule(
        model={"dim": 32, "depth": 2, "heads": 4}, optimizer={"name": "adam", "lr": 3e-3}
    )
    images = torch.rand(16, 4, 4)
    masks = BlockMasking(size=2)(16, 4, 4, torch.Generator().manual_seed(0))
    optimizer = build_optimizer(module.parameters(), "adam", lr=3e-3)
    first = module.loss(module(images, masks), images, masks).item()
    for _ in range(300):
        loss = module.loss(module(images, masks), images, masks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05 * first


def test_checkpoint_loads_without_hydra_and_inpaints(tiny_config, tmp_path):
    train(tiny_config())
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    module = InpaintingModule.load_from_checkpoint(ckpt)
    images = torch.rand(5, 4, 4)
    masks = BlockMasking(size=2)(5, 4, 4, torch.Generator().manual_seed(1))
    filled = module.inpaint(images, masks)
    assert filled.shape == images.shape
    assert torch.equal(filled[~masks], images[~masks])
    assert not torch.equal(filled[masks], images[masks])
    assert ((filled >= 0) & (filled <= 1)).all()
    with pytest.raises(ValueError, match="4x4"):
        module.inpaint(torch.rand(1, 8, 8), torch.zeros(1, 8, 8, dtype=torch.bool))


def test_cosine_schedule_warms_up_then_decays_to_zero(tiny_config, tmp_path):
    from vit_inpaint.tasks.optim import cosine

    assert cosine(0, 100, 10) == pytest.approx(0.1)
    assert cosine(9, 100, 10) == pytest.approx(1.0)
    assert cosine(55, 100, 10) == pytest.approx(0.5)
    assert cosine(100, 100, 10) == pytest.approx(0.0)
    cfg = tiny_config("optimizer.schedule=cosine", "optimizer.warmup_steps=2", "optimizer.lr=0.01")
    train(cfg)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run")).Reload()
    # TINY (debug=tiny): 256 images in batches of 32 for 2 epochs = 16 steps; logged every 4th step.
    logged = {e.step: e.value for e in events.Scalars("train/lr")}
    assert sorted(logged) == [3, 7, 11, 15]
    for step, lr in logged.items():
        assert lr == pytest.approx(0.01 * cosine(step, 16, 2), rel=1e-5)


def test_constant_rate_is_logged_without_a_scheduler(tiny_config, tmp_path):
    train(tiny_config("optimizer.lr=0.002"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run")).Reload()
    rates = [e.value for e in events.Scalars("train/lr")]
    assert len(rates) == 4 and all(lr == pytest.approx(0.002) for lr in rates)
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["lr_schedulers"] == []
