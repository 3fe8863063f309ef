"""The "Inside the ViT" tab's computations, without any web page: a sample image of the model's
data, the pixels to hide, the model's prediction with its attention maps, attention rollout, the
exact Bayes fill and the biharmonic fill, their errors, and the sentences that say what the
pictures show. Every function takes and returns numpy arrays (H, W), masks True = hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vit_inpaint.explore.models import ExploredModel, ExploreError

MASKINGS = ("2x2 patch", "one pixel", "clicked pixels")
FUSIONS = ("mean", "max", "min")  # how rollout fuses a layer's heads (vit-explain's choices)


def sample_image(model: ExploredModel, lengthscale: float, seed: int) -> np.ndarray:
    """A new image of the data the model trained on: uniform noise, or a Gaussian field of this
    one lengthscale (the model saw lengthscales drawn from its list); other data: uniform noise."""
    import torch

    from vit_inpaint.data.sources import GaussianField, UniformNoise

    size = model.image_size
    generator = torch.Generator().manual_seed(int(seed))
    if model.kind == "gaussian_field":
        field = GaussianField(
            mean=model.data.get("mean", 0.5),
            sigma=model.data.get("sigma", 0.2),
            lengthscales=[float(lengthscale)],
            jitter=model.data.get("jitter", 1e-6),
            clip=False,
        )
        images = field.sample(1, size, "test", generator)
    else:
        images = UniformNoise().sample(1, size, "test", generator)
    return images[0].numpy().astype(np.float64)


def patch_mask(size: int, patch: int, index: int) -> np.ndarray:
    """The mask hiding patch `index` (row-major over the patch grid) of a size x size image."""
    grid = size // patch
    if not 0 <= index < grid * grid:
        last = grid * grid - 1
        raise ExploreError(f"patch {index} does not exist: this grid has patches 0-{last}")
    mask = np.zeros((size, size), dtype=bool)
    row, col = divmod(index, grid)
    mask[row * patch : (row + 1) * patch, col * patch : (col + 1) * patch] = True
    return mask


def pixel_mask(size: int, index: int) -> np.ndarray:
    if not 0 <= index < size * size:
        last = size * size - 1
        raise ExploreError(f"pixel {index} does not exist: this image has pixels 0-{last}")
    mask = np.zeros((size, size), dtype=bool)
    mask.flat[index] = True
    return mask


def toggle(mask: np.ndarray, row: int, col: int) -> np.ndarray:
    """The mask with pixel (row, col) flipped: a click hides a visible pixel, shows a hidden one."""
    flipped = mask.copy()
    flipped[row, col] = not flipped[row, col]
    return flipped


def check_hidden(mask: np.ndarray) -> None:
    """Refuses a mask that hides nothing (nothing to fill) or everything (nothing to see)."""
    hidden = int(mask.sum())
    if hidden == 0:
        raise ExploreError("no pixel is hidden: click a pixel, or pick a patch to hide")
    if hidden == mask.size:
        raise ExploreError("every pixel is hidden: the model needs at least one visible pixel")


@dataclass
class Prediction:
    filled: np.ndarray  # (H, W): the model's values on hidden pixels, the input's elsewhere
    attention: list[np.ndarray]  # per layer (heads, N, N); row q: where query patch q looks


def predict(model: ExploredModel, image: np.ndarray, mask: np.ndarray) -> Prediction:
    """The model's fill of one image and, where the model has them, its attention maps."""
    import torch

    check_hidden(mask)
    images = torch.from_numpy(image[None].astype(np.float32))
    masks = torch.from_numpy(mask[None])
    with torch.no_grad():
        if model.shows_attention:
            out, maps = model.network(images, masks, return_attention=True)
        else:
            out, maps = model.network(images, masks), []
    attention = [m[0].float().numpy() for m in maps if m is not None]
    filled = np.where(mask, out[0].double().numpy(), image)
    return Prediction(filled=filled, attention=attention)


