"""A trained inpainting network, ready to fill whole images: read from a checkpoint without
Lightning (tasks/checkpoints.py; the tools start in a second or two), or the inpainter that ships
with the package.

    inpainter = load_inpainter("last.ckpt")     # or load_inpainter(None): the shipped one
    filled = inpainter.fill(image, mask)        # (H, W) gray or (H, W, 3) colour in [0, 1],
                                                # mask (H, W), True = hidden

A colour photograph is filled, by default, as its luminance and its colour apart
(colour="luminance"): the network corrects the biharmonic fill of the channels' mean, and each
channel gets the biharmonic fill of its own plus that correction, so the colour differences come
from the smooth fill (cheap: one solve for all channels) and the detail from the network (one
pass). colour="channels" runs the network on each channel instead (three passes; BENCHMARKS.md
compares the two).

The shipped inpainter runs without torch: its file is read by storage/plain_checkpoint.py and
its network by fill/numpy_vit.py (the same function to 1e-6), since importing torch takes longer
than filling a small photograph; a checkpoint given by path is read, checked and run by torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The checkpoint of `python train.py experiment=inpainter` that ships with the package
# (BENCHMARKS.md: how it was made).
SHIPPED = Path(__file__).resolve().parents[1] / "weights" / "inpainter.ckpt"
COLOUR_MODES = ("luminance", "channels")
# Which windows give a hidden pixel its value (fill/windows.py): "overlap", every window that
# holds it, weighted towards their centres; "centre", the one it is central in.
WINDOW_MODES = ("overlap", "centre")


@dataclass
class Inpainter:
    # An InpaintingViT in eval mode, or a NumpyViT (fill/numpy_vit.py) of the shipped weights.
    network: object
    source: str  # where it came from, for messages
    # Test-time averaging: each window is also shown mirrored and turned (1, 2, 4 or 8 of its 8
    # orientations) and the predictions, turned back, are averaged; costs that many passes.
    orientations: int = 1
    # The photographs (skimage.data names) of its training and validation splits, as its
    # checkpoint records them (runs from issue 20 on); None: not recorded.
    photos: list[str] | None = None
    # WINDOW_MODES; "centre" applies to a network with a prior (the shipped one has one). On the
    # validation photographs it scored as "overlap" at full resolution, 2% worse at 1/4, in half
    # the time, but a user's photo showed its windows' 8x8 blocks as steps inside painted blobs
    # (BENCHMARKS.md "Issue 27, session 9"): "overlap" is the default, "centre" an option.
    windows: str = "overlap"

    def __post_init__(self):
        if self.orientations not in (1, 2, 4, 8):
            raise ValueError(f"orientations must be 1, 2, 4 or 8, got {self.orientations!r}")
        if self.windows not in WINDOW_MODES:
            raise ValueError(f"windows must be one of {WINDOW_MODES}, got {self.windows!r}")

    @property
    def window(self) -> int:
        return self.network.image_size

    @property
    def prior(self) -> str:
        """The classical fill the network corrects (models/prior.py), or "none"."""
        return getattr(self.network, "prior", "none")

    def predict(self, windows, masks, priors=None) -> np.ndarray:
        """(B, s, s) windows and masks (and the prior's fill of them), numpy arrays -> the
        network's (B, s, s) predictions, averaged over `orientations`."""
        total = None
        for k in range(self.orientations):
            inputs = [_orient(x, k) for x in (windows, masks, priors) if x is not None]
            pred = _orient(self._forward(*inputs), k, inverse=True)
            total = pred if total is None else total + pred
        return total / self.orientations if self.orientations > 1 else total

    def _forward(self, windows, masks, priors=None) -> np.ndarray:
        if not is_torch_module(self.network):
            return self.network(windows, masks, priors)
        import torch

        inputs = [torch.from_numpy(np.ascontiguousarray(x)) for x in (windows, masks, priors)
                  if x is not None]  # fmt: skip
        with torch.no_grad():
            if priors is None:
                return self.network(*inputs).float().numpy()
            return self.network(*inputs[:2], prior=inputs[2]).float().numpy()

    def torch_network(self):
        """The network as a torch module (test-time tuning trains it)."""
        if is_torch_module(self.network):
            return self.network
        from vit_inpaint.tasks.checkpoints import read_checkpoint

        return usable_network(read_checkpoint(self.source), self.source)

    def fill(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        stride: int | None = None,
        progress: bool = False,
        colour: str = "luminance",
        tune_steps: int = 0,
    ) -> np.ndarray:
        """Fills the hidden pixels of a (H, W) gray or (H, W, C) colour image in [0, 1] (mask
        (H, W), True = hidden) with overlapping windows (fill/windows.py); returns float64 of
        the image's shape, visible pixels as given. stride: between windows (default half a
        window; the window size: no overlap). colour: "luminance" or "channels" (the module's
        docstring). A network that corrects the biharmonic fill gets that of the whole image
        (models/biharmonic.py), which sees each hole's whole surroundings, not the window's only.
        tune_steps: first train a copy of the network that many steps on the photograph's own
        visible pixels (fill/tuning.py; its luminance for a colour one), then fill with it.
        """
        from vit_inpaint.fill.windows import checked_inputs

        if colour not in COLOUR_MODES:
            raise ValueError(f"colour must be one of {', '.join(COLOUR_MODES)}, got {colour!r}")
        image, mask = checked_inputs(image, mask)  # before the prior's solve
        if tune_steps > 0:
            from dataclasses import replace

            from vit_inpaint.fill.tuning import tuned_network

            gray = image if image.ndim == 2 else image.mean(axis=-1)
            network = tuned_network(self.torch_network(), gray, mask, tune_steps)
            return replace(self, network=network).fill(image, mask, stride, progress, colour)
        if image.ndim == 2:
            return self._fill_gray(image, mask, stride, progress)
        if colour == "channels" or image.shape[2] == 1:
            planes = [image[..., c] for c in range(image.shape[2])]
            return np.stack([self._fill_gray(p, mask, stride, progress) for p in planes], -1)
        return self._fill_luminance(image, mask, stride, progress)

    def _fill_gray(self, image, mask, stride, progress, smooth=None) -> np.ndarray:
        """One gray plane; smooth: its biharmonic fill when already solved."""
        from vit_inpaint.fill.windows import fill_windows

        prior = None
        if self.prior == "biharmonic":
            from vit_inpaint.models.biharmonic import biharmonic_fill

            prior = biharmonic_fill(image, mask) if smooth is None else smooth
        return fill_windows(
            image, mask, self.window, self.predict, stride=stride, progress=progress, prior=prior,
            centre=self.windows == "centre" and prior is not None,
        )  # fmt: skip

    def _fill_luminance(self, image, mask, stride, progress) -> np.ndarray:
        """The network on the channels' mean, the colour differences from the biharmonic fill."""
        from vit_inpaint.models.biharmonic import biharmonic_fill

        smooth = biharmonic_fill(image, mask)  # every channel in one solve
        gray, smooth_gray = image.mean(axis=-1), smooth.mean(axis=-1)
        filled_gray = self._fill_gray(gray, mask, stride, progress, smooth=smooth_gray)
        out = np.clip(smooth + (filled_gray - smooth_gray)[..., None], 0.0, 1.0)
        out[~mask] = image[~mask]
        return out


def _orient(x: np.ndarray, k: int, inverse: bool = False) -> np.ndarray:
    """(B, s, s) windows in orientation k of 8 (k % 4 quarter turns, mirrored for k >= 4), or
    back from it."""
    if not inverse:
        x = np.rot90(x, k % 4, axes=(1, 2))
        return x[:, :, ::-1] if k >= 4 else x
    x = x[:, :, ::-1] if k >= 4 else x
    return np.rot90(x, -(k % 4), axes=(1, 2))


def is_torch_module(network) -> bool:
    """Whether `network` is a torch module, without importing torch when it is not loaded."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(network, torch.nn.Module)


def usable_network(checkpoint: dict, source: str | os.PathLike):
    """The inpainting network of a checkpoint read by tasks/checkpoints.py (which refuses
    non-finite weights, as for every other route)."""
    from vit_inpaint.tasks.checkpoints import build_network

    return build_network(checkpoint, source, task="inpaint")


def load_inpainter(path: str | os.PathLike | None = None) -> Inpainter:
    """The network of `path`, or with None the inpainter that ships with the package (run in
    numpy: the module's docstring)."""
    from vit_inpaint.storage.images import CheckpointError

    if path is None:
        if not SHIPPED.is_file():
            raise CheckpointError(
                f"{SHIPPED}: the shipped inpainter is missing from this installation; give "
                "--ckpt a checkpoint of `python train.py experiment=inpainter`"
            )
        return shipped_inpainter()
    from vit_inpaint.tasks.checkpoints import read_checkpoint

    checkpoint = read_checkpoint(path)
    return Inpainter(usable_network(checkpoint, path), str(path), photos=_photos(checkpoint))


def shipped_inpainter(path: Path = SHIPPED) -> Inpainter:
    """The shipped weights in fill/numpy_vit.py's forward, read without torch (tests check that
    the file passes every check of tasks/checkpoints.py and that both forwards agree)."""
    from vit_inpaint.fill.numpy_vit import NumpyViT
    from vit_inpaint.models.settings import ModelSettings
    from vit_inpaint.storage.images import CheckpointError
    from vit_inpaint.storage.plain_checkpoint import (
        PlainCheckpointError,
        model_state,
        read_plain_checkpoint,
    )

    try:
        checkpoint = read_plain_checkpoint(path)
        weights = model_state(checkpoint)
        settings = ModelSettings(**checkpoint["hyper_parameters"]["model"])
        network = NumpyViT(settings, weights)
        for key, value in weights.items():
            if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
                raise PlainCheckpointError(f"non-finite weights in model.{key}")
        size = settings.image_size  # one window through the network: every weight there, fitting
        window, mask = np.zeros((1, size, size), np.float32), np.zeros((1, size, size), bool)
        mask[0, 0, 0] = True
        network(window, mask, window if settings.prior != "none" else None)
    except (PlainCheckpointError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(
            f"{path}: the shipped inpainter is damaged ({type(err).__name__}: {err}); "
            "reinstall the package, or give --ckpt a checkpoint of "
            "`python train.py experiment=inpainter`"
        ) from err
    return Inpainter(network, str(path), photos=_photos(checkpoint))


def _photos(checkpoint: dict) -> list[str] | None:
    recorded = checkpoint.get("hyper_parameters", {}).get("photos")
    return None if recorded is None else [name for split in recorded.values() for name in split]


def ship(path: str | os.PathLike, destination: str | os.PathLike = SHIPPED) -> Path:
    """Writes the weights and settings of a training checkpoint, without the optimizer's state
    (two thirds of its size), to `destination`: the file the package ships. Checked first by
    loading it as the tool does."""
    import io

    import torch

    from vit_inpaint.storage.atomic import write_atomic
    from vit_inpaint.tasks.checkpoints import read_checkpoint

    checkpoint = read_checkpoint(path)
    usable_network(checkpoint, path)  # refuses a file that is not a usable inpainter
    keep = ("state_dict", "hyper_parameters", "epoch", "global_step", "pytorch-lightning_version")
    # hyper_parameters keep the record of the photographs it trained on: evaluate refuses them.
    slim = {key: checkpoint[key] for key in keep if key in checkpoint}
    buffer = io.BytesIO()
    torch.save(slim, buffer)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(destination, buffer.getvalue())
    return destination


if __name__ == "__main__":  # python -m vit_inpaint.fill.model CKPT: ship it with the package
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m vit_inpaint.fill.model CKPT  (writes " + str(SHIPPED) + ")")
    print(f"wrote {ship(sys.argv[1])}")
