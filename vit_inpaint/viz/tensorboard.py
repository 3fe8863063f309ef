"""Pictures in TensorBoard: reconstructions like the report's figure 12, and attention maps."""

from __future__ import annotations

import lightning as L
import torch

from vit_inpaint.viz.pictures import masked_rgb


def upscale(image: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest-neighbour upscaling of (..., H, W), so each pixel of a 4x4 image stays a square."""
    return image.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


def reconstruction_grid(
    images: torch.Tensor, masks: torch.Tensor, recon: torch.Tensor, scale: int = 16, gap: int = 2
) -> torch.Tensor:
    """(3, rows*(H*scale+gap), 4*(W*scale+gap)) RGB grid, one row per sample:
    original | masked (hidden in red) | reconstruction | absolute error."""
    gray = lambda x: x.clamp(0, 1)[:, None].expand(-1, 3, -1, -1)  # noqa: E731
    masked = torch.from_numpy(masked_rgb(images.numpy(), masks.numpy())).permute(0, 3, 1, 2).float()
    error = (recon - images).abs()
    columns = [gray(images), masked, gray(recon), gray(error)]
    tiles = [upscale(c, scale) for c in columns]  # each (B, 3, H*s, W*s)
    tiles = [torch.nn.functional.pad(t, (0, gap, 0, gap), value=1.0) for t in tiles]
    row = torch.cat(tiles, dim=-1)  # (B, 3, H*s+gap, 4*(W*s+gap))
    return torch.cat(list(row), dim=-2)


def attention_grid(weights: torch.Tensor, scale: int = 16, gap: int = 2) -> torch.Tensor:
    """(1, samples*(N*scale+gap), heads*(N*scale+gap)) image of attention weights (S, heads, N, N):
    one row per sample, one column per head; row i of a tile = where query token i looks."""
    tiles = upscale(weights / weights.amax(dim=(-2, -1), keepdim=True).clamp_min(1e-12), scale)
    tiles = torch.nn.functional.pad(tiles, (0, gap, 0, gap), value=1.0)
    s, h, n, _ = tiles.shape
    return tiles.permute(0, 2, 1, 3).reshape(1, s * n, h * tiles.shape[-1])


class ReconstructionImages(L.Callback):
    """Every few epochs, logs reconstructions and last-layer attention maps of fixed val samples."""

    def __init__(self, every_n_epochs: int = 5, num_samples: int = 8, scale: int = 16):
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
            recon, attention = pl_module.model(images, masks, return_attention=True)
        step = trainer.global_step
        grid = reconstruction_grid(images.cpu(), masks.cpu(), recon.float().cpu(), self.scale)
        experiment.add_image("val/reconstructions", grid, step)
        experiment.add_image(
            "val/attention_last_layer", attention_grid(attention[-1].float().cpu()), step
        )
