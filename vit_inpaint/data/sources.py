"""Where images come from. Each source is a small object with one method,

    sample(n, size, split, generator) -> (n, size, size) float tensor

so the data module, the baselines and the tests all draw images the same way. A source that knows
its own distribution also says what the best possible predictor is (`posterior_mean`) and what its
pixel covariance is (`mean_and_covariance`); the baselines use both.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from vit_inpaint.data.settings import (
    DIGITS_SPLIT_SIZES,
    GaussianFieldSettings,
    PhotosSettings,
    check_digits,
)


@dataclass(frozen=True)
class UniformNoise:
    """The report's data: i.i.d. uniform pixels in [0, 1]. No pixel says anything about another,
    so no predictor can beat the constant 0.5 on a hidden pixel (expected MSE 1/12)."""

    low: float = 0.0
    high: float = 1.0

    def sample(self, n: int, size: int, split: str, generator: torch.Generator) -> torch.Tensor:
        return self.low + (self.high - self.low) * torch.rand(n, size, size, generator=generator)

    def mean_and_covariance(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = size * size
        mean = torch.full((n,), (self.low + self.high) / 2, dtype=torch.float64)
        return mean, torch.eye(n, dtype=torch.float64) * (self.high - self.low) ** 2 / 12

    def posterior_mean(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """The Bayes predictor: the visible pixels carry no information, so the prior mean."""
        return torch.where(masks, torch.full_like(images, (self.low + self.high) / 2), images)


@dataclass
class GaussianField(GaussianFieldSettings):
    """Smooth random images whose smoothness varies: x = mean + z, z ~ N(0, sigma^2 K_l).

    K_l[p, q] = exp(-|p - q|^2 / (2 l^2)) over the pixel coordinates of the grid, with the
    lengthscale l drawn uniformly per image from `lengthscales`. A hidden pixel is predictable
    from its neighbours, but how much to trust them depends on l, which the predictor must infer
    from the visible pixels: the Bayes-optimal predictor is a mixture, not a linear filter.
    `jitter` (relative to sigma^2) is added to the diagonal so K_l is well conditioned; it is part
    of the model, used both to sample and by the Bayes predictor. Its settings, and their checks:
    data/settings.py GaussianFieldSettings.
    """

    def covariances(self, size: int) -> torch.Tensor:
        """(L, n, n) float64 covariance of each lengthscale, n = size * size pixels."""
        return _rbf_covariances(size, self.lengthscales, self.sigma, self.jitter)

    def sample(self, n: int, size: int, split: str, generator: torch.Generator) -> torch.Tensor:
        return self.sample_labelled(n, size, split, generator)[0]

    def sample_labelled(
        self, n: int, size: int, split: str, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images and their labels (n,) int64: the index of each image's lengthscale in
        `lengthscales` (task=classify). The same random numbers as `sample`, the same images."""
        factors = torch.linalg.cholesky(self.covariances(size))  # (L, n_pix, n_pix)
        which = torch.randint(0, len(self.lengthscales), (n,), generator=generator)
        noise = torch.randn(n, size * size, generator=generator, dtype=torch.float64)
        z = torch.empty_like(noise)
        for index, factor in enumerate(factors):  # one matmul per lengthscale, not per image
            chosen = which == index
            z[chosen] = noise[chosen] @ factor.T
        images = self.mean + z.view(n, size, size)
        if self.clip:
            images = images.clamp(0.0, 1.0)
        return images.float(), which

    def class_names(self) -> list[str]:
        return [f"l={scale:g}" for scale in self.lengthscales]

    def class_posterior(self, images: torch.Tensor) -> torch.Tensor:
        """The Bayes classifier (n, L): p(l | x) by Bayes' rule, exact for unclipped data.

        log p(l | x) = log N(x; mean, K_l) + log(1/L) - log p(x); the uniform prior cancels in
        the softmax over lengthscales, and so do the constants of the Gaussian densities.
        """
        size = images.shape[-1]
        covariances = self.covariances(size)  # (L, n, n)
        factors = torch.linalg.cholesky(covariances)
        centred = (images.reshape(len(images), -1).double() - self.mean).T  # (n_pix, B)
        log_likelihood = []
        for factor in factors:
            white = torch.linalg.solve_triangular(factor, centred, upper=False)  # L^-1 (x - m)
            log_det = 2 * factor.diagonal().log().sum()
            log_likelihood.append(-0.5 * (white.square().sum(0) + log_det))
        return torch.stack(log_likelihood, dim=1).softmax(dim=1).float()

    def mean_and_covariance(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The mixture's overall mean and covariance: the best *linear* predictor uses these."""
        mean = torch.full((size * size,), self.mean, dtype=torch.float64)
        return mean, self.covariances(size).mean(0)

    def posterior_mean(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """The Bayes predictor E[x_hidden | x_visible], exact (no sampling); for unclipped data."""
        from vit_inpaint.data.gaussian import gaussian_mixture_conditional_mean

        size = images.shape[-1]
        mean = torch.full((size * size,), self.mean, dtype=torch.float64)
        return gaussian_mixture_conditional_mean(images, masks, mean, self.covariances(size))


@cache
def _rbf_covariances(size: int, lengthscales: tuple, sigma: float, jitter: float) -> torch.Tensor:
    rows, cols = torch.meshgrid(
        torch.arange(size, dtype=torch.float64),
        torch.arange(size, dtype=torch.float64),
        indexing="ij",
    )
    coords = torch.stack((rows.flatten(), cols.flatten()), dim=1)
    squared = torch.cdist(coords, coords).square()
    scales = torch.tensor(lengthscales, dtype=torch.float64)[:, None, None]
    kernels = torch.exp(-squared / (2 * scales.square()))
    eye = torch.eye(size * size, dtype=torch.float64)
    return sigma**2 * (kernels + jitter * eye)


@dataclass
class Photos(PhotosSettings):
    """Grayscale crops in [0, 1] taken at random positions of real photographs.

    `downscale` first shrinks each photograph by block-averaging, so a 4x4 crop spans a larger
    piece of the scene (with downscale=1 most 4x4 crops of a 512x512 photo are nearly flat).
    A list of factors (e.g. [1, 2, 4]) mixes the scales: each crop draws its factor uniformly, so
    a model does not learn the statistics of one scale only. Its settings, and their checks:
    data/settings.py PhotosSettings (the photographs' names, which need scikit-image, here).
    The splits have no default here: data=photos' are declared once, in conf/data/photos.yaml.
    """

    def __post_init__(self):
        super().__post_init__()
        for split in ("train", "val", "test"):
            if not getattr(self, split):
                raise ValueError(f"data.images.{split} names no photograph")
        for name in self.train + self.val + self.test:
            _check_photo_name(name)

    def sample(self, n: int, size: int, split: str, generator: torch.Generator) -> torch.Tensor:
        factors = self.factors
        if len(factors) == 1:
            return self._crops(n, size, split, factors[0], generator)
        scale = torch.randint(0, len(factors), (n,), generator=generator)
        crops = torch.empty(n, size, size)
        for index, factor in enumerate(factors):
            chosen = (scale == index).nonzero().squeeze(1)
            if len(chosen):
                crops[chosen] = self._crops(len(chosen), size, split, factor, generator)
        return crops

    def _crops(
        self, n: int, size: int, split: str, downscale: int, generator: torch.Generator
    ) -> torch.Tensor:
        photos = [load_photo(name, downscale) for name in getattr(self, split)]
        for name, photo in zip(getattr(self, split), photos, strict=True):
            if min(photo.shape) < size:
                raise ValueError(
                    f"photo {name!r} shrunk {downscale}x is smaller than a {size}x{size} crop"
                )
        # Each crop picks a photograph in proportion to its number of possible crop positions,
        # then a position uniformly: every crop position of the split is equally likely.
        positions = torch.tensor(
            [(p.shape[0] - size + 1) * (p.shape[1] - size + 1) for p in photos], dtype=torch.float64
        )
        which = torch.multinomial(
            positions / positions.sum(), n, replacement=True, generator=generator
        )
        crops = torch.empty(n, size, size)
        for index, photo in enumerate(photos):
            chosen = (which == index).nonzero().squeeze(1)
            if len(chosen) == 0:
                continue
            top = torch.randint(0, photo.shape[0] - size + 1, (len(chosen),), generator=generator)
            left = torch.randint(0, photo.shape[1] - size + 1, (len(chosen),), generator=generator)
            offsets = torch.arange(size)
            rows = (top[:, None] + offsets)[:, :, None]  # (k, size, 1)
            cols = (left[:, None] + offsets)[:, None, :]  # (k, 1, size)
            crops[chosen] = photo[rows, cols]
        if split == "train" and self.flip_and_turn:
            crops = _flip_and_turn(crops, generator)
        return crops


def _flip_and_turn(crops: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each (size, size) crop in one of its 8 orientations, drawn at random."""
    orientation = torch.randint(0, 8, (len(crops),), generator=generator)
    out = crops.clone()
    for k in range(8):
        chosen = (orientation == k).nonzero().squeeze(1)
        turned = torch.rot90(crops[chosen], k % 4, dims=(1, 2))
        out[chosen] = turned.flip(2) if k >= 4 else turned
    return out


def _check_photo_name(name: str) -> None:
    import skimage.data

    if not callable(getattr(skimage.data, name, None)):
        raise ValueError(f"data.images: {name!r} is not a photograph in skimage.data")


@cache
def load_photo(name: str, downscale: int = 1) -> torch.Tensor:
    """A bundled scikit-image photograph as a (H, W) float tensor in [0, 1], grayscale."""
    import numpy as np
    import skimage.color
    import skimage.data
    import skimage.util

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity); the left view
        image = image[0]
    if image.ndim == 3:
        image = skimage.color.rgb2gray(image[..., :3])
    image = skimage.util.img_as_float(image).astype(np.float32)
    return block_mean(torch.from_numpy(np.ascontiguousarray(image)), downscale)


@cache
def load_photo_pixels(name: str):
    """A bundled scikit-image photograph as numpy float64 in [0, 1]: (H, W) gray or (H, W, 3)
    colour (alpha dropped), as a user's file of it would be read."""
    import numpy as np
    import skimage.data
    import skimage.util

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity); the left view
        image = image[0]
    image = image[..., :3] if image.ndim == 3 else image
    image = skimage.util.img_as_float(image).astype(np.float64)
    image.setflags(write=False)  # cached: shared by every caller
    return image


def block_mean(photo: torch.Tensor, downscale: int) -> torch.Tensor:
    """A (H, W) photo shrunk `downscale` times by averaging blocks (the last rows and columns
    that do not fill a block are dropped); the evaluation shrinks the user's photographs so too."""
    if downscale > 1:
        h = photo.shape[0] // downscale * downscale
        w = photo.shape[1] // downscale * downscale
        blocks = photo[:h, :w].reshape(h // downscale, downscale, w // downscale, downscale)
        photo = blocks.mean(dim=(1, 3))
    return photo


@dataclass(frozen=True)
class Digits:
    """scikit-learn's bundled handwritten digits (no download): 1797 images of 8x8 pixels, scaled
    from 0..16 to [0, 1], labels 0-9. Split once into train / val / test (DIGITS_SPLIT_SIZES),
    stratified by class and independent of `seed`, so every run and every baseline sees the same
    test images. `sample` draws n images of a split without replacement (all of them when n is
    the split's size); the data module keeps `labels_per_class` of the training images."""

    def sample(self, n: int, size: int, split: str, generator: torch.Generator) -> torch.Tensor:
        return self.sample_labelled(n, size, split, generator)[0]

    def sample_labelled(
        self, n: int, size: int, split: str, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_digits(size, **{f"num_{split}": n})
        images, labels = _digits_split(split)
        chosen = torch.randperm(len(images), generator=generator)[:n]
        return images[chosen], labels[chosen]

    def class_names(self) -> list[str]:
        return [str(digit) for digit in range(10)]


@cache
def _digits_split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.from_numpy(digits.images / 16.0).float()  # (1797, 8, 8), 0..16 -> [0, 1]
    labels = torch.from_numpy(digits.target).long()
    index = torch.arange(len(labels)).numpy()
    sizes = DIGITS_SPLIT_SIZES
    # random_state fixed: the split is part of the data set, not of a run.
    rest, test = train_test_split(
        index, test_size=sizes["test"], stratify=labels.numpy(), random_state=0
    )
    train, val = train_test_split(
        rest, test_size=sizes["val"], stratify=labels.numpy()[rest], random_state=0
    )
    chosen = {"train": train, "val": val, "test": test}[split]
    return images[chosen], labels[chosen]
