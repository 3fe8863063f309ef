"""Pictures in TensorBoard: reconstructions like the report's figure 12, and attention maps, each
readable without the README: column labels drawn in, attention maps with axes and a colour bar."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

from vit_inpaint.viz.pictures import masked_rgb

# Two lines each: a column is only H*scale pixels wide.
COLUMN_LABELS = (
    "original",
    "masked\n(hidden: red)",
    "inpainted\n(visible kept)",
    "|error|, hidden\n(visible: 0)",
)
HEADER_HEIGHT = 30
# Attention maps are drawn for this many validation images (a matplotlib figure each row).
ATTENTION_SAMPLES = 2


def upscale(image: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest-neighbour upscaling of (..., H, W), so each pixel of a 4x4 image stays a square."""
    return image.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


def reconstruction_grid(
    images: torch.Tensor, masks: torch.Tensor, pred: torch.Tensor, scale: int = 24, gap: int = 2
) -> torch.Tensor:
    """(3, HEADER_HEIGHT + rows*(H*scale+gap), 4*(W*scale+gap)) RGB grid under a row of
    COLUMN_LABELS, one row per sample: original | masked (hidden in red) | what the inpainting tool
    returns (the model's clipped prediction on hidden pixels, the given ones elsewhere) | its
    absolute error, black (0) on visible pixels."""
    from vit_inpaint.viz.figures import label_strip

    gray = lambda x: x[:, None].expand(-1, 3, -1, -1)  # noqa: E731
    masked = torch.from_numpy(masked_rgb(images.numpy(), masks.numpy())).permute(0, 3, 1, 2).float()
    # As InpaintingModule.inpaint: the error then is the tool's, 0 wherever the pixel was given.
    inpainted = torch.where(masks, pred.clamp(0, 1), images.clamp(0, 1))
    error = (inpainted - images.clamp(0, 1)).abs()
    columns = [gray(images.clamp(0, 1)), masked, gray(inpainted), gray(error)]
    tiles = [upscale(c, scale) for c in columns]  # each (B, 3, H*s, W*s)
    tiles = [torch.nn.functional.pad(t, (0, gap, 0, gap), value=1.0) for t in tiles]
    row = torch.cat(tiles, dim=-1)  # (B, 3, H*s+gap, 4*(W*s+gap))
    header = label_strip(list(COLUMN_LABELS), tiles[0].shape[-1], HEADER_HEIGHT)
    header = torch.from_numpy(header).permute(2, 0, 1).float() / 255.0
    return torch.cat([header, *row], dim=-2)


def attention_picture(
    images: torch.Tensor, masks: torch.Tensor, weights: torch.Tensor
) -> np.ndarray:
    """(H, W, 3) uint8: per image (row), the masked input and the attention map of each head
    (S, heads, N, N), with query/key patch axes, head titles and a colour bar."""
    from vit_inpaint.evaluation.replay import Prediction
    from vit_inpaint.viz.figures import attention_figure, pixels

    rows = [
        Prediction(
            label=f"val image {i}",
            images=images[i : i + 1].numpy(),
            masks=masks[i : i + 1].numpy(),
            reconstructions=images[i : i + 1].numpy(),  # not drawn
            attention=weights[i].numpy(),
        )
        for i in range(len(weights))
    ]
    return pixels(attention_figure(rows))


class ReconstructionImages(L.Callback):
    """Every few epochs, logs reconstructions and last-layer attention maps of fixed val samples."""

    def __init__(self, every_n_epochs: int = 5, num_samples: int = 8, scale: int = 24):
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
        with torch.no_grad():
            pred, attention = pl_module.model(images, masks, return_attention=True)
        step = trainer.global_step
        images, masks = images.cpu(), masks.cpu()
        grid = reconstruction_grid(images, masks, pred.float().cpu(), self.scale)
        experiment.add_image("val/reconstructions", grid, step)
        shown = slice(0, ATTENTION_SAMPLES)
        picture = attention_picture(images[shown], masks[shown], attention[-1][shown].float().cpu())
        experiment.add_image("val/attention_last_layer", picture, step, dataformats="HWC")
