"""Classical predictors of the hidden pixels, scored on exactly the model's images and masks.

    mean_fill     the training-set mean everywhere (computed by InpaintingMetrics: nmse's yardstick)
    visible_mean  the mean of the image's own visible pixels
    biharmonic    skimage.restoration.inpaint_biharmonic, the smooth classical inpainting
    linear        the best linear predictor: the Gaussian conditional mean under the data's mean
                  and covariance (the source's own when it knows them, else estimated from the
                  training images: a least-squares Wiener filter per mask pattern)
    bayes         the best possible predictor, E[hidden | visible], where the source can say it
                  (random: the constant 0.5; gaussian_field: an exact mixture over lengthscales)

A model that matches `bayes` has learned everything there is to learn; the gap between `linear`
and the model is what attention buys beyond a fixed linear filter.
"""

from __future__ import annotations

import numpy as np
import torch

from vit_inpaint.data.gaussian import gaussian_mixture_conditional_mean, mask_patterns
from vit_inpaint.data.masking import test_prefix


def visible_mean(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    visible = (~masks).to(images.dtype)
    per_image = (images * visible).flatten(1).sum(1) / visible.flatten(1).sum(1)
    return torch.where(masks, per_image[:, None, None].expand_as(images), images)


def biharmonic(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """skimage's biharmonic inpainting of every image.

    Images that share a mask are stacked as the channels of one image: skimage then builds and
    factors the mask's linear system once, and clips each channel to its own visible range, so
    the result equals inpainting each image alone (tests/unit/test_baselines.py checks it).
    """
    from skimage.restoration import inpaint_biharmonic

    x = images.to(torch.float64)
    out = x.clone()
    for hidden, rows in mask_patterns(masks):
        stacked = x[rows].permute(1, 2, 0).numpy()  # (H, W, images)
        mask = hidden.view(images.shape[-2:]).numpy()
        filled = inpaint_biharmonic(stacked, mask, channel_axis=-1)
        out[rows] = torch.from_numpy(np.ascontiguousarray(filled)).permute(2, 0, 1)
    return out.to(images.dtype)


def biharmonic_image(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`biharmonic` on one image of any size: (H, W) gray or (H, W, C) colour in [0, 1], each
    channel on its own; mask (H, W) bool, True = hidden. Returns float64 of the image's shape."""
    planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)  # (C, H, W)
    masks = torch.from_numpy(np.broadcast_to(mask, planes.shape).copy())
    filled = biharmonic(torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float64)), masks)
    filled = filled.numpy()
    return filled[0] if image.ndim == 2 else np.moveaxis(filled, 0, -1)


class LinearPredictor:
    """The Gaussian conditional mean under one mean and covariance: the best linear predictor."""

    def __init__(self, mean: torch.Tensor, covariance: torch.Tensor):
        self.mean, self.covariance = mean, covariance

    @classmethod
    def fit(cls, train_images: torch.Tensor) -> LinearPredictor:
        """Estimates mean and covariance from training images (a least-squares Wiener filter)."""
        x = train_images.flatten(1).to(torch.float64)
        covariance = torch.cov(x.T, correction=0)
        # A whisker of ridge keeps the solve stable when pixels are nearly collinear.
        ridge = 1e-6 * covariance.diagonal().mean() * torch.eye(x.shape[1], dtype=torch.float64)
        return cls(x.mean(0), covariance + ridge)

    def __call__(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return gaussian_mixture_conditional_mean(images, masks, self.mean, self.covariance)


def baseline_predictors(source, train_images: torch.Tensor) -> dict:
    """name -> predictor(images, masks) -> filled images, for the baselines this source allows."""
    size = train_images.shape[-1]
    if hasattr(source, "mean_and_covariance"):
        linear = LinearPredictor(*source.mean_and_covariance(size))
    else:
        linear = LinearPredictor.fit(train_images)
    predictors = {"visible_mean": visible_mean, "biharmonic": biharmonic, "linear": linear}
    if hasattr(source, "posterior_mean") and not getattr(source, "clip", False):
        predictors["bayes"] = source.posterior_mean
    return predictors


def evaluate_baselines(datamodule) -> dict[str, float]:
    """MSE on hidden pixels of every baseline on the validation split and every test set.

    Keys as logged: val/mse_<baseline>, test/mse_<baseline>, test/<mask>/mse_<baseline>.
    """
    # Here, not at the top: metrics.py loads torchmetrics (and lightning_utilities), which the
    # inpaint tool's biharmonic fill (classical.py, through biharmonic_image) must not.
    from vit_inpaint.tasks.metrics import masked_mse

    predictors = baseline_predictors(datamodule.source, datamodule.images["train"])
    sets = {"val/": (datamodule.images["val"], datamodule.masks["val"])}
    for name, masks in datamodule.test_masks.items():
        sets[test_prefix(name)] = (datamodule.images["test"], masks)
    results = {}
    for prefix, (images, masks) in sets.items():
        for name, predict in predictors.items():
            results[f"{prefix}mse_{name}"] = float(
                masked_mse(predict(images, masks), images, masks)
            )
    return results
