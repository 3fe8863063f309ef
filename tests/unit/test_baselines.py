"""The baselines, and above all the Bayes predictor that every figure is compared to."""

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from vit_inpaint.data.masking import BlockMasking, RandomMasking
from vit_inpaint.data.sources import GaussianField, UniformNoise
from vit_inpaint.evaluation.baselines import (
    LinearPredictor,
    baseline_predictors,
    biharmonic,
    gaussian_mixture_conditional_mean,
    visible_mean,
)
from vit_inpaint.tasks.metrics import masked_mse


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def brute_force_posterior_mean(source, image, hidden_pixel, grid):
    """E[x_h | x_v] for one hidden pixel, by integrating the joint density over a grid of x_h.

    No conditioning formula: p(x_v, x_h) = sum_l prior_l N(x; mean, C_l), evaluated point by point.
    """
    covs = source.covariances(image.shape[-1]).numpy()
    x = image.flatten().double().numpy()
    points = np.repeat(x[None], len(grid), axis=0)
    points[:, hidden_pixel] = grid
    mean = np.full(len(x), source.mean)
    density = sum(multivariate_normal(mean, c).pdf(points) for c in covs) / len(covs)
    return (grid * density).sum() / density.sum()


def test_bayes_matches_brute_force_integration_on_a_small_grid():
    # A large jitter keeps the posterior wide enough (std >= 0.02) for a grid step of 0.002.
    source = GaussianField(lengthscales=(0.5, 1.0, 3.0), jitter=1e-2)
    images = source.sample(8, 3, "val", gen(1))
    masks = BlockMasking(size=1)(8, 3, 3, gen(2))
    bayes = source.posterior_mean(images, masks)
    grid = np.linspace(-0.7, 1.7, 1201)
    for image, mask, predicted in zip(images, masks, bayes, strict=True):
        pixel = int(mask.flatten().nonzero())
        expected = brute_force_posterior_mean(source, image, pixel, grid)
        assert float(predicted.flatten()[pixel]) == pytest.approx(expected, abs=1e-4)


def test_bayes_matches_the_precision_matrix_form_for_several_hidden_pixels():
    # Independent route: conditional means from the joint precision matrix, component weights
    # from scipy's log-density of the visible marginal.
    source = GaussianField(lengthscales=(0.5, 1.0, 3.0), jitter=1e-4)
    images = source.sample(6, 3, "val", gen(1))
    masks = BlockMasking(size=2, aligned=False)(6, 3, 3, gen(2))
    bayes = source.posterior_mean(images, masks)
    covs = source.covariances(3).numpy()
    for image, mask, predicted in zip(images, masks, bayes, strict=True):
        x, h = image.flatten().double().numpy(), mask.flatten().numpy()
        v, mean = ~h, np.full(9, source.mean)
        log_w, means = [], []
        for c in covs:
            precision = np.linalg.inv(c)
            means.append(
                mean[h] - np.linalg.solve(precision[h][:, h], precision[h][:, v] @ (x[v] - mean[v]))
            )
            log_w.append(multivariate_normal(mean[v], c[v][:, v]).logpdf(x[v]))
        w = np.exp(np.array(log_w) - max(log_w))
        expected = (w[:, None] * np.array(means)).sum(0) / w.sum()
        assert predicted[mask].double().numpy() == pytest.approx(expected, abs=1e-5)


def test_bayes_depends_on_the_visible_pixels_nonlinearly():
    # Scaling the visible deviations changes which lengthscale is likely: no linear map does that.
    source = GaussianField()
    images = source.sample(1, 4, "val", gen(0))
    masks = BlockMasking(size=2)(1, 4, 4, gen(0))
    dev = images - source.mean
    small = source.posterior_mean(source.mean + 0.5 * dev, masks) - source.mean
    large = source.posterior_mean(source.mean + dev, masks) - source.mean
    assert not torch.allclose(2 * small[masks], large[masks], atol=1e-4)


