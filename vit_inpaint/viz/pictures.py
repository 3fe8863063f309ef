"""How a masked image is shown, everywhere: in TensorBoard, in the sweep report's figures and in the
inpaint tool's side-by-side picture. Hidden pixels are drawn in HIDDEN_COLOUR over a gray image."""

from __future__ import annotations

import numpy as np

HIDDEN_COLOUR = (1.0, 0.0, 0.0)  # red: no gray pixel can be mistaken for it
# Where the hole was, outlined on a filled image: yellow shows on gray pixels and on red ones.
HOLE_COLOUR = (1.0, 0.85, 0.0)
PANEL_GAP = 2  # white columns between two panels of a side-by-side picture


def rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) for display, clipped to [0, 1]: gray repeated; gray + alpha and RGBA without
    their alpha."""
    image = np.clip(image, 0.0, 1.0)
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1)
    if image.shape[-1] <= 2:
        return np.repeat(image[..., :1], 3, axis=-1)
    return image[..., :3]


def masked_rgb(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Gray images (..., H, W) with their hidden pixels (masks, True = hidden) in HIDDEN_COLOUR,
    as RGB (..., H, W, 3) floats in [0, 1]."""
    gray = np.repeat(np.clip(images, 0.0, 1.0)[..., None], 3, axis=-1)
    return np.where(masks[..., None], np.array(HIDDEN_COLOUR), gray)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats to 8 bits, rounded to nearest; one temporary copy (large images)."""
    scaled = np.multiply(image, 255.0, dtype=np.float64)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype(np.uint8)


def side_by_side(image: np.ndarray, mask: np.ndarray, *filled: np.ndarray) -> np.ndarray:
    """original | masked (hidden in red) | each of `filled`, as one (H, W', 3) uint8 picture.

    image: (H, W) or (H, W, C) in [0, 1]; panels are separated by PANEL_GAP white columns; alpha
    channels are not shown (viz/figures.py titled() puts a title over each panel).
    """
    masked = np.where(mask[..., None], np.array(HIDDEN_COLOUR), rgb(image))
    gap = np.ones((mask.shape[0], PANEL_GAP, 3))
    panels = [rgb(image), masked, *(rgb(x) for x in filled)]
    row = [panels[0]]
    for panel in panels[1:]:
        row += [gap, panel]
    return to_uint8(np.concatenate(row, axis=1))
