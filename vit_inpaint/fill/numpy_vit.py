"""The inpainting ViT's forward pass (models/vit.py, InpaintingViT) in numpy, for filling
photographs without importing torch.

Why a second copy of the forward: `import torch` takes 1.5-3 s on the project's 2-core machine,
more than filling a small photograph takes, and the filling tool needs nothing of torch but this
one function of fixed weights (no gradient, no training). The copy follows models/ step by step
and tests/unit/test_numpy_vit.py checks that it gives torch's output (to 1e-5) for every setting it
accepts; a network it does not cover (a convolutional stem, the pushpull prior, the
classifier, MAE) is filled by torch as before (fill/model.py chooses).

    windows (B, s, s), masks (B, s, s) bool, priors (B, s, s) (the biharmonic fill)
    -> features (B, 3, s, s): value (0 where hidden), hidden flag, prior; normalized per window
    -> patches (B, N, 3*p*p) -> embed + position (B, N, dim)
    -> depth x [x + attention(norm1 x), x + mlp(norm2 x)] -> norm -> head (B, N, p*p)
    -> pixels (B, s, s): prior + spread * correction
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from vit_inpaint.models.settings import ModelSettings

LAYER_NORM_EPS = 1e-5  # nn.LayerNorm's default
SPREAD_FLOOR = 2e-3  # models/vit.py SPREAD_FLOOR (tests/unit/test_numpy_vit.py checks they agree)
# Windows one thread computes at once. numpy's elementwise steps (GELU, norms, softmax) run on one
# core and are bound by memory: on 64 windows their arrays stay in the CPU's cache (GELU 2.5-5x
# faster than on 2048 at once), and the sub-batches are spread over the cores, each with one BLAS
# thread (BENCHMARKS.md "Issue 27, session 9").
SUB_BATCH = 64


class NotCovered(ValueError):
    """The network has a part this forward does not implement: torch runs it instead."""


def covered(settings: ModelSettings) -> str | None:
    """Why this forward cannot run a network of `settings`, or None when it can."""
    if settings.name != "vit":
        return f"model={settings.name}"
    if settings.stem_channels:
        return "a convolutional stem"
    if settings.prior == "pushpull":
        return "the pushpull prior"
    return None


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 (Abramowitz and Stegun 7.1.26): numpy has none, and scipy's import would
    cost a third of the time saved."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                + t * 1.061405429))))  # fmt: skip
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly)


def gelu(x: np.ndarray) -> np.ndarray:
    """nn.GELU's exact form: x * Phi(x)."""
    return 0.5 * x * (1.0 + _erf(x * np.float32(1.0 / math.sqrt(2.0))))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.square(centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + LAYER_NORM_EPS) * weight + bias


def softmax(scores: np.ndarray) -> np.ndarray:
    """Over the last axis; a row of -inf only (a window with no visible patch to attend to) gets
    weights 0, as torch's scaled_dot_product_attention gives it."""
    top = scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores - np.where(np.isfinite(top), top, 0.0))
    total = weights.sum(axis=-1, keepdims=True)
    return weights / np.where(total > 0, total, 1.0)


