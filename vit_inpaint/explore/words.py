"""The sentence under each picture of the "Inside the ViT" tab: what it shows and why, with the
numbers of the picture in front of the reader, and the mask in front of them: the shipped models
were trained on whole 2x2 patches hidden, and a sentence about a hidden patch says so only when a
whole patch is hidden. On i.i.d. noise the lesson is the fill's spread, not attention's picture."""

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


TRAINED_ON = "2x2 patch masks (whole patches hidden)"


def lesson_sentence(kind: str, fill_spread: float, truth_spread: float, whole: bool = True,
                    errors: tuple[float, float | None] | None = None,
                    checkpoint: str | None = None) -> str:  # fmt: skip
    """What the attention was for: does the fill follow what the model sees? Measured on new
    images with the same mask (inside_vit.fill_spread; errors: inside_vit.mean_errors, given when
    the mask is not one the model trained on)."""
    measured = (
        f"Over 64 new images with this mask, the model's fill of the hidden pixels varies by "
        f"{fill_spread:.3f} (standard deviation) while the true hidden pixels vary by "
        f"{truth_spread:.3f}."
    )
    trained = f", trained on {TRAINED_ON}" if whole else ""
    shown = f" (Shown: `{checkpoint}`{trained}.)" if checkpoint else ""
    if kind == "uniform_noise":
        return (
            f"The model answers about 0.5 whatever it sees. {measured} On i.i.d. noise nothing "
            "visible predicts a hidden pixel, so the best answer is the mean, 0.5, whatever the "
            "image. Attention's picture, flat or peaked, carries nothing a hidden i.i.d. pixel "
            f"depends on: the lesson is in the fill, not in the map.{shown}"
        )
    if kind == "gaussian_field" and not whole:
        text = (
            f"{measured} This mask hides only part of a patch: the model was trained on "
            f"{TRAINED_ON}, so this mask is outside its training."
        )
        if errors and errors[1] is not None:
            model_error, bayes_error = errors
            text += (
                f" Over the same 64 images its error is {model_error:.4f} against Bayes' "
                f"{bayes_error:.4f} ({model_error / bayes_error:.1f}x): "
                + ("far worse than the best possible fill, so do not read its fill as following "
                   "the image." if model_error > 2 * bayes_error else "close to the best "
                   "possible fill even so.")
            )  # fmt: skip
        return text + shown
    if kind == "gaussian_field":
        return (
            f"{measured} On Gaussian fields nearby pixels are alike, so the patches next to the "
            f"hole say most about it: attention gathers them and the fill follows the image.{shown}"
        )
    return measured + shown


def rollout_sentence(kind: str, flow: np.ndarray, query: int, grid: int,
                     visible: int = 0) -> str:  # fmt: skip
    """visible: how many of the query patch's pixels are visible (0: the whole patch hidden)."""
    n = grid * grid
    top = int(np.argmax(flow))
    if kind not in ("uniform_noise", "gaussian_field"):
        itself = ""
    elif visible:
        itself = (
            f" Patch {query} keeps {visible} visible pixel{'s' if visible > 1 else ''}, so what "
            "it keeps of itself is their values and its position."
        )
    else:
        itself = (
            f" Patch {query} is wholly hidden: it holds no pixel values, so what it keeps of "
            "itself is only its position."
        )
    return (
        f"Rollout multiplies the layers' attention (heads fused, plus the residual path): of what "
        f"reaches query patch {query}'s output, {flow[query]:.0%} comes from the patch itself and "
        f"the most from another patch is {np.sort(flow)[-2]:.0%}; uniform would be {1 / n:.0%} "
        f"each. The largest share is patch {top}'s." + itself
    )


def fills_sentence(kind: str, errors: dict[str, float], metrics: dict | None = None,
                   whole: bool = True) -> str:  # fmt: skip
    """Under truth | model | Bayes | biharmonic: what Bayes means here, and how close the model
    gets over its whole test split (its run's metrics.json, measured with its training mask),
    not only on this one image."""
    model = errors.get("model")
    bayes = errors.get("Bayes (best possible)")
    ratio = (metrics or {}).get("test/mse_over_bayes")
    overall = (
        f" Over its 1000 test images with {TRAINED_ON}, its training mask, its error is "
        f"{ratio:.2f}x the Bayes error" + ("" if whole else "; this mask is not one of those")
        + "." if ratio else ""
    )  # fmt: skip
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


def tokens_sentence(grid: int, dim: int, position: str, whole: bool = True) -> str:
    where = {
        "learned": "plus a learned vector for its position",
        "sincos": "plus a fixed sine-cosine vector for its position",
        "none": "with no position added",
    }.get(position, "plus its position's vector")
    hidden = (
        "A hidden patch's values are zeroed, so its row says only that it is hidden and where it "
        "is."
        if whole
        else "Hidden pixels' values are zeroed and flagged; a patch with some pixels hidden keeps "
        "its visible pixels' values, so its row carries those too."
    )
    return (
        f"The {grid * grid} tokens, one row per patch: each patch's pixel values and hidden flags "
        f"times one learned matrix, {where}: {dim} numbers each. {hidden}"
    )
