"""The sentence under each picture of the "Inside the ViT" tab: what it shows and why, with the
numbers of the picture in front of the reader. Flat attention gets a sentence of its own: on
i.i.d. noise it is the answer, not a bug."""

from __future__ import annotations

import numpy as np

from vit_inpaint.viz.figures import FLAT_TOLERANCE  # the sweep report's pictures call it flat too

DATA_NAMES = {"uniform_noise": "i.i.d. uniform noise", "gaussian_field": "Gaussian fields",
              "digits": "handwritten digits", "photos": "photographs"}  # fmt: skip


def neighbours(index: int, grid: int) -> list[int]:
    """The patches that share an edge with patch `index` on a grid x grid patch grid."""
    row, col = divmod(index, grid)
    near = [(row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)]
    return [r * grid + c for r, c in near if 0 <= r < grid and 0 <= c < grid]


def spread(weights: np.ndarray) -> float:
    """How far a query's weights are from uniform: the largest |w - 1/N| over the keys."""
    return float(np.abs(weights - 1.0 / len(weights)).max())


def is_flat(weights: np.ndarray) -> bool:
    return spread(weights) <= FLAT_TOLERANCE


def attention_sentence(kind: str, attention: list[np.ndarray], query: int, grid: int) -> str:
    """Under the layer x head panels: flat or not, and where it goes, from the numbers."""
    n = grid * grid
    rows = [layer[h, query] for layer in attention for h in range(layer.shape[0])]
    if not rows:
        return "This model gives no attention maps."
    low = min(float(r.min()) for r in rows)
    high = max(float(r.max()) for r in rows)
    if max(spread(r) for r in rows) <= FLAT_TOLERANCE:
        return (
            f"Flat: in every layer and head, query patch {query} gives each of the {n} patches "
            f"about 1/{n} = {1 / n:.2f} of its attention (from {low:.2f} to {high:.2f}): it does "
            "not prefer any patch."
        )
    near = sorted(neighbours(query, grid))
    share = np.mean([r[near].sum() for r in rows])
    return (
        f"Not flat: query patch {query}'s weights range from {low:.2f} to {high:.2f}. Averaged "
        f"over layers and heads, its {len(near)} neighbouring patches "
        f"({', '.join(map(str, near))}) "
        f"get {share:.0%} of its attention ({len(near) / n:.0%} if it were spread evenly)."
    )


def lesson_sentence(kind: str, fill_spread: float, truth_spread: float) -> str:
    """What the attention was for: does the fill follow what the model sees? Measured on new
    images with the same mask (inside_vit.fill_spread)."""
    measured = (
        f"Over 64 new images with this mask, the model's fill of the hidden pixels varies by "
        f"{fill_spread:.3f} (standard deviation) while the true hidden pixels vary by "
        f"{truth_spread:.3f}."
    )
    if kind == "uniform_noise":
        return (
            f"{measured} On i.i.d. noise nothing visible predicts a hidden pixel, so the best "
            "answer is the mean, 0.5, whatever the image: the model learned to answer about 0.5 "
            "every time, and what attention gathers is ignored. Flat or not, attention on noise "
            "has nothing to find."
        )
    if kind == "gaussian_field":
        return (
            f"{measured} On Gaussian fields nearby pixels are alike, so the patches next to the "
            "hole say most about it: attention gathers them and the fill follows the image."
        )
    return measured


def rollout_sentence(kind: str, flow: np.ndarray, query: int, grid: int) -> str:
    n = grid * grid
    top = int(np.argmax(flow))
    return (
        f"Rollout multiplies the layers' attention (heads fused, plus the residual path): of what "
        f"reaches query patch {query}'s output, {flow[query]:.0%} comes from the patch itself and "
        f"the most from another patch is {np.sort(flow)[-2]:.0%}; uniform would be {1 / n:.0%} "
        f"each. The largest share is patch {top}'s."
        + (
            " The hidden patch holds no pixel values, so what it keeps of itself is only its "
            "position."
            if kind in ("uniform_noise", "gaussian_field")
            else ""
        )  # fmt: skip
    )


def fills_sentence(kind: str, errors: dict[str, float], metrics: dict | None = None) -> str:
    """Under truth | model | Bayes | biharmonic: what Bayes means here, and how close the model
    gets over its whole test split (its run's metrics.json), not only on this one image."""
    model = errors.get("model")
    bayes = errors.get("Bayes (best possible)")
    ratio = (metrics or {}).get("test/mse_over_bayes")
    overall = (
        f" Over its 1000 test images its error is {ratio:.2f}x the Bayes error." if ratio else ""
    )
    text = "Each fill's error is the mean squared error over the hidden pixels (outlined)."
    if kind == "uniform_noise":
        text += (
            " On noise the best possible fill is 0.5 everywhere: no fill can do better on "
            f"average, and on one image the error is luck.{overall}"
        )
    elif kind == "gaussian_field" and model is not None and bayes is not None:
        text += (
            " The Bayes fill is the exact best answer for these fields, E[hidden | visible] over "
            f"all lengthscales: the model's error here is {model:.4f} against its {bayes:.4f} "
            f"(on one image either can win by luck).{overall}"
        )
    return text


def data_sentence(kind: str, image_size: int, patch: int, recipe: str | None = None) -> str:
    grid = image_size // patch
    what = DATA_NAMES.get(kind, "its own data")
    return (
        f"A {image_size}x{image_size} image cut into {grid}x{grid} = {grid * grid} patches of "
        f"{patch}x{patch} pixels (blue lines, numbered); each patch becomes one token. The model "
        f"trained on {what}" + (f" (`{recipe}`)" if recipe else "") + ". Hidden pixels are red: "
        "click a pixel to hide or show it."
    )


def tokens_sentence(grid: int, dim: int, position: str) -> str:
    where = {
        "learned": "plus a learned vector for its position",
        "sincos": "plus a fixed sine-cosine vector for its position",
        "none": "with no position added",
    }.get(position, "plus its position's vector")
    return (
        f"The {grid * grid} tokens, one row per patch: each patch's pixel values and hidden flags "
        f"times one learned matrix, {where}: {dim} numbers each. A hidden patch's values are "
        "zeroed, so its row says only that it is hidden and where it is."
    )
