"""Figures drawn with matplotlib's Agg canvas (no pyplot, no display): reconstructions like the
report's figure 12 and attention maps (the sweep report's, TensorBoard's), and the drawing helpers
every figure of the package uses. The sweep report's curves and heat map: report/figures.py."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vit_inpaint.viz.pictures import HOLE_COLOUR, PANEL_GAP, masked_rgb

if TYPE_CHECKING:  # what the sweep report hands in; viz imports nothing above it
    from vit_inpaint.report.replay import Prediction

# Attention maps with at most this many tokens get their weights written in the cells.
MAX_ANNOTATED_TOKENS = 8
# A query row whose every weight is within this of 1/N is called flat in the pictures.
FLAT_TOLERANCE = 0.05
FLAT_NOTE = (
    "Flat: every weight within {tolerance} of 1/{n} = {uniform:.2f}. On i.i.d. pixels "
    "(data=uniform_noise) that is the answer, not a bug: nothing visible predicts a hidden "
    "pixel, so the best fill is the mean, wherever attention looks."
)


def new_figure(width: float, height: float):
    """A matplotlib Figure drawn by Agg, without pyplot: no global state, no display needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def wrapped(label: str, width: int = 30, lines: int = 3) -> str:
    """A label on at most `lines` lines, broken after its commas: a long one (a single
    configuration is named by all its overrides) would otherwise crush the plots beside it."""
    short = textwrap.shorten(label.replace(",", ", "), width * lines, placeholder=" …")
    return "\n".join(textwrap.wrap(short, width)) or label


def save(figure, path: Path) -> None:
    figure.savefig(path, dpi=100, bbox_inches="tight")


def show(axes, picture, title: str | None = None, **options) -> object:
    # Nearest neighbour: a 4x4 image must show as 16 squares, not a blur.
    image = axes.imshow(picture, interpolation="nearest", **options)
    axes.set_xticks([])
    axes.set_yticks([])
    if title:
        axes.set_title(title, fontsize="small")
    return image


def plot_reconstructions(predictions: list[Prediction], path: Path) -> None:
    """Like the report's figure 12: per configuration (row), per test image,
    original | masked (hidden in red) | reconstruction, the hole outlined in yellow on each."""
    count = max(len(p.images) for p in predictions)
    figure = new_figure(1.1 * 3 * count + 2, 1.3 * len(predictions) + 0.4)
    grid = figure.subplots(len(predictions), 3 * count, squeeze=False)
    grey = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    for row, p in enumerate(predictions):
        for i in range(count):
            panels = grid[row, 3 * i : 3 * i + 3]
            if i >= len(p.images):
                for axes in panels:
                    axes.set_axis_off()
                continue
            titles = ("original", "masked", "reconstruction") if row == 0 else (None,) * 3
            show(panels[0], p.images[i], titles[0], **grey)
            show(panels[1], masked_rgb(p.images[i], p.masks[i]), titles[1])
            show(panels[2], p.reconstructions[i], titles[2], **grey)
            for axes in (panels[0], panels[2]):
                outline_hidden(axes, p.masks[i])
        grid[row, 0].set_ylabel(
            wrapped(p.label), rotation=0, ha="right", va="center", fontsize="small"
        )
    save(figure, path)


def outline_hidden(axes, mask: np.ndarray, colour=HOLE_COLOUR, width: float = 2.0) -> None:
    """Draws the border between hidden (mask True) and visible pixels on an imshow'd image, so
    the hole can be found on the reconstruction, where no red marks it."""
    from matplotlib.collections import LineCollection

    padded = np.pad(np.asarray(mask, dtype=bool), 1)
    segments = []
    for r, c in zip(*np.nonzero(mask), strict=True):
        top, bottom, left, right = r - 0.5, r + 0.5, c - 0.5, c + 0.5
        if not padded[r, c + 1]:
            segments.append([(left, top), (right, top)])
        if not padded[r + 2, c + 1]:
            segments.append([(left, bottom), (right, bottom)])
        if not padded[r + 1, c]:
            segments.append([(left, top), (left, bottom)])
        if not padded[r + 1, c + 2]:
            segments.append([(right, top), (right, bottom)])
    axes.add_collection(LineCollection(segments, colors=[colour], linewidths=width))


def patch_grid(axes, size: int, patch_size: int, fontsize: float = 9) -> None:
    """The patch grid (yellow lines) and each patch's number, the index an attention map's rows
    (queries) and columns (keys) use, on an imshow'd size x size image."""
    from matplotlib.patheffects import withStroke

    per_row = size // patch_size
    outline = [withStroke(linewidth=2, foreground="black")]  # readable on light and dark pixels
    for line in range(patch_size, size, patch_size):
        axes.axhline(line - 0.5, color="yellow", linewidth=1)
        axes.axvline(line - 0.5, color="yellow", linewidth=1)
    centre = (patch_size - 1) / 2
    for patch in range(per_row * per_row):
        y, x = divmod(patch, per_row)
        axes.text(x * patch_size + centre, y * patch_size + centre, str(patch), ha="center",
                  va="center", color="yellow", fontsize=fontsize, weight="bold",
                  path_effects=outline)  # fmt: skip


