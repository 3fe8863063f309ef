"""The "Digits" tab's computations, without any web page: a digit drawn on the canvas brought to the
8x8 pixels the classifier reads (or a test digit), its temperature-scaled class probabilities and
the attention rollout over its patches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vit_inpaint.explore.inside_vit import rollout
from vit_inpaint.explore.models import ExploredModel, ExploreError

SIZE = 8  # scikit-learn's digits


def test_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits classifier's test split (never trained on): images (n, 8, 8), labels (n,)."""
    import torch

    from vit_inpaint.data.settings import DIGITS_SPLIT_SIZES
    from vit_inpaint.data.sources import Digits

    n = DIGITS_SPLIT_SIZES["test"]
    images, labels = Digits().sample_labelled(n, SIZE, "test", torch.Generator().manual_seed(0))
    return images.numpy().astype(np.float64), labels.numpy()


def ink(layers: list[np.ndarray], composite: np.ndarray | None = None) -> np.ndarray:
    """The canvas's strokes as ink in [0, 1]: the brush's opacity on its layers, or, where the
    strokes went onto the canvas itself, how dark and opaque the composite picture is."""
    planes = [np.asarray(layer, dtype=np.float64) for layer in layers or [] if np.ndim(layer) == 3]
    alpha = [p[..., -1] / 255.0 if p.shape[-1] in (2, 4) else p.max(axis=-1) / 255.0
             for p in planes]  # fmt: skip
    if alpha and np.max(alpha) > 0:
        return np.clip(np.max(alpha, axis=0), 0.0, 1.0)
    if composite is not None and np.ndim(composite) == 3:
        picture = np.asarray(composite, dtype=np.float64) / 255.0
        opaque = picture[..., 3] if picture.shape[-1] == 4 else 1.0
        return np.clip((1.0 - picture[..., :3].mean(axis=-1)) * opaque, 0.0, 1.0)
    raise ExploreError("nothing is drawn: draw a digit on the canvas, or pick a test digit")


def to_digit(drawing: np.ndarray) -> np.ndarray:
    """Ink of any size -> 8x8 in [0, 1] as the data set's digits are made: the stroke's bounding
    box, centred in a square with a little margin, averaged down to 8x8, brightest pixel 1."""
    from PIL import Image

    rows, cols = np.nonzero(drawing > 0.05)
    if len(rows) == 0:
        raise ExploreError("nothing is drawn: draw a digit on the canvas, or pick a test digit")
    box = drawing[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    side = int(max(box.shape) * 1.2) + 1
    square = np.zeros((side, side))
    top, left = (side - box.shape[0]) // 2, (side - box.shape[1]) // 2
    square[top : top + box.shape[0], left : left + box.shape[1]] = box
    small = np.asarray(
        Image.fromarray(square.astype(np.float32), mode="F").resize((SIZE, SIZE), Image.BOX)
    )
    return np.clip(small / max(small.max(), 1e-9), 0.0, 1.0).astype(np.float64)


@dataclass
class Reading:
    probabilities: np.ndarray  # (classes,), temperature-scaled
    relevance: np.ndarray  # (N,): rollout averaged over the queries (the head averages tokens)
    attention: list[np.ndarray]


def read_digit(model: ExploredModel, digit: np.ndarray, fusion="mean", discard=0.0) -> Reading:
    """The classifier's probabilities (logits / its temperature, softmax) and, through rollout,
    how much each input patch flows into the mean of the tokens its head reads."""
    import torch

    if model.task != "classify":
        raise ExploreError(f"{model.source}: a model of task={model.task}, not a classifier")
    if digit.shape != (model.image_size, model.image_size):
        raise ExploreError(f"the classifier reads {model.image_size}x{model.image_size} images")
    images = torch.from_numpy(digit[None].astype(np.float32))
    with torch.no_grad():
        if model.shows_attention:
            logits, maps = model.network(images, return_attention=True)
        else:
            logits, maps = model.network(images), []
    probabilities = (logits[0].double() / model.temperature).softmax(-1).numpy()
    attention = [m[0].float().numpy() for m in maps if m is not None]
    relevance = rollout(attention, fusion, discard).mean(axis=0) if attention else np.array([])
    return Reading(probabilities, relevance, attention)


def reading_sentence(reading: Reading, temperature: float, grid: int) -> str:
    top = int(np.argmax(reading.probabilities))
    text = (
        f"The classifier says {top} with probability {reading.probabilities[top]:.0%} (its "
        f"scores divided by the temperature T = {temperature:.2f}, fitted on validation digits so "
        "that a 90% answer is right about 90% of the time, then softmax)."
    )
    if len(reading.relevance):
        strongest = np.argsort(reading.relevance)[::-1][:3]
        text += (
            f" Rollout: the patches that flow most into the tokens the head averages are "
            f"{', '.join(str(int(i)) for i in strongest)} (uniform would be "
            f"{1 / grid**2:.0%} each)."
        )
    return text
