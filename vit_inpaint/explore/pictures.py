"""The explorer page's pictures, as (H, W, 3) uint8 arrays (what a Gradio image shows): the input on
its patch grid with the patch numbers, attention of one query over the keys drawn on that grid
with the weights written in, rollout, fills beside the truth with the hole outlined, the tokens,
a classifier's probabilities. numpy, Pillow and matplotlib only (no pyplot: the page draws from
several threads)."""

from __future__ import annotations

import numpy as np

from vit_inpaint.viz.figures import outline_hidden
from vit_inpaint.viz.pictures import masked_rgb, rgb, to_uint8

CLICK_SIDE = 320  # pixels of the clickable input picture's side, whatever the image's size
QUERY = (0.0, 0.6, 1.0)  # the query patch's frame on attention panels


def scale_for(size: int) -> int:
    return max(1, CLICK_SIDE // size)


def clickable(image: np.ndarray, mask: np.ndarray, patch: int) -> np.ndarray:
    """The image (hidden pixels red) blown up to about CLICK_SIDE pixels, thin lines between
    pixels, thick lines between patches and each patch's number in its corner: what the user
    clicks (pixel (r, c) covers rows r*s..(r+1)*s-1 for s = scale_for(size))."""
    from PIL import Image, ImageDraw

    size = image.shape[0]
    s = scale_for(size)
    big = np.kron(masked_rgb(image, mask), np.ones((s, s, 1)))
    picture = Image.fromarray(to_uint8(big))
    draw = ImageDraw.Draw(picture)
    side = size * s
    for k in range(1, size):
        width = 3 if k % patch == 0 else 1
        colour = (40, 110, 255) if k % patch == 0 else (150, 150, 150)
        draw.line([(k * s, 0), (k * s, side)], fill=colour, width=width)
        draw.line([(0, k * s), (side, k * s)], fill=colour, width=width)
    grid = size // patch
    for index in range(grid * grid):
        row, col = divmod(index, grid)
        x, y = col * patch * s + 4, row * patch * s + 2
        draw.rectangle([x - 2, y, x + 9 * len(str(index)) + 4, y + 16], fill=(40, 110, 255))
        draw.text((x, y + 1), str(index), fill=(255, 255, 255), font_size=14)
    return np.asarray(picture)


def pixel_at(x: int, y: int, size: int) -> tuple[int, int]:
    """The image pixel (row, col) under a click at (x, y) on the clickable picture."""
    s = scale_for(size)
    return min(int(y) // s, size - 1), min(int(x) // s, size - 1)


def new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def drawn(figure) -> np.ndarray:
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def weights_on_grid(axes, image, mask, weights, patch, query=None, title=None) -> None:
    """One panel: the image in gray, each key patch tinted by its weight (viridis, 0 to the
    largest weight shown) with the weight written in, the query patch framed in blue."""
    from matplotlib import colormaps
    from matplotlib.patches import Rectangle

    size = image.shape[0]
    grid = size // patch
    base = masked_rgb(image, mask) * 0.45 + 0.55  # a pale input under the weights
    tint = colormaps["viridis"](np.clip(weights / max(weights.max(), 1e-9), 0, 1))[..., :3]
    cells = np.kron(tint.reshape(grid, grid, 3), np.ones((patch, patch, 1)))
    axes.imshow(0.35 * base + 0.65 * cells, interpolation="nearest", extent=(0, size, size, 0))
    for index, weight in enumerate(weights):
        row, col = divmod(index, grid)
        centre = (col * patch + patch / 2, row * patch + patch / 2)
        colour = "white" if weight < 0.6 * weights.max() else "black"
        size_pt = 9 if grid <= 4 else 6
        text = f"{weight:.2f}"
        axes.text(*centre, text, ha="center", va="center", fontsize=size_pt, color=colour)
        axes.text(col * patch + 0.08 * patch, row * patch + 0.08 * patch, str(index), ha="left",
                  va="top", fontsize=size_pt - 2, color=colour)  # fmt: skip  # the patch number
    for k in range(1, grid):
        axes.axhline(k * patch, color="white", linewidth=1.5)
        axes.axvline(k * patch, color="white", linewidth=1.5)
    if query is not None:
        row, col = divmod(query, grid)
        axes.add_patch(Rectangle((col * patch, row * patch), patch, patch, fill=False,
                                 edgecolor=QUERY, linewidth=3))  # fmt: skip
    axes.set_xticks([])
    axes.set_yticks([])
    if title:
        axes.set_title(title, fontsize=9)


def attention_panels(image, mask, attention, patch, query, layer=None, head=None) -> np.ndarray:
    """Every layer (rows) and head (columns) at once, BertViz's model view on the patch grid:
    query patch `query`'s attention over the keys. layer/head: one panel only (the head view)."""
    picks = [(i, h) for i in range(len(attention)) for h in range(attention[i].shape[0])]
    if layer is not None and head is not None:
        picks = [(layer, head)]
    layers = sorted({i for i, _ in picks})
    heads = sorted({h for _, h in picks})
    side = 2.0 if len(picks) > 1 else 3.6
    figure = new_figure(side * len(heads) + 0.3, side * len(layers) + 0.3)
    grid = figure.subplots(len(layers), len(heads), squeeze=False)
    for i, h in picks:
        axes = grid[layers.index(i), heads.index(h)]
        weights_on_grid(axes, image, mask, attention[i][h, query], patch, query,
                        f"layer {i}, head {h}")  # fmt: skip
    return drawn(figure)


def rollout_panel(image, mask, flow: np.ndarray, patch: int, query=None, title=None) -> np.ndarray:
    """Rollout's row of one query (or a classifier's mean over queries) on the patch grid."""
    figure = new_figure(3.6, 3.8)
    weights_on_grid(figure.subplots(), image, mask, flow, patch, query, title)
    return drawn(figure)


def digit_panels(digit: np.ndarray, relevance: np.ndarray, patch: int) -> np.ndarray:
    """The 8x8 digit as the classifier reads it, beside the rollout over its patches."""
    figure = new_figure(6.4, 3.5)
    plain, flow = figure.subplots(1, 2)
    plain.imshow(digit, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    plain.set_title("the 8x8 digit the model reads", fontsize=9)
    plain.set_xticks([])
    plain.set_yticks([])
    mask = np.zeros_like(digit, dtype=bool)
    title = "rollout over the patches"
    weights_on_grid(flow, 1.0 - digit, mask, relevance, patch, None, title)
    return drawn(figure)


def fills_row(truth, mask, fills: dict[str, np.ndarray], errors: dict[str, float]) -> np.ndarray:
    """truth | masked | each fill, the hole outlined in yellow, each fill's hidden-pixel error
    under its name, on one gray scale (0 black, 1 white)."""
    panels = {"truth": truth, "what the model sees": None, **fills}
    figure = new_figure(2.2 * len(panels), 2.6)
    for axes, (name, picture) in zip(figure.subplots(1, len(panels)), panels.items(), strict=True):
        shown = masked_rgb(truth, mask) if picture is None else rgb(picture)
        axes.imshow(shown, interpolation="nearest", vmin=0, vmax=1)
        outline_hidden(axes, mask)
        title = name if name not in errors else f"{name}\nerror {errors[name]:.4f}"
        axes.set_title(title, fontsize=9)
        axes.set_xticks([])
        axes.set_yticks([])
    return drawn(figure)


def tokens_panel(tokens: np.ndarray) -> np.ndarray:
    """The (N, dim) tokens that enter the first block, one row per patch."""
    figure = new_figure(6.0, 0.35 * len(tokens) + 1.0)
    axes = figure.subplots()
    image = axes.imshow(tokens, aspect="auto", cmap="coolwarm", interpolation="nearest")
    axes.set_yticks(range(len(tokens)), [f"patch {i}" for i in range(len(tokens))], fontsize=8)
    axes.set_xlabel(f"the {tokens.shape[1]} numbers of each token (embedding + position)")
    axes.set_title("the tokens entering layer 0", fontsize=9)
    figure.colorbar(image, ax=axes)
    return drawn(figure)


def probabilities_panel(probabilities: np.ndarray, names: list[str]) -> np.ndarray:
    figure = new_figure(4.2, 3.0)
    axes = figure.subplots()
    bars = axes.bar(names, probabilities, color="tab:blue")
    bars[int(np.argmax(probabilities))].set_color("tab:orange")
    axes.set_ylim(0, 1)
    axes.set_ylabel("probability")
    axes.set_xlabel("class")
    for bar, value in zip(bars, probabilities, strict=True):
        if value > 0.02:
            axes.text(bar.get_x() + bar.get_width() / 2, value + 0.02, f"{value:.2f}",
                      ha="center", fontsize=7)  # fmt: skip
    return drawn(figure)
