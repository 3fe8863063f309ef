"""Filling an image of any size with a model that sees size x size windows.

The image is padded at the bottom and right by repeating its edge pixels (a copy of a hidden pixel
is hidden too), cut into non-overlapping tiles with `patchify` (a tile is a patch of the whole
image), each tile is filled on its own, and the tiles are put back with `unpatchify` and cropped.
This is done for every tiling offset along the model's patch grid (4 tilings for 4x4 tiles of 2x2
patches) and the fills are averaged: a hole on the patch grid then sits in a different corner of
its tile in each tiling, and the average has seen its surroundings on every side.
Colour images are filled one channel at a time, each as a grayscale image; an alpha channel (gray +
alpha, RGBA) is not filled but kept as it is (inpaint_image).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BATCH_SIZE = 4096  # tiles per forward pass: bounds memory on large images


def _padding(height: int, width: int, size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns added at the bottom and right to make whole size x size tiles."""
    return ((0, -height % size), (0, -width % size))


def check_image_and_mask(image: np.ndarray, mask: np.ndarray) -> None:
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {image.shape}")
    if mask.dtype != bool or mask.shape != image.shape[:2]:
        raise ValueError(
            f"mask must be a bool array of shape {image.shape[:2]}, got {mask.dtype} {mask.shape}"
        )


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(colour, alpha): a gray + alpha (H, W, 2) image gives its (H, W) gray and its alpha, an
    RGBA (H, W, 4) one its (H, W, 3) colour and its alpha; any other image itself and None."""
    if image.ndim == 3 and image.shape[-1] in (2, 4):
        colour = image[..., :-1]
        return (colour[..., 0] if colour.shape[-1] == 1 else colour), image[..., -1]
    return image, None


def join_alpha(colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """The inverse of split_alpha."""
    if alpha is None:
        return colour
    return np.concatenate([colour.reshape(*alpha.shape, -1), alpha[..., None]], axis=-1)


def _keep_visible(image: np.ndarray, mask: np.ndarray, filled: np.ndarray) -> np.ndarray:
    return np.where(mask if image.ndim == 2 else mask[..., None], filled, image)


def fill_tiled(
    image: np.ndarray,
    mask: np.ndarray,
    size: int,
    fill: Callable,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """Fills the hidden pixels of an image of any size with `fill`, tile by tile.

    image: (H, W) or (H, W, C) floats in [0, 1]; mask: (H, W) bool, True = hidden.
    fill(tiles (B, size, size) float32 tensor, masks (B, size, size) bool tensor) -> tensor of
    the same shape, e.g. `InpaintingModule.inpaint` or a baseline of evaluation/baselines.py.
    Returns float64 of the image's shape whose visible pixels are exactly the input's.
    """
    import torch

    from vit_inpaint.models.layers import patchify, unpatchify

    check_image_and_mask(image, mask)
    planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)  # (C, H, W)
    channels, (height, width) = planes.shape[0], mask.shape
    pad = _padding(height, width, size)
    # Hidden values are zeroed first, so whatever the file holds there can never reach `fill`,
    # not even through an edge copy in the padding.
    planes = np.pad(np.where(mask, 0.0, planes), ((0, 0), *pad), mode="edge")
    hidden = np.pad(mask, pad, mode="edge")
    padded_h, padded_w = hidden.shape
    # A tile is one patch of the padded image: (C, N, size*size) -> (C*N, size, size).
    tiles = patchify(torch.from_numpy(planes.astype(np.float32)), size).view(-1, size, size)
    tile_masks = patchify(torch.from_numpy(np.ascontiguousarray(hidden))[None], size)
    tile_masks = tile_masks.expand(channels, -1, -1).reshape(-1, size, size)
    filled = torch.empty_like(tiles)
    for start in range(0, len(tiles), batch_size):
        chunk = slice(start, start + batch_size)
        filled[chunk] = fill(tiles[chunk], tile_masks[chunk]).to(torch.float32).cpu()
    planes = unpatchify(filled.view(channels, -1, size * size), size, padded_h, padded_w)
    planes = planes.reshape(channels, padded_h, padded_w).numpy().astype(np.float64)
    planes = planes[:, :height, :width]
    out = planes[0] if image.ndim == 2 else np.moveaxis(planes, 0, -1)
    return _keep_visible(image, mask, out)


def fill_offset_tilings(
    image: np.ndarray,
    mask: np.ndarray,
    size: int,
    step: int,
    fill: Callable,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """The average of fill_tiled over the tilings offset by multiples of `step` (both axes).

    With 4x4 tiles and step 2 (the patch grid), a 2x2 hole on the patch grid lies in a different
    corner of its tile in each of the 4 tilings, so between them the model sees the hole's
    surroundings on every side, where one tiling shows it at most two sides.
    """
    check_image_and_mask(image, mask)
    total, count = np.zeros(image.shape), 0
    for dy in range(0, size, step):
        for dx in range(0, size, step):
            # Offset the tiling by padding the top and left edges (copies of hidden pixels stay
            # hidden, as in fill_tiled's own padding), then crop the padding off again.
            pad = ((dy, 0), (dx, 0))
            padded_mask = np.pad(mask, pad, mode="edge")
            padded = np.pad(image, pad + ((0, 0),) * (image.ndim - 2), mode="edge")
            total += fill_tiled(padded, padded_mask, size, fill, batch_size)[dy:, dx:]
            count += 1
    return _keep_visible(image, mask, total / count)


def inpaint_image(
    module,
    image: np.ndarray,
    mask: np.ndarray,
    batch_size: int = BATCH_SIZE,
    offset_tilings: bool = True,
) -> np.ndarray:
    """The model's filling of `image`'s hidden pixels, an image of any size.

    module: an InpaintingModule (vit_inpaint.storage.checkpoints.load_checkpoint); image: (H, W)
    or (H, W, C) floats in [0, 1]; mask: (H, W) bool, True = hidden. Returns float64 of the
    image's shape, in [0, 1], visible pixels unchanged. `offset_tilings` averages the tilings
    offset along the model's patch grid (see fill_offset_tilings); False uses one tiling.
    The alpha channel of a gray + alpha (H, W, 2) or RGBA (H, W, 4) image is no colour: it comes
    back exactly as given, hidden pixels included; only the colour channels are filled.
    """
    check_image_and_mask(image, mask)
    colour, alpha = split_alpha(image)
    size = module.model.image_size
    if not offset_tilings:
        filled = fill_tiled(colour, mask, size, module.inpaint, batch_size)
    else:
        step = module.model.patch_size
        filled = fill_offset_tilings(colour, mask, size, step, module.inpaint, batch_size)
    return join_alpha(filled, alpha)


def all_hidden_tiles(mask: np.ndarray, size: int) -> int:
    """How many of the tiles fill_tiled cuts the mask into hide every one of their pixels."""
    import torch

    from vit_inpaint.models.layers import patchify

    padded = np.pad(mask, _padding(*mask.shape, size), mode="edge")
    tiles = patchify(torch.from_numpy(np.ascontiguousarray(padded))[None], size)  # (1, N, s*s)
    return int(tiles.all(dim=-1).sum())
