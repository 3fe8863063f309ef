"""The exact conditional mean of a Gaussian mixture, E[x_hidden | x_visible]: the Bayes fill of
data=gaussian_field (sources.py GaussianField.posterior_mean) and, with one component, the best
linear filter (evaluation/baselines.py)."""

from __future__ import annotations

from collections.abc import Iterator

import torch


def mask_patterns(masks: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Groups images by their mask: yields (hidden (n_pixels,) bool, indices of the images).

    Pixel and 2x2 masks have few distinct patterns, so each solve serves many images at once.
    """
    flat = masks.flatten(1)
    patterns, inverse = torch.unique(flat, dim=0, return_inverse=True)
    for index, pattern in enumerate(patterns):
        yield pattern, (inverse == index).nonzero().squeeze(1)


def gaussian_mixture_conditional_mean(
    images: torch.Tensor,
    masks: torch.Tensor,
    mean: torch.Tensor,
    covariances: torch.Tensor,
    log_prior: torch.Tensor | None = None,
) -> torch.Tensor:
    """E[x_hidden | x_visible] when x ~ sum_l prior_l N(mean, covariances[l]); exact.

    Each component gives the Gaussian conditional mean mu_h + C_hv C_vv^-1 (x_v - mu_v); the
    components are weighted by their posterior probability given the visible pixels,
    prior_l N(x_v; mu_v, C_vv). One component is the plain Gaussian conditional (a linear filter).
    images (B, H, W), masks (B, H, W) bool (True = hidden), mean (n,), covariances (L, n, n) or
    (n, n). Returns the images with hidden pixels replaced by the prediction.
    """
    if covariances.dim() == 2:
        covariances = covariances[None]
    num = covariances.shape[0]
    if log_prior is None:
        log_prior = torch.full((num,), -torch.log(torch.tensor(float(num))), dtype=torch.float64)
    x = images.flatten(1).to(torch.float64)
    out = x.clone()
    for hidden, rows in mask_patterns(masks):
        visible = ~hidden
        c_vv = covariances[:, visible][:, :, visible]  # (L, v, v)
        c_hv = covariances[:, hidden][:, :, visible]  # (L, h, v)
        factor = torch.linalg.cholesky(c_vv)
        residual = (x[rows][:, visible] - mean[visible]).T  # (v, k)
        alpha = torch.cholesky_solve(residual.expand(num, -1, -1), factor)  # (L, v, k)
        predictions = mean[hidden][None, :, None] + c_hv @ alpha  # (L, h, k)
        # log N(x_v; mu_v, C_vv) up to a constant shared by all components.
        log_det = 2 * factor.diagonal(dim1=-2, dim2=-1).log().sum(-1)  # (L,)
        log_lik = -0.5 * (residual * alpha).sum(1) - 0.5 * log_det[:, None]  # (L, k)
        weights = torch.softmax(log_lik + log_prior[:, None], dim=0)  # (L, k)
        filled = (weights[:, None, :] * predictions).sum(0)  # (h, k)
        block = out[rows]
        block[:, hidden] = filled.T
        out[rows] = block
    return out.view_as(images).to(images.dtype)
