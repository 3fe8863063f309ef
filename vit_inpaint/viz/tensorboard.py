"""What a run writes for TensorBoard: the learning curves without Lightning's `epoch` scalar, and
pictures readable at the Images tab's own size: reconstructions like the report's figure 12 with
labelled columns, and one attention map per head, each titled with its layer and epoch.

Image tags sit in the `val_images/` group, which sorts after train/ and val/: the Time Series tab
opens its first two groups, the learning curves."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from vit_inpaint.viz.pictures import HOLE_COLOUR, masked_rgb

# Two lines each: a column is only H*scale pixels wide.
COLUMN_LABELS = (
    "original",
    "masked\n(hidden: red)",
    "inpainted (hole\noutlined yellow)",
    "|error|, hidden\n(visible: 0)",
)
HEADER_HEIGHT = 44
HEADER_FONT = 10  # points at 100 dpi: about 10 px capitals, legible at the Images tab's size
# Attention maps are drawn for this many validation images (one row each).
ATTENTION_SAMPLES = 2
# The Images tab draws a picture at its own size up to about this width, shrinking wider ones.
TENSORBOARD_WIDTH = 340


class CurvesLogger(TensorBoardLogger):
    """Lightning's TensorBoardLogger without the `epoch` scalar it adds to every epoch-end log: a
    straight line that opened the Time Series tab (the step axis already orders the points)."""

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        metrics = {k: v for k, v in metrics.items() if k != "epoch"}
        if metrics:
            super().log_metrics(metrics, step)


def upscale(image: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest-neighbour upscaling of (..., H, W), so each pixel of a 4x4 image stays a square."""
    return image.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


