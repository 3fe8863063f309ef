"""The inpaint tool's `--side-by-side` picture: the fills in a grid, where they can be told apart.

Four panels a row, each titled: original | masked (hidden in red) | model | biharmonic, then
Telea | Navier-Stokes | the model's change to the biharmonic fill (x4, gray = none) | where the
zooms are. Then the same eight panels cropped around the places with the most hidden pixels
(ZOOMS of them, a sixth of the image's shorter side each), enlarged without smoothing: at a
normal viewing size the fills of a few scattered pixels look alike, close up they do not.
"""

from __future__ import annotations

import numpy as np

from vit_inpaint.viz.pictures import HIDDEN_COLOUR, PANEL_GAP, rgb, to_uint8

PANEL = 320  # pixels a panel is wide
COLUMNS = 4
ZOOMS = 2
BOX_COLOUR = (1.0, 0.85, 0.0)  # the zooms' outlines: yellow, unlike the red of hidden pixels
DIFFERENCE_GAIN = 4.0


def zoom_boxes(mask: np.ndarray, count: int = ZOOMS) -> list[tuple[int, int, int]]:
    """(top, left, side) of up to `count` square boxes, each holding the most hidden pixels of
    those on a half-box grid that do not overlap the ones before."""
    height, width = mask.shape
    side = max(8, min(height, width) // 6)
    step = max(1, side // 2)
    table = np.zeros((height + 1, width + 1), dtype=np.int64)
    table[1:, 1:] = mask.cumsum(0).cumsum(1)
    tops = np.arange(0, max(height - side, 0) + 1, step)
    lefts = np.arange(0, max(width - side, 0) + 1, step)
    b, r = np.minimum(tops + side, height)[:, None], np.minimum(lefts + side, width)[None, :]
    t, left = tops[:, None], lefts[None, :]
    counts = table[b, r] - table[t, r] - table[b, left] + table[t, left]
    boxes = []
    for _ in range(count):
        i, j = np.unravel_index(np.argmax(counts), counts.shape)
        if counts[i, j] <= 0:
            break
        boxes.append((int(tops[i]), int(lefts[j]), side))
        near = (np.abs(tops[:, None] - tops[i]) < side) & (np.abs(lefts[None, :] - lefts[j]) < side)
        counts = np.where(near, -1, counts)
    return boxes


def _outlined(picture: np.ndarray, boxes, thickness: int) -> np.ndarray:
    out = picture.copy()
    for top, left, side in boxes:
        bottom, right = top + side, left + side
        for rows, cols in (
            (slice(top, top + thickness), slice(left, right)),
            (slice(bottom - thickness, bottom), slice(left, right)),
            (slice(top, bottom), slice(left, left + thickness)),
            (slice(top, bottom), slice(right - thickness, right)),
        ):
            out[rows, cols] = BOX_COLOUR
    return out


def _resized(picture: np.ndarray, width: int, height: int, smooth: bool) -> np.ndarray:
    from PIL import Image

    resample = Image.Resampling.BOX if smooth else Image.Resampling.NEAREST
    return np.asarray(Image.fromarray(to_uint8(picture)).resize((width, height), resample)) / 255.0


def _rows(panels: list[np.ndarray], titles: list[str], height: int, smooth: bool) -> np.ndarray:
    """The panels, each resized to PANEL x height, in titled rows of COLUMNS."""
    from vit_inpaint.viz.figures import titled

    gap = np.ones((height, PANEL_GAP, 3))
    rows = []
    for start in range(0, len(panels), COLUMNS):
        cells = [_resized(p, PANEL, height, smooth) for p in panels[start : start + COLUMNS]]
        row = [cells[0]]
        for cell in cells[1:]:
            row += [gap, cell]
        rows.append(titled(to_uint8(np.concatenate(row, axis=1)), titles[start:start + COLUMNS],
                           panel_width=PANEL))  # fmt: skip
    return np.concatenate(rows, axis=0)


def comparison_grid(image: np.ndarray, mask: np.ndarray, fills: dict[str, np.ndarray]):
    """(H', W', 3) uint8: the full views and the zooms (module docstring). image: (H, W) or
    (H, W, C) in [0, 1]; fills: the model's under "model", then biharmonic, Telea and
    Navier-Stokes (names as titles), each of the image's shape."""
    boxes = zoom_boxes(mask)
    height, width = mask.shape
    thickness = max(1, min(height, width) // 200)
    masked = np.where(mask[..., None], np.array(HIDDEN_COLOUR), rgb(image))
    change = 0.5 + DIFFERENCE_GAIN * (rgb(fills["model"]) - rgb(fills["biharmonic"]))
    panels = [rgb(image), masked, *(rgb(x) for x in fills.values()), change,
              _outlined(masked, boxes, thickness)]  # fmt: skip
    titles = ["original", "masked (red)", *fills, f"model - biharmonic x{DIFFERENCE_GAIN:g}",
              "zooms (yellow)"]  # fmt: skip
    full_height = max(1, round(PANEL * height / width))
    parts = [_rows(panels, titles, full_height, smooth=True)]
    for k, (top, left, side) in enumerate(boxes, start=1):
        crops = [p[top : top + side, left : left + side] for p in panels[:-1]]
        crops.append(_outlined(masked, [(top, left, side)], thickness))
        named = [f"zoom {k}: {t}" for t in titles[:-1]] + [f"zoom {k}: where"]
        parts.append(_rows(crops, named, PANEL, smooth=False))
    return np.concatenate(parts, axis=0)