def flat_note(weights: np.ndarray) -> str | None:
    """FLAT_NOTE when every query's weights (..., N, N) are within FLAT_TOLERANCE of 1/N, else
    None: a flat map needs words, colours alone look like a broken picture."""
    n = weights.shape[-1]
    if weights.size == 0 or np.abs(weights - 1.0 / n).max() > FLAT_TOLERANCE:
        return None
    return FLAT_NOTE.format(tolerance=FLAT_TOLERANCE, n=n, uniform=1.0 / n)


def annotate(axes, weights) -> None:
    """Writes each weight in its cell: near-uniform maps look alike in colour, not in numbers."""

    for (query, key), weight in np.ndenumerate(weights):
        colour = "black" if weight > 0.5 else "white"  # readable on both ends of viridis
        axes.text(key, query, f"{weight:.2f}", ha="center", va="center", color=colour, size=7)


def plot_attention(predictions: list[Prediction], path: Path) -> None:
    """Per configuration (row): the first test image, masked, then its last-layer attention map
    for each head (row i of a map: where query patch i looks)."""
    save(attention_figure(predictions), path)


def attention_figure(predictions: list[Prediction]):
    """plot_attention's figure: per configuration (row), the input with its patch grid and patch
    numbers (the maps' query and key indices), then each head's map; a row whose maps are all
    flat gets FLAT_NOTE under it."""
    heads = max(len(p.attention) for p in predictions)
    figure = new_figure(1.8 * (heads + 1) + 2, 1.9 * len(predictions) + 0.9)
    grid = figure.subplots(len(predictions), heads + 1, squeeze=False)
    image = None
    for row, p in enumerate(predictions):
        size, tokens = p.images[0].shape[-1], p.attention.shape[-1]
        show(grid[row, 0], masked_rgb(p.images[0], p.masks[0]), "input (hidden in red)")
        if tokens:  # a model without attention maps has no patch indices to show
            patch_grid(grid[row, 0], size, size // int(round(np.sqrt(tokens))))
        grid[row, 0].set_ylabel(
            wrapped(p.label), rotation=0, ha="right", va="center", fontsize="small"
        )
        for head in range(heads):
            axes = grid[row, head + 1]
            if head >= len(p.attention):
                axes.set_axis_off()
                continue
            image = show(axes, p.attention[head], f"head {head}", cmap="viridis", vmin=0, vmax=1)
            axes.set_xticks(range(tokens))
            axes.set_yticks(range(tokens))
            if tokens <= MAX_ANNOTATED_TOKENS:
                annotate(axes, p.attention[head])
            axes.set_xlabel("key patch", fontsize="small")
            axes.set_ylabel("query patch", fontsize="small")
    flat = [p.label for p in predictions if flat_note(p.attention)]
    if flat:  # under the whole figure: text beside a panel would squeeze the panels
        note = flat_note(next(p.attention for p in predictions if p.label in flat))
        figure.supxlabel(textwrap.fill(f"{', '.join(flat)}. {note}", 120), fontsize="small")
    figure.colorbar(image, ax=grid[:, 1:].ravel().tolist(), label="attention weight")
    return figure


def pixels(figure):
    """The figure drawn as an (H, W, 3) uint8 array, at its own size and dpi."""

    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def titled(picture: np.ndarray, titles: list[str], panel_width: int) -> np.ndarray:
    """A side-by-side picture (viz/pictures.py side_by_side: panels of panel_width columns,
    PANEL_GAP apart) with each panel's title in a white strip above it, title_height rows."""
    column = panel_width + PANEL_GAP
    if len(titles) * column - PANEL_GAP != picture.shape[1]:
        raise ValueError(f"{len(titles)} titles for a picture of another number of panels")
    header = label_strip(
        titles, column, title_height(panel_width), fontsize=title_size(panel_width)
    )
    return np.concatenate([header[:, : picture.shape[1]], picture], axis=0)


def title_size(panel_width: int) -> float:
    """Points for a panel's title: about 9 characters of it fit the panel, 5 to 12 points."""
    return float(np.clip(panel_width / 9, 5, 12))


def title_height(panel_width: int) -> int:
    """Rows of the title strip above the panels."""
    return int(round(2.2 * title_size(panel_width))) + 4


def label_strip(labels: list[str], column_width: int, height: int, fontsize: float = 7):
    """(height, len(labels) * column_width, 3) uint8: each label centred over its column, black on
    white, for a header above a grid of pictures."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    figure = Figure(figsize=(len(labels) * column_width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    for index, label in enumerate(labels):
        x = (index + 0.5) / len(labels)
        figure.text(x, 0.5, label, ha="center", va="center", fontsize=fontsize, linespacing=1.1)
    return pixels(figure)