def reconstruction_grid(
    images: torch.Tensor,
    masks: torch.Tensor,
    pred: torch.Tensor,
    scale: int = 24,
    gap: int = 2,
    labels: tuple[str, ...] = COLUMN_LABELS,
) -> torch.Tensor:
    """(3, HEADER_HEIGHT + rows*(H*scale+gap), 4*(W*scale+gap)) RGB grid under a row of
    `labels` (COLUMN_LABELS, or those with the epoch written in), one row per sample: original |
    masked (hidden in red) | what the inpainting tool returns (the model's clipped prediction on
    hidden pixels, the given ones elsewhere) | its absolute error, black (0) on visible
    pixels."""
    from vit_inpaint.viz.figures import label_strip

    gray = lambda x: x[:, None].expand(-1, 3, -1, -1)  # noqa: E731
    masked = torch.from_numpy(masked_rgb(images.numpy(), masks.numpy())).permute(0, 3, 1, 2).float()
    # As InpaintingModule.inpaint: the error then is the tool's, 0 wherever the pixel was given.
    inpainted = torch.where(masks, pred.clamp(0, 1), images.clamp(0, 1))
    error = (inpainted - images.clamp(0, 1)).abs()
    columns = [gray(images.clamp(0, 1)), masked, gray(inpainted), gray(error)]
    tiles = [upscale(c, scale) for c in columns]  # each (B, 3, H*s, W*s)
    border = hole_border(upscale(masks, scale), width=max(1, scale // 8))[:, None]
    hole = torch.tensor(HOLE_COLOUR, dtype=tiles[2].dtype)[None, :, None, None]
    tiles[2] = torch.where(border, hole, tiles[2])  # where the hole was, on the inpainted image
    tiles = [torch.nn.functional.pad(t, (0, gap, 0, gap), value=1.0) for t in tiles]
    row = torch.cat(tiles, dim=-1)  # (B, 3, H*s+gap, 4*(W*s+gap))
    header = label_strip(list(labels), tiles[0].shape[-1], HEADER_HEIGHT, fontsize=HEADER_FONT)
    header = torch.from_numpy(header).permute(2, 0, 1).float() / 255.0
    return torch.cat([header, *row], dim=-2)


def hole_border(masks: torch.Tensor, width: int = 2) -> torch.Tensor:
    """(B, H, W) bool: the hidden pixels within `width` pixels of a visible one (or of the
    image's edge), the outline that shows where the hole was once it is filled in."""
    visible = (~masks).float()[:, None]
    near = torch.nn.functional.max_pool2d(
        torch.nn.functional.pad(visible, (width,) * 4, value=1.0), 2 * width + 1, stride=1
    )[:, 0]
    return masks & (near > 0)


def head_picture(
    images: np.ndarray, masks: np.ndarray, weights: np.ndarray, patch_size: int, title: str
) -> np.ndarray:
    """(H, W, 3) uint8, TENSORBOARD_WIDTH wide: per image (row), the masked input with its patch
    grid and patch numbers (the attention map's query and key indices), then one head's
    attention map (N, N) with each weight written in its cell. images, masks (S, H, W); weights
    (S, N, N)."""
    from vit_inpaint.viz.figures import annotate, flat_note, new_figure, patch_grid, pixels, show

    rows, size = len(weights), images.shape[-1]
    note = flat_note(weights)
    figure = new_figure(TENSORBOARD_WIDTH / 100, 1.55 * rows + 0.35 + (0.6 if note else 0))
    grid = figure.subplots(rows, 2, squeeze=False)
    figure.suptitle(title, fontsize=8)
    for row in range(rows):
        axes = grid[row, 0]
        show(axes, masked_rgb(images[row], masks[row]))
        patch_grid(axes, size, patch_size)
        axes.set_ylabel(f"val image {row}", fontsize=7)
        maps = grid[row, 1]
        show(maps, weights[row], cmap="viridis", vmin=0, vmax=1)
        tokens = range(weights.shape[-1])
        maps.set_xticks(tokens)
        maps.set_yticks(tokens)
        maps.tick_params(labelsize=6)
        annotate(maps, weights[row])
        maps.set_xlabel("key patch", fontsize=7)
        maps.set_ylabel("query patch", fontsize=7)
        if row == 0:
            axes.set_title("input (hidden: red)", fontsize=7)
            maps.set_title("attention weight (0-1)", fontsize=7)
    if note:  # under the maps: a flat map needs words, its colours look like a broken picture
        import textwrap

        figure.supxlabel(textwrap.fill(note, 62), fontsize=6.5)
    return pixels(figure)


class ReconstructionImages(L.Callback):
    """Reconstructions of fixed val samples every few epochs and after the last one; the last
    layer's attention maps, one picture per head, after the last epoch only (matplotlib figures:
    each costs as much as a few training steps)."""

    def __init__(self, every_n_epochs: int = 10, num_samples: int = 8, scale: int = 24):
        self.every_n_epochs = every_n_epochs
        self.num_samples = num_samples
        self.scale = scale

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch
        last = epoch + 1 == trainer.max_epochs
        if trainer.sanity_checking or not (last or epoch % self.every_n_epochs == 0):
            return
        experiment = getattr(trainer.logger, "experiment", None)
        if experiment is None or not hasattr(experiment, "add_image"):
            return
        dm = trainer.datamodule
        images = dm.images["val"][: self.num_samples].to(pl_module.device)
        masks = dm.masks["val"][: self.num_samples].to(pl_module.device)
        # The attention maps of a network that has them (models/registry.py), after the last epoch.
        attends = last and getattr(pl_module.model, "has_attention_maps", False)
        with torch.no_grad():
            if attends:
                pred, attention = pl_module.model(images, masks, return_attention=True)
            else:
                pred = pl_module.model(images, masks)
        step = trainer.global_step
        images, masks = images.cpu(), masks.cpu()
        # Epochs counted from 1, as "30 epochs" counts them; this is the weights after it, not
        # the best checkpoint that the test (and the report) use.
        when = f"epoch {epoch + 1}" + (" (last)" if last else "")
        labels = (f"{COLUMN_LABELS[0]}\n{when}", *COLUMN_LABELS[1:])
        grid = reconstruction_grid(images, masks, pred.float().cpu(), self.scale, labels=labels)
        experiment.add_image("val_images/reconstructions", grid, step)
        if not attends:
            return
        shown = slice(0, ATTENTION_SAMPLES)
        weights = attention[-1][shown].float().cpu().numpy()  # (S, heads, N, N)
        for head in range(weights.shape[1]):
            title = f"layer {len(attention)} (last), head {head}, {when}"
            picture = head_picture(
                images[shown].numpy(),
                masks[shown].numpy(),
                weights[:, head],
                pl_module.model.patch_size,
                title,
            )
            experiment.add_image(
                f"val_images/attention_layer{len(attention)}_head{head}",
                picture,
                step,
                dataformats="HWC",
            )
