import math

import pytest
import torch

from vit_inpaint.tasks.inpainting import InpaintingModule
from vit_inpaint.tasks.metrics import (
    InpaintingMetrics,
    hidden_over_prior_mse,
    masked_mse,
    per_image_rmse,
)


def test_loss_ignores_visible_pixels():
    torch.manual_seed(0)
    module = InpaintingModule(model={"dim": 16, "depth": 1, "heads": 2})
    images = torch.rand(8, 4, 4)
    mask = torch.zeros(8, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    pred = torch.rand(8, 4, 4)
    other = pred.clone()
    other[~mask] = torch.rand(int((~mask).sum()))  # change only visible predictions
    assert module.loss(pred, images, mask) == module.loss(other, images, mask)
    # ...while a change on a hidden pixel does change it.
    other[mask] += 0.1
    assert module.loss(pred, images, mask) != module.loss(other, images, mask)


def test_loss_pixels_all_includes_every_pixel():
    module = InpaintingModule(model={"dim": 16, "depth": 1, "heads": 2}, loss_pixels="all")
    images, pred = torch.zeros(2, 4, 4), torch.ones(2, 4, 4)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, 0, 0] = True
    assert module.loss(pred, images, mask) == pytest.approx(1.0)


def test_masked_mse_and_per_image_rmse():
    target = torch.zeros(2, 2, 2)
    pred = torch.tensor([[[0.1, 9.0], [9.0, 9.0]], [[0.3, 0.3], [9.0, 9.0]]])
    mask = torch.tensor([[[True, False], [False, False]], [[True, True], [False, False]]])
    assert masked_mse(pred, target, mask) == pytest.approx((0.01 + 0.09 + 0.09) / 3)
    assert per_image_rmse(pred, target, mask).tolist() == pytest.approx([0.1, 0.3])


def test_metrics_rates_nmse_and_psnr_accumulate_over_batches():
    metrics = InpaintingMetrics(train_mean=0.5)
    target = torch.full((4, 2, 2), 0.5)
    mask = torch.zeros(4, 2, 2, dtype=torch.bool)
    mask[:, 0, :] = True
    errors = torch.tensor(
        [0.0, 0.1, 0.2, 0.04]
    )  # per-image RMSE: perfect, acceptable, failed, perfect
    pred = target + errors[:, None, None]
    metrics.update(pred[:2], target[:2], mask[:2])
    metrics.update(pred[2:], target[2:], mask[2:])
    values = metrics.compute()
    mse = float(errors.square().mean())
    assert values["mse"] == pytest.approx(mse)
    assert values["psnr"] == pytest.approx(10 * math.log10(1 / mse), rel=1e-5)
    assert values["rate_perfect"] == pytest.approx(0.5)
    assert values["rate_acceptable"] == pytest.approx(0.25)
    assert values["rate_failed"] == pytest.approx(0.25)
    # Predicting the training mean itself is the yardstick: nmse = 1 by definition.
    metrics.reset()
    target = torch.rand(16, 4, 4)
    metrics.update(torch.full_like(target, 0.5), target, torch.ones_like(target, dtype=torch.bool))
    assert metrics.compute()["nmse"] == pytest.approx(1.0)


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="perfect < acceptable"):
        InpaintingMetrics(0.5, perfect=0.2, acceptable=0.1)


def test_computed_metrics_are_the_names_a_config_may_optimise():
    from vit_inpaint.config.choices import (
        METRIC_NAMES,  # what validate.py accepts in optimized_metric
    )

    metrics = InpaintingMetrics(train_mean=0.5)
    images = torch.rand(4, 4, 4)
    metrics.update(images.flip(0), images, torch.rand(4, 4, 4) < 0.5)
    assert tuple(metrics.compute()) == METRIC_NAMES


def test_the_loss_over_the_prior_scores_each_image_by_its_gain_on_the_prior_fill():
    target = torch.zeros(3, 4, 4)
    mask = torch.zeros(3, 4, 4, dtype=torch.bool)
    mask[0, :2] = True  # 8 hidden pixels
    mask[1, 0, 0] = True  # 1 hidden pixel
    prior = torch.full((3, 4, 4), 0.5)  # every image's prior is 0.5 off
    # Halving the error of both images: 1/4 of each prior's error, whatever their hidden counts.
    loss = hidden_over_prior_mse(prior / 2, prior, target, mask)
    assert loss.item() == pytest.approx(0.25 * 0.25 / (0.25 + 1e-4))
    assert hidden_over_prior_mse(target, prior, target, mask).item() == 0.0  # perfect
    # Image 2 has no hidden pixel: it is left out, not a division by zero.
    assert torch.isfinite(hidden_over_prior_mse(prior, prior, target, mask))