def rollout(attention: list[np.ndarray], fusion: str = "mean", discard: float = 0.0) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020, as vit-explain computes it): per layer, fuse the
    heads (mean, max or min), drop the `discard` fraction of weakest links, add the identity for
    the residual path, renormalise each row, and multiply the layers. Row q of the (N, N) result:
    how much of query patch q's final token flows from each input patch."""
    if fusion not in FUSIONS:
        raise ExploreError(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
    if not 0.0 <= discard < 1.0:
        raise ExploreError(f"the discarded fraction must be in [0, 1), got {discard}")
    if not attention:
        raise ExploreError("this model gives no attention maps to roll out")
    size = attention[0].shape[-1]
    result = np.eye(size)
    for layer in attention:
        fused = getattr(np, fusion)(layer, axis=0).astype(np.float64)
        if discard > 0:  # the weakest links go; the identity added below keeps every row alive
            flat = fused.ravel().copy()
            flat[np.argsort(flat, kind="stable")[: int(flat.size * discard)]] = 0.0
            fused = flat.reshape(fused.shape)
        links = 0.5 * fused + 0.5 * np.eye(size)
        links /= links.sum(axis=-1, keepdims=True)
        result = links @ result
    return result


def bayes_fill(model: ExploredModel, image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The best possible fill, E[hidden | visible], exact, for the data the model trained on:
    the mean 0.5 on uniform noise, the mixture over lengthscales on Gaussian fields; None for
    data without a known answer."""
    import torch

    from vit_inpaint.data.sources import GaussianField, UniformNoise

    if model.kind == "uniform_noise":
        source = UniformNoise()
    elif model.kind == "gaussian_field":
        settings = {k: model.data[k] for k in ("mean", "sigma", "lengthscales", "jitter")
                    if k in model.data}  # fmt: skip
        source = GaussianField(**{"lengthscales": [0.5, 1.0, 2.0, 4.0], **settings, "clip": False})
    else:
        return None
    filled = source.posterior_mean(
        torch.from_numpy(image[None].astype(np.float32)), torch.from_numpy(mask[None])
    )
    return np.where(mask, filled[0].double().numpy(), image)


def biharmonic_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from vit_inpaint.evaluation.classical import biharmonic

    return biharmonic(image, mask)


def hidden_mse(truth: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared error over the hidden pixels (those of every channel of a colour image)."""
    hidden = mask if truth.ndim == 2 else np.broadcast_to(mask[..., None], truth.shape)
    if not hidden.any():
        raise ExploreError("no pixel is hidden: there is no error to measure")
    return float(np.mean((filled[hidden] - truth[hidden]) ** 2))


def hidden_patches(mask: np.ndarray, patch: int) -> list[int]:
    """Indices (row-major) of the patches with at least one hidden pixel."""
    grid = mask.shape[0] // patch
    blocks = mask.reshape(grid, patch, grid, patch).any(axis=(1, 3))
    return [int(i) for i in np.flatnonzero(blocks)]


def tokens(model: ExploredModel, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The (N, dim) tokens that enter the first block: each patch's pixel features (value, hidden
    flag) flattened, embedded by one linear map, plus its position's vector."""
    import torch

    from vit_inpaint.models.layers import patchify

    network = model.network
    images = torch.from_numpy(image[None].astype(np.float32))
    with torch.no_grad():
        features, _ = network.pixel_features(images, torch.from_numpy(mask[None]))
        if getattr(network, "stem", None) is not None:
            features = network.stem(features)
        embedded = network.pos(network.embed(patchify(features, network.patch_size)))
    return embedded[0].double().numpy()


def fill_spread(model: ExploredModel, mask: np.ndarray, lengthscale: float, count: int = 64):
    """(spread of the model's fill, spread of the true hidden pixels) over `count` new images
    with this mask: the standard deviations over images of the hidden pixels' values. A model
    that ignores what it sees (the best it can do on noise) fills nearly the same every time."""
    import torch

    check_hidden(mask)
    images = np.stack([sample_image(model, lengthscale, seed=10_000 + i) for i in range(count)])
    masks = np.broadcast_to(mask, images.shape).copy()
    with torch.no_grad():
        out = model.network(torch.from_numpy(images.astype(np.float32)), torch.from_numpy(masks))
    fills = out.double().numpy()[:, mask]
    truth = images[:, mask]
    return float(fills.std(axis=0).mean()), float(truth.std(axis=0).mean())


def whole_patches(mask: np.ndarray, patch: int) -> bool:
    """True when every patch is wholly hidden or wholly visible: the shipped models were trained
    on such masks (masking=patch2x2), a patch with only some pixels hidden is new to them."""
    grid = mask.shape[0] // patch
    blocks = mask.reshape(grid, patch, grid, patch)
    return bool(np.all(blocks.all(axis=(1, 3)) | ~blocks.any(axis=(1, 3))))


def visible_pixels(mask: np.ndarray, patch: int, index: int) -> int:
    """How many of patch `index`'s pixels are visible."""
    grid = mask.shape[0] // patch
    row, col = divmod(index, grid)
    block = mask[row * patch : (row + 1) * patch, col * patch : (col + 1) * patch]
    return int((~block).sum())


def mean_errors(model: ExploredModel, mask: np.ndarray, lengthscale: float, count: int = 64):
    """(model's, Bayes') mean hidden-pixel error over `count` new images with this mask (the
    images fill_spread uses); Bayes' is None for data without a known answer."""
    import torch

    check_hidden(mask)
    images = [sample_image(model, lengthscale, seed=10_000 + i) for i in range(count)]
    batch = np.stack(images).astype(np.float32)
    masks = np.broadcast_to(mask, batch.shape).copy()
    with torch.no_grad():
        out = model.network(torch.from_numpy(batch), torch.from_numpy(masks)).double().numpy()
    model_error = float(np.mean([hidden_mse(x, f, mask) for x, f in zip(images, out, strict=True)]))
    if bayes_fill(model, images[0], mask) is None:
        return model_error, None
    bayes = [hidden_mse(x, bayes_fill(model, x, mask), mask) for x in images]
    return model_error, float(np.mean(bayes))


@dataclass
class View:
    """Everything the tab shows for one image and mask: pictures (uint8 RGB) and sentences."""

    pictures: dict[str, np.ndarray]
    sentences: dict[str, str]


def show(model: ExploredModel, image: np.ndarray, mask: np.ndarray, query: int | None = None,
         layer: int | None = None, head: int | None = None, fusion: str = "mean",
         discard: float = 0.0, lengthscale: float = 1.0) -> View:  # fmt: skip
    """The tab's whole view: the input on its patch grid, the tokens, attention of the query patch
    (every layer and head, or one), rollout, the fills with their errors, and the sentences.
    query: a patch index (default: the first hidden patch)."""
    from vit_inpaint.explore import pictures, words

    check_hidden(mask)
    patch, size = model.patch_size, model.image_size
    grid = size // patch
    hidden = hidden_patches(mask, patch)
    query = hidden[0] if query is None else int(query)
    if not 0 <= query < grid * grid:
        raise ExploreError(f"query patch {query} does not exist: patches are 0-{grid * grid - 1}")
    prediction = predict(model, image, mask)
    settings = model.network.settings
    fills = {"model": prediction.filled}
    bayes = bayes_fill(model, image, mask)
    if bayes is not None:
        fills["Bayes (best possible)"] = bayes
    fills["biharmonic"] = biharmonic_fill(image, mask)
    errors = {name: hidden_mse(image, x, mask) for name, x in fills.items()}
    whole = whole_patches(mask, patch)
    view = View(
        pictures={
            "input": pictures.clickable(image, mask, patch),
            "tokens": pictures.tokens_panel(tokens(model, image, mask)),
            "fills": pictures.fills_row(image, mask, fills, errors),
        },
        sentences={
            "input": words.data_sentence(model.kind, size, patch, model.recipe),
            "tokens": words.tokens_sentence(grid, model.network.dim, settings.pos_embedding,
                                            whole),  # fmt: skip
            "fills": words.fills_sentence(model.kind, errors, model.metrics, whole),
            "lesson": words.lesson_sentence(
                model.kind, *fill_spread(model, mask, lengthscale), whole,
                None if whole else mean_errors(model, mask, lengthscale), Path(model.source).name,
            ),  # fmt: skip
        },
    )
    if not prediction.attention:
        view.sentences["attention"] = f"{model.source}: this model gives no attention maps."
        return view
    _show_attention(view, model, image, mask, prediction.attention, query, (layer, head),
                    fusion, discard)  # fmt: skip
    return view


def _show_attention(view: View, model: ExploredModel, image: np.ndarray, mask: np.ndarray,
                    attention: list, query: int, layer_head: tuple[int | None, int | None],
                    fusion: str, discard: float) -> None:  # fmt: skip
    """The attention of the query patch (every layer and head, or one) and its rollout, with
    their sentences, added to `view`."""
    from vit_inpaint.explore import pictures, words

    layer, head = layer_head
    patch, grid = model.patch_size, model.image_size // model.patch_size
    one = layer is not None and head is not None
    if one and not (0 <= layer < len(attention) and 0 <= head < attention[0].shape[0]):
        raise ExploreError(
            f"layer {layer}, head {head} does not exist: this model has layers "
            f"0-{len(attention) - 1} and heads 0-{attention[0].shape[0] - 1}"
        )
    view.pictures["attention"] = pictures.attention_panels(
        image, mask, attention, patch, query, layer if one else None, head if one else None
    )
    view.sentences["attention"] = words.attention_sentence(
        model.kind, [attention[layer][[head]]] if one else attention, query, grid
    )
    flow = rollout(attention, fusion, discard)[query]
    view.pictures["rollout"] = pictures.rollout_panel(
        image, mask, flow, patch, query, f"rollout to patch {query} ({fusion} of heads)"
    )
    view.sentences["rollout"] = words.rollout_sentence(
        model.kind, flow, query, grid, visible_pixels(mask, patch, query)
    )
