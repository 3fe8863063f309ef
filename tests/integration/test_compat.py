"""Checkpoints written before the layout change still load: through the Python API and the
inpaint tool (their hyperparameters then had `loss_on_visible` and no `model.prior`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import ONE_EPOCH, compose_config

pytestmark = pytest.mark.slow  # trains a tiny model


@pytest.fixture(scope="module")
def old_checkpoint(tmp_path_factory):
    from vit_inpaint.training import train

    out = tmp_path_factory.mktemp("old") / "run"
    train(compose_config(*ONE_EPOCH, output_dir=out))
    checkpoint = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)
    hparams = checkpoint["hyper_parameters"]
    # What a checkpoint of the previous layout holds.
    hparams["loss_on_visible"] = hparams.pop("loss_pixels") == "all"
    del hparams["model"]["prior"]
    path = out / "old.ckpt"
    torch.save(checkpoint, path)
    return path


def test_an_old_checkpoint_loads_through_the_python_api(old_checkpoint):
    from vit_inpaint import InpaintingModule

    module = InpaintingModule.load_from_checkpoint(old_checkpoint)
    assert module.loss_pixels == "hidden" and module.model.prior == "none"
    images = torch.rand(3, 4, 4)
    masks = torch.zeros(3, 4, 4, dtype=torch.bool)
    masks[:, :2, :2] = True
    filled = module.inpaint(images, masks)
    assert torch.equal(filled[~masks], images[~masks]) and torch.isfinite(filled).all()


def test_an_old_checkpoint_fills_an_image_with_the_tool(old_checkpoint, tmp_path):
    import imageio.v3 as iio

    from vit_inpaint.cli.inpaint import main

    image = (np.random.default_rng(0).random((12, 16)) * 255).astype(np.uint8)
    iio.imwrite(tmp_path / "in.png", image)
    args = ["--ckpt", str(old_checkpoint), "--image", str(tmp_path / "in.png"), "--holes", "5"]
    assert main([*args, "--out", str(tmp_path / "out.png")]) == 0
    assert iio.imread(tmp_path / "out.png").shape == image.shape