def patchify(x: np.ndarray, p: int) -> np.ndarray:
    """(B, C, H, W) -> (B, N, p*p*C), as models/layers.py patchify."""
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // p, p, w // p, p).transpose(0, 2, 4, 3, 5, 1)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def unpatchify(tokens: np.ndarray, p: int, size: int) -> np.ndarray:
    """(B, N, p*p) -> (B, size, size), as models/layers.py unpatchify for one channel."""
    b = tokens.shape[0]
    x = tokens.reshape(b, size // p, size // p, p, p).transpose(0, 1, 3, 2, 4)
    return x.reshape(b, size, size)


def sincos_2d(grid: int, dim: int) -> np.ndarray:
    """models/layers.py sincos_2d for a square grid: (N, dim)."""
    quarter = dim // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / quarter)
    rows, cols = np.meshgrid(np.arange(grid, dtype=np.float64), np.arange(grid), indexing="ij")
    parts = []
    for coord in (rows.ravel(), cols.ravel()):
        angles = coord[:, None] * omega[None, :]
        parts += [np.sin(angles), np.cos(angles)]
    return np.concatenate(parts, axis=1).astype(np.float32)


@dataclass
class NumpyViT:
    """An InpaintingViT's weights (its state_dict as numpy arrays, without "model.") and
    settings; called like the torch network's forward with a prior, on numpy arrays."""

    settings: ModelSettings
    weights: dict

    def __post_init__(self):
        why = covered(self.settings)
        if why is not None:
            raise NotCovered(f"the numpy forward does not cover {why}")
        s = self.settings
        if s.pos_embedding == "sincos":
            self.weights = {**self.weights, "pos.table": sincos_2d(self.grid, s.dim)[None]}

    # What fill/model.py asks of a network.
    @property
    def image_size(self) -> int:
        return self.settings.image_size

    @property
    def prior(self) -> str:
        return self.settings.prior

    @property
    def grid(self) -> int:
        return self.settings.image_size // self.settings.patch_size

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        # One (B*N, in) x (in, out) product: numpy's matmul of a 3-d array loops over the batch
        # with small products, 3-5x slower.
        flat = x.reshape(-1, x.shape[-1]) @ self.weights[f"{name}.weight"].T
        flat += self.weights[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], flat.shape[-1])

    def features(self, windows, masks, priors):
        """(B, C, s, s) pixel features and the base the head corrects (None without a prior),
        and the spread that scales the correction (None without model.normalize)."""
        hidden = masks.astype(np.float32)
        visible = windows * (1.0 - hidden)
        channels, base = [visible, hidden], None
        if self.prior != "none":
            if priors is None:
                raise NotCovered("a network with a prior needs the caller's prior fill")
            base = np.where(masks, priors, windows).astype(np.float32)
            channels.append(base)
        features, spread = np.stack(channels, axis=1), None
        if self.settings.normalize:  # models/vit.py normalize_windows
            seen = 1.0 - hidden
            count = np.maximum(seen.sum(axis=(1, 2)), 1.0)
            mean = ((features[:, 0] * seen).sum(axis=(1, 2)) / count)[:, None, None]
            centred = (features[:, 0] - mean) * seen
            spread = np.sqrt(np.square(centred).sum(axis=(1, 2)) / count + SPREAD_FLOOR**2)
            spread = spread[:, None, None]
            features = np.stack([centred / spread, features[:, 1], (base - mean) / spread], 1)
        return features.astype(np.float32), base, spread

    def attention(self, x: np.ndarray, block: str, key_mask) -> np.ndarray:
        """Multi-head self-attention (models/layers.py MultiHeadSelfAttention)."""
        b, n, dim = x.shape
        heads = self.settings.heads
        head_dim = dim // heads
        qkv = self._linear(x, f"{block}.attn.qkv").reshape(b, n, 3, heads, head_dim)
        q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (B, heads, N, d_k)
        scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1.0 / math.sqrt(head_dim))
        if key_mask is not None:
            scores = np.where(key_mask[:, None, None, :], scores, -np.inf)
        out = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(b, n, dim)
        return self._linear(out, f"{block}.attn.proj")

    def __call__(self, windows, masks, priors=None) -> np.ndarray:
        """(B, s, s) float32 windows, bool masks (, priors) -> (B, s, s) predictions, computed
        SUB_BATCH windows at a time over the machine's cores."""
        windows = np.asarray(windows, dtype=np.float32)
        masks = np.asarray(masks, dtype=bool)
        priors = None if priors is None else np.asarray(priors, dtype=np.float32)
        starts = range(0, len(windows), SUB_BATCH)
        if len(starts) <= 1:
            return self.forward(windows, masks, priors)
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        def part(k):
            cut = slice(k, k + SUB_BATCH)
            return self.forward(windows[cut], masks[cut], None if priors is None else priors[cut])

        workers = min(len(starts), os.cpu_count() or 1)
        with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
            return np.concatenate(list(pool.map(part, starts)))

    def forward(self, windows: np.ndarray, masks: np.ndarray, priors) -> np.ndarray:
        """One batch, as InpaintingViT.forward (the module's docstring)."""
        s, w = self.settings, self.weights
        features, base, spread = self.features(windows, masks, priors)
        x = self._linear(patchify(features, s.patch_size), "embed")
        if s.pos_embedding != "none":
            x = x + w["pos.table"]
        key_mask = None
        if not s.attend_to_hidden:  # tokens with a visible pixel may be attended to
            key_mask = ~patchify(masks[:, None], s.patch_size).all(axis=-1)
        for i in range(s.depth):
            block = f"blocks.{i}"
            normed = layer_norm(x, w[f"{block}.norm1.weight"], w[f"{block}.norm1.bias"])
            x = x + self.attention(normed, block, key_mask)
            normed = layer_norm(x, w[f"{block}.norm2.weight"], w[f"{block}.norm2.bias"])
            x = x + self._linear(gelu(self._linear(normed, f"{block}.mlp.0")), f"{block}.mlp.2")
        x = layer_norm(x, w["norm.weight"], w["norm.bias"])
        out = unpatchify(self._linear(x, "head"), s.patch_size, s.image_size)
        if spread is not None:
            out = spread * out
        if base is not None:
            out = base + out
        return out.astype(np.float32)
