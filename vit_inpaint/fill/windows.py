"""Filling an image of any size with a model that sees size x size windows, giving every hole
context on all sides.

    1. The image is padded by mirroring (a mirrored hidden pixel stays hidden), so that windows
       reach past its borders.
    2. Windows overlap: they start every `stride` pixels (half a window by default), so each hidden
       pixel is seen by several windows, in different places of each; only the windows that hold
       a hidden pixel are computed, so the cost grows with the hidden pixels, not the image.
    3. Each window's predictions are weighted by a bump that falls towards its borders (where a
       window knows least about a pixel's surroundings), and the weighted predictions of all
       windows are averaged.
    4. A hole too large for one window to see across is filled from its border inward: a pass
       keeps only the filled pixels within `reach` of a visible pixel, which then count as
       visible for the next pass; no pixel is ever filled from a window that sees nothing.
       With a `prior` (a fill of the whole image the model corrects, e.g. the biharmonic one),
       every pixel already has a value seen from the whole image: one pass fills them all.
Windows are computed in batches of `batch_size`, so memory stays bounded on large images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BATCH_SIZE = 2048  # windows per forward pass


def window_weights(size: int) -> np.ndarray:
    """(size, size) weights, largest in the middle, small but not zero at the border."""
    ramp = np.sin(np.pi * (np.arange(size) + 0.5) / size) ** 2 + 1e-3
    return np.outer(ramp, ramp)


def _box_sums(mask: np.ndarray, tops: np.ndarray, lefts: np.ndarray, h: int, w: int):
    """Number of True pixels of `mask` in each h x w box starting at (tops[i], lefts[j]), from a
    summed-area table: one pass over the image, whatever the number of boxes."""
    # int32: counts up to 2**31 pixels, and half the memory of int64 on a 4000x4000 image.
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(mask, axis=0, dtype=np.int32, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    t, left = tops[:, None], lefts[None, :]
    return table[t + h, left + w] - table[t, left + w] - table[t + h, left] + table[t, left]


def _near_visible(hidden: np.ndarray, reach: int, strip: int = 512) -> np.ndarray:
    """Hidden pixels with a visible pixel within `reach` rows and columns, computed in strips of
    rows so that the summed-area tables stay small on a large image."""
    near = np.zeros_like(hidden)
    padded = np.pad(~hidden, reach, mode="constant")
    cols = np.arange(hidden.shape[1])
    for start in range(0, hidden.shape[0], strip):
        stop = min(start + strip, hidden.shape[0])
        block = padded[start : stop + 2 * reach]  # the strip's rows and `reach` rows either side
        rows = np.arange(stop - start)
        seen = _box_sums(block, rows, cols, 2 * reach + 1, 2 * reach + 1) > 0
        near[start:stop] = hidden[start:stop] & seen
    return near


def checked_inputs(image, mask) -> tuple[np.ndarray, np.ndarray]:
    """(image, mask as bool: a 0/1 or 0/255 mask too); raises ValueError for what no window
    can fill: not a (H, W) gray image with a mask of its shape, or no visible pixel."""
    image, mask = np.asarray(image), np.asarray(mask).astype(bool)
    if image.ndim != 2 or image.shape != mask.shape:
        raise ValueError(
            f"expects a (H, W) gray image and a mask of its shape, got {image.shape} and "
            f"{mask.shape} (fill a colour image one channel at a time)"
        )
    if mask.all():
        raise ValueError("no hidden pixel can be filled: the image has no visible pixel")
    return image, mask


def fill_windows(
    image: np.ndarray,
    mask: np.ndarray,
    size: int,
    predict: Callable,
    stride: int | None = None,
    reach: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
    prior: np.ndarray | None = None,
) -> np.ndarray:
    """Fills the hidden pixels of a (H, W) image in [0, 1]; returns float64 (H, W).

    predict(windows (B, size, size) float32 tensor, masks (B, size, size) bool tensor[, priors
    (B, size, size) float32 tensor, with a prior]) -> (B, size, size) tensor of predictions
    (e.g. InpaintingViT's forward). stride: between window starts, a divisor of size (default
    size // 2); reach: how far from a visible pixel one pass fills (default size // 4); prior:
    (H, W) fill of the whole image, cut into the same windows for predict.
    """
    import torch

    image, mask = checked_inputs(image, mask)
    if stride is not None and stride < 1:
        raise ValueError(f"the stride must be a positive divisor of the window size, got {stride}")
    stride = stride or max(1, size // 2)
    if size % stride:
        raise ValueError(f"the stride ({stride}) must divide the window size ({size})")
    reach = reach or max(1, size // 4)
    height, width = mask.shape
    # Mirror-pad at least half a window on every side (a whole one more on small images), a
    # multiple of the stride, so that windows start on the image's own grid of `stride` (with
    # stride = size, the windows are the image's tiles from its top-left corner); then up to one
    # more stride at the bottom and right so that the last windows end exactly at the border.
    top = -(-(size // 2 + max(0, size - height)) // stride) * stride
    left = -(-(size // 2 + max(0, size - width)) // stride) * stride
    bottom = top + (-(height + 2 * top - size) % stride)
    right = left + (-(width + 2 * left - size) % stride)
    padding = ((top, bottom), (left, right))
    # float32, hidden values zeroed in place: on a 4000x4000 image each float64 copy is 128 MB.
    values = image.astype(np.float32)
    values[mask] = 0.0
    values = np.pad(values, padding, mode="symmetric")
    hidden = np.pad(mask, padding, mode="symmetric")
    if prior is not None:
        prior = np.pad(prior.astype(np.float32), padding, mode="symmetric")
    tops = np.arange(0, hidden.shape[0] - size + 1, stride)
    lefts = np.arange(0, hidden.shape[1] - size + 1, stride)
    weights = window_weights(size).astype(np.float32)
    offsets = np.arange(size)
    passes = 0
    while hidden.any():
        passes += 1
        counts = _box_sums(hidden, tops, lefts, size, size)
        # Windows with a hidden pixel to fill and something to go on: a visible pixel, or the
        # prior's fill.
        full = counts >= size * size if prior is None else np.zeros_like(counts, dtype=bool)
        i, j = np.nonzero((counts > 0) & ~full)
        starts = np.stack([tops[i], lefts[j]], axis=1)
        # Windows `size / stride` starts apart do not overlap: each group of them adds its
        # predictions with plain indexing (no pixel twice in one assignment).
        group = (starts // stride) % (size // stride)
        order = np.lexsort((group[:, 1], group[:, 0]))
        starts, group = starts[order], group[order]
        total = np.zeros(hidden.shape, dtype=np.float32)
        weight_sum = np.zeros(hidden.shape, dtype=np.float32)
        chunks = []
        for key in np.unique(group, axis=0):
            members = starts[(group == key).all(axis=1)]
            chunks += [members[k : k + batch_size] for k in range(0, len(members), batch_size)]
        if progress:
            from tqdm import tqdm

            chunks = tqdm(chunks, desc=f"filling, pass {passes}", unit="batch", delay=2.0)
        for chunk in chunks:
            r = chunk[:, 0, None, None] + offsets[None, :, None]
            c = chunk[:, 1, None, None] + offsets[None, None, :]
            inputs = [torch.from_numpy(values[r, c]), torch.from_numpy(hidden[r, c])]
            if prior is not None:
                inputs.append(torch.from_numpy(prior[r, c]))
            with torch.no_grad():
                pred = predict(*inputs)
            pred = pred.float().clamp(0.0, 1.0).cpu().numpy()
            total[r, c] += pred * weights
            weight_sum[r, c] += weights
        near = hidden if prior is not None else _near_visible(hidden, reach)
        filled = near & (weight_sum > 0)
        if not filled.any():
            raise ValueError("no hidden pixel can be filled: the image has no visible pixel")
        values[filled] = total[filled] / weight_sum[filled]
        hidden &= ~filled
    out = image.astype(np.float64)  # visible pixels exactly as given
    out[mask] = values[top : top + height, left : left + width][mask]
    return out
