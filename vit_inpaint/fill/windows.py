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
       every pixel already has a value seen from the whole image: one pass fills them all, and
       nothing image-sized is made (fill_with_prior): the windows are cut from the image with
       mirrored indices, and predictions are summed at the hidden pixels only, so the cost and
       the memory grow with the hidden pixels, not the image.
Windows are computed in batches of `batch_size`, so memory stays bounded on large images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    can fill: not a (H, W) gray or (H, W, C) colour image with a (H, W) mask of its size, no
    visible pixel, or a visible pixel that is not a finite number."""
    image, mask = np.asarray(image), np.asarray(mask).astype(bool)
    if image.ndim not in (2, 3) or image.shape[:2] != mask.shape or mask.ndim != 2:
        raise ValueError(
            f"expects a (H, W) gray or (H, W, C) colour image and a (H, W) mask of its size, got "
            f"{image.shape} and {mask.shape}"
        )
    if mask.all():
        raise ValueError("no hidden pixel can be filled: the image has no visible pixel")
    if not np.isfinite(image[~mask]).all():  # one NaN would spread over every hole around it
        raise ValueError("the image holds NaN or infinite values at visible pixels")
    return image, mask


def checked_stride(size: int, stride: int | None) -> int:
    """The stride between window starts: a divisor of the window size (default half of it)."""
    if stride is not None and stride < 1:
        raise ValueError(f"the stride must be a positive divisor of the window size, got {stride}")
    stride = stride or max(1, size // 2)
    if size % stride:
        raise ValueError(f"the stride ({stride}) must divide the window size ({size})")
    return stride


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
    centre: bool = False,
) -> np.ndarray:
    """Fills the hidden pixels of a (H, W) image in [0, 1]; returns float64 (H, W).

    predict(windows (B, size, size) float32, masks (B, size, size) bool[, priors (B, size, size)
    float32, with a prior], numpy arrays) -> (B, size, size) predictions, a numpy array:
    e.g. Inpainter.predict (fill/model.py). stride: between window starts, a
    divisor of size (default size // 2); reach: how far from a visible pixel one pass fills
    (default size // 4); prior: (H, W) fill of the whole image, cut into the same windows for
    predict; centre: each hidden pixel from the one window it is central in (5. above; needs a
    prior, and size - stride even).
    """
    image, mask = checked_inputs(image, mask)
    if image.ndim != 2:
        raise ValueError(f"fill_windows fills a (H, W) gray image, got {image.shape}")
    stride = checked_stride(size, stride)
    grid = WindowGrid.of(mask.shape, size, stride)
    if centre and (prior is None or (size - stride) % 2):
        raise ValueError(
            "centre windows need a model with a prior and an even size - stride, got "
            f"prior {'none' if prior is None else 'given'}, size {size}, stride {stride}"
        )
    if prior is not None:
        return fill_with_prior(image, mask, prior, grid, predict, batch_size, progress, centre)
    return fill_in_passes(image, mask, grid, predict, reach or max(1, size // 4), batch_size,
                          progress)  # fmt: skip


@dataclass(frozen=True)
class WindowGrid:
    """Where the windows lie: the image mirror-padded by (top, bottom, left, right), windows
    starting every `stride` pixels of the padded image."""

    size: int
    stride: int
    padding: tuple[tuple[int, int], tuple[int, int]]

    @classmethod
    def of(cls, shape: tuple[int, int], size: int, stride: int) -> WindowGrid:
        """At least half a window on every side (a whole one more on small images), a multiple
        of the stride, so that windows start on the image's own grid of `stride` (with stride =
        size, the windows are the image's tiles from its top-left corner); then up to one more
        stride at the bottom and right so that the last windows end exactly at the border."""
        height, width = shape
        top = -(-(size // 2 + max(0, size - height)) // stride) * stride
        left = -(-(size // 2 + max(0, size - width)) // stride) * stride
        bottom = top + (-(height + 2 * top - size) % stride)
        right = left + (-(width + 2 * left - size) % stride)
        return cls(size, stride, ((top, bottom), (left, right)))

    def starts(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The padded image's window starts along its rows and its columns."""
        (top, bottom), (left, right) = self.padding
        last_row = shape[0] + top + bottom - self.size
        last_col = shape[1] + left + right - self.size
        return np.arange(0, last_row + 1, self.stride), np.arange(0, last_col + 1, self.stride)


def _chunks(items: list, progress: bool, description: str):
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="batch", delay=2.0)


def _mirrored(index: np.ndarray, length: int) -> np.ndarray:
    """Indices into the padded image (shifted by the padding) -> the image's own, as
    np.pad(mode="symmetric") mirrors, as many times as it takes."""
    index = np.mod(index, 2 * length)
    return np.where(index < length, index, 2 * length - 1 - index)


def windows_holding(rows, cols, grid: WindowGrid, shape) -> np.ndarray:
    """(k, 2) starts (in the padded image) of the windows that hold one of the pixels (rows,
    cols), each once."""
    (top, _), (left, _) = grid.padding
    tops, lefts = grid.starts(shape)
    per_side = grid.size // grid.stride
    keys = []
    for da in range(per_side):
        for db in range(per_side):
            a = (rows + top) // grid.stride - da
            b = (cols + left) // grid.stride - db
            valid = (a >= 0) & (a < len(tops)) & (b >= 0) & (b < len(lefts))
            keys.append(a[valid].astype(np.int64) * len(lefts) + b[valid])
    a, b = np.divmod(np.unique(np.concatenate(keys)), len(lefts))
    return np.stack([tops[a], lefts[b]], axis=1)


def centre_windows(rows, cols, grid: WindowGrid) -> np.ndarray:
    """(k, 2) starts (in the padded image) of the windows whose central stride x stride block
    holds one of the pixels (rows, cols), each once."""
    (top, _), (left, _) = grid.padding
    margin = (grid.size - grid.stride) // 2
    blocks = np.unique(np.stack([rows // grid.stride, cols // grid.stride], axis=1), axis=0)
    return blocks * grid.stride - margin + np.array([top, left])


def centre_weights(grid: WindowGrid) -> np.ndarray:
    """1 on a window's central stride x stride block, 0 elsewhere."""
    margin = (grid.size - grid.stride) // 2
    weights = np.zeros((grid.size, grid.size))
    weights[margin : margin + grid.stride, margin : margin + grid.stride] = 1.0
    return weights


def fill_with_prior(image, mask, prior, grid: WindowGrid, predict, batch_size, progress,
                    centre=False):  # fmt: skip
    """One pass over the windows that hold a hidden pixel (with centre, in their central block),
    the predictions weighted and summed at the hidden pixels only (mirrored copies of a hidden
    pixel beyond the border are not it)."""
    from vit_inpaint.models.biharmonic_image import unknown_of

    height, width = mask.shape
    (top, _), (left, _) = grid.padding
    linear = np.flatnonzero(mask)
    rows, cols = np.divmod(linear, width)
    number = unknown_of(mask, linear)
    values = np.where(mask, 0.0, image).astype(np.float32)
    prior = prior.astype(np.float32)
    if centre:
        starts, weights = centre_windows(rows, cols, grid), centre_weights(grid)
    else:
        starts, weights = windows_holding(rows, cols, grid, mask.shape), window_weights(grid.size)
    total = np.zeros(linear.size)
    weight_sum = np.zeros(linear.size)
    offsets = np.arange(grid.size)
    batches = [starts[k : k + batch_size] for k in range(0, len(starts), batch_size)]
    for chunk in _chunks(batches, progress, "filling"):
        r = chunk[:, 0, None] + offsets - top  # (B, size) rows of the image, maybe outside it
        c = chunk[:, 1, None] + offsets - left
        rr, cc = _mirrored(r, height)[:, :, None], _mirrored(c, width)[:, None, :]
        inputs = [values[rr, cc], mask[rr, cc], prior[rr, cc]]
        pred = _predictions(predict(*inputs))
        inside = ((r >= 0) & (r < height))[:, :, None] & ((c >= 0) & (c < width))[:, None, :]
        own = inside & inputs[1] & (weights > 0)
        at = number((rr * width + cc)[own])
        spread = np.broadcast_to(weights, pred.shape)[own]
        total += np.bincount(at, weights=pred[own] * spread, minlength=linear.size)
        weight_sum += np.bincount(at, weights=spread, minlength=linear.size)
    out = image.astype(np.float64)  # visible pixels exactly as given
    out[rows, cols] = total / weight_sum
    return out


def _predictions(pred) -> np.ndarray:
    """predict's output as float32 numpy in [0, 1]."""
    return np.clip(np.asarray(pred, dtype=np.float32), 0.0, 1.0)


def fill_in_passes(image, mask, grid: WindowGrid, predict, reach, batch_size, progress, prior=None):
    """Every window of the padded image that holds a hidden pixel and sees a visible one, pass
    after pass (the filled pixels within `reach` of a visible pixel count as visible for the
    next), until every hidden pixel is filled; with a prior, one pass fills all (the sparse
    fill_with_prior does the same with less)."""
    height, width = mask.shape
    (top, _), (left, _) = grid.padding
    # float32, hidden values zeroed in place: on a 4000x4000 image each float64 copy is 128 MB.
    values = image.astype(np.float32)
    values[mask] = 0.0
    values = np.pad(values, grid.padding, mode="symmetric")
    hidden = np.pad(mask, grid.padding, mode="symmetric")
    if prior is not None:
        prior = np.pad(prior.astype(np.float32), grid.padding, mode="symmetric")
    passes = 0
    while hidden.any():
        passes += 1
        total, weight_sum = _one_pass(values, hidden, prior, grid, predict, batch_size,
                                      _chunks_label(progress, passes))  # fmt: skip
        near = hidden if prior is not None else _near_visible(hidden, reach)
        filled = near & (weight_sum > 0)
        if not filled.any():
            raise ValueError("no hidden pixel can be filled: the image has no visible pixel")
        values[filled] = total[filled] / weight_sum[filled]
        hidden &= ~filled
    out = image.astype(np.float64)  # visible pixels exactly as given
    out[mask] = values[top : top + height, left : left + width][mask]
    return out


def _chunks_label(progress: bool, passes: int) -> str | None:
    return f"filling, pass {passes}" if progress else None


def _one_pass(values, hidden, prior, grid: WindowGrid, predict, batch_size, label):
    """The weighted sums of the predictions of every window that holds a hidden pixel and has
    something to go on (a visible pixel, or the prior's fill), over the padded image."""
    size, stride = grid.size, grid.stride
    tops = np.arange(0, hidden.shape[0] - size + 1, stride)
    lefts = np.arange(0, hidden.shape[1] - size + 1, stride)
    counts = _box_sums(hidden, tops, lefts, size, size)
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
    weights = window_weights(size).astype(np.float32)
    offsets = np.arange(size)
    for chunk in _chunks(chunks, label is not None, label or ""):
        r = chunk[:, 0, None, None] + offsets[None, :, None]
        c = chunk[:, 1, None, None] + offsets[None, None, :]
        inputs = [values[r, c], hidden[r, c]] + ([] if prior is None else [prior[r, c]])
        total[r, c] += _predictions(predict(*inputs)) * weights
        weight_sum[r, c] += weights
    return total, weight_sum