@pytest.mark.parametrize(
    "masking", [BlockMasking(size=1), BlockMasking(size=2), RandomMasking(0.3)]
)
def test_no_baseline_beats_bayes_on_gaussian_fields(masking):
    source = GaussianField()
    train = source.sample(4000, 4, "train", gen(0))
    n = 600 if isinstance(masking, RandomMasking) else 1500  # random masks: one solve per image
    images = source.sample(n, 4, "test", gen(1))
    masks = masking(n, 4, 4, gen(2))
    scores = {
        name: float(masked_mse(predict(images, masks), images, masks))
        for name, predict in baseline_predictors(source, train).items()
    }
    scores["mean_fill"] = float(masked_mse(torch.full_like(images, 0.5), images, masks))
    assert min(scores, key=scores.get) == "bayes", scores
    # The lengthscale is worth knowing: the best linear filter is clearly worse than Bayes.
    assert scores["linear"] > 1.03 * scores["bayes"], scores


def test_bayes_on_uniform_noise_is_the_constant_half():
    images = UniformNoise().sample(50, 4, "val", gen(0))
    masks = BlockMasking(size=2)(50, 4, 4, gen(1))
    filled = UniformNoise().posterior_mean(images, masks)
    assert (filled[masks] == 0.5).all() and torch.equal(filled[~masks], images[~masks])


def test_linear_fitted_on_samples_approaches_the_true_covariance_filter():
    source = GaussianField()
    train = source.sample(20000, 4, "train", gen(0))
    images = source.sample(2000, 4, "test", gen(1))
    masks = BlockMasking(size=2)(2000, 4, 4, gen(2))
    fitted = LinearPredictor.fit(train)(images, masks)
    exact = LinearPredictor(*source.mean_and_covariance(4))(images, masks)
    fitted_mse = masked_mse(fitted, images, masks)
    exact_mse = masked_mse(exact, images, masks)
    assert float(fitted_mse) == pytest.approx(float(exact_mse), rel=0.02)


def test_single_component_mixture_is_the_textbook_gaussian_conditional():
    torch.manual_seed(0)
    a = torch.randn(9, 9, dtype=torch.float64)
    cov = a @ a.T + 0.1 * torch.eye(9, dtype=torch.float64)
    mean = torch.randn(9, dtype=torch.float64)
    images = torch.randn(1, 3, 3)
    masks = torch.zeros(1, 3, 3, dtype=torch.bool)
    masks[0, 1, 1] = masks[0, 0, 2] = True
    h = masks.flatten()
    v = ~h
    x = images.flatten().double()
    expected = mean[h] + cov[h][:, v] @ torch.linalg.solve(cov[v][:, v], x[v] - mean[v])
    got = gaussian_mixture_conditional_mean(images, masks, mean, cov)
    assert torch.allclose(got.flatten()[h].double(), expected, atol=1e-5)
    assert torch.equal(got[~masks], images[~masks])


@pytest.mark.parametrize("masking", [BlockMasking(size=1), RandomMasking(0.25)])
def test_biharmonic_equals_skimage_image_by_image(masking):
    from skimage.restoration import inpaint_biharmonic

    images = GaussianField().sample(200, 4, "val", gen(0))  # ~12 images per pixel-mask pattern
    masks = masking(200, 4, 4, gen(1))
    filled = biharmonic(images, masks)
    assert torch.equal(filled[~masks], images[~masks])
    for image, mask, got in zip(images[:50], masks[:50], filled[:50], strict=True):
        expected = inpaint_biharmonic(image.double().numpy(), mask.numpy())
        assert np.allclose(got.numpy(), expected, atol=1e-6)


def test_visible_mean_fills_with_each_images_own_mean():
    images = torch.tensor([[[0.0, 1.0], [0.5, 0.9]]])
    masks = torch.tensor([[[False, False], [False, True]]])
    assert visible_mean(images, masks)[0, 1, 1] == pytest.approx(0.5)
