"""The shipped inpainter without torch: the checkpoint read by storage/plain_checkpoint.py and the
network run by fill/numpy_vit.py give what torch gives, and a fill by the shipped inpainter
never imports torch."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch

from vit_inpaint.fill.model import SHIPPED, load_inpainter, shipped_inpainter
from vit_inpaint.fill.numpy_vit import SPREAD_FLOOR, NotCovered, NumpyViT
from vit_inpaint.models import vit as torch_vit
from vit_inpaint.models.settings import ModelSettings
from vit_inpaint.storage.plain_checkpoint import PlainCheckpointError, read_plain_checkpoint


def _inputs(batch: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    windows = rng.random((batch, size, size), dtype=np.float32)
    masks = rng.random((batch, size, size)) < 0.3
    masks[0] = True  # a window with nothing visible: the normalization's floor
    masks[1, :, : size // 2] = True  # whole patches hidden: the attention mask matters
    priors = rng.random((batch, size, size), dtype=np.float32)
    return windows, masks, priors


@pytest.mark.parametrize(
    "settings",
    [
        dict(image_size=16, patch_size=4, dim=32, depth=2, heads=4, prior="biharmonic",
             normalize=True),
        dict(image_size=8, patch_size=2, dim=32, depth=1, heads=2, prior="biharmonic",
             pos_embedding="sincos", attend_to_hidden=False),
        dict(image_size=4, patch_size=2, dim=16, depth=2, heads=4, pos_embedding="none"),
        dict(image_size=8, patch_size=2, dim=24, depth=1, heads=3, attention="manual",
             mlp_ratio=3.0),
    ],
)  # fmt: skip
def test_the_numpy_forward_is_torchs_for_every_setting_it_covers(settings, monkeypatch):
    import vit_inpaint.fill.numpy_vit as numpy_vit

    monkeypatch.setattr(numpy_vit, "SUB_BATCH", 4)  # 6 windows: two parts, in two threads
    torch.manual_seed(0)
    network = torch_vit.InpaintingViT(**settings).eval()
    for parameter in network.parameters():  # away from the initial zeros and ones
        torch.nn.init.normal_(parameter, std=0.3)
    weights = {key: value.numpy() for key, value in network.state_dict().items()}
    copy = NumpyViT(ModelSettings(**settings), weights)
    windows, masks, priors = _inputs(6, settings["image_size"])
    prior = priors if settings.get("prior", "none") != "none" else None
    with torch.no_grad():
        extra = {} if prior is None else {"prior": torch.from_numpy(prior)}
        expected = network(torch.from_numpy(windows), torch.from_numpy(masks), **extra)
    np.testing.assert_allclose(copy(windows, masks, prior), expected.numpy(), atol=2e-5)
    assert SPREAD_FLOOR == torch_vit.SPREAD_FLOOR


@pytest.mark.parametrize(
    "settings, why",
    [
        (dict(stem_channels=8), "a convolutional stem"),
        (dict(prior="pushpull"), "the pushpull prior"),
    ],
)
def test_what_the_numpy_forward_does_not_cover_is_refused_by_name(settings, why):
    with pytest.raises(NotCovered, match=why):
        NumpyViT(ModelSettings(**settings), {})


def test_the_plain_reader_gives_torch_loads_tensors_and_settings():
    plain = read_plain_checkpoint(SHIPPED)
    loaded = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert plain["hyper_parameters"] == loaded["hyper_parameters"]
    assert list(plain["state_dict"]) == list(loaded["state_dict"])
    for key, tensor in loaded["state_dict"].items():
        assert plain["state_dict"][key].dtype == tensor.numpy().dtype
        np.testing.assert_array_equal(plain["state_dict"][key], tensor.numpy())


def test_the_plain_reader_keeps_views_strides_and_offsets(tmp_path):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    saved = {"t": base.t(), "row": base[2], "half": base.half(), "n": torch.tensor(3)}
    torch.save(saved, tmp_path / "views.pt")
    plain = read_plain_checkpoint(tmp_path / "views.pt")
    for key, tensor in saved.items():
        np.testing.assert_array_equal(plain[key], tensor.numpy())


def test_the_plain_reader_refuses_anything_but_plain_tensors(tmp_path):
    torch.save({"state_dict": {}, "extra": torch.nn.Linear(2, 2)}, tmp_path / "module.pt")
    with pytest.raises(PlainCheckpointError, match="torch.nn.modules.linear.Linear"):
        read_plain_checkpoint(tmp_path / "module.pt")
    (tmp_path / "text.ckpt").write_text("not a checkpoint")
    with pytest.raises(PlainCheckpointError, match="not a readable torch.save zip"):
        read_plain_checkpoint(tmp_path / "text.ckpt")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x/other.txt", "no pickle")
    (tmp_path / "empty.zip").write_bytes(buffer.getvalue())
    with pytest.raises(PlainCheckpointError, match="no single data.pkl"):
        read_plain_checkpoint(tmp_path / "empty.zip")


def test_the_shipped_inpainter_fills_a_photo_in_numpy_as_torch_does():
    """load_inpainter() runs the shipped weights in numpy; the same file given by path is read,
    checked and run by torch (tasks/checkpoints.py): both fill a photo alike."""
    from vit_inpaint.data.sources import load_photo

    fast, checked = load_inpainter(), load_inpainter(SHIPPED)
    assert isinstance(fast.network, NumpyViT) and isinstance(checked.network, torch.nn.Module)
    assert fast.photos == checked.photos and fast.window == checked.window
    image = load_photo("camera", 4).double().numpy()[:48, :64]
    mask = np.random.default_rng(2).random(image.shape) < 0.1
    np.testing.assert_allclose(fast.fill(image, mask), checked.fill(image, mask), atol=1e-5)
    colour = np.stack([image, image[::-1], 1.0 - image], axis=-1)
    np.testing.assert_allclose(fast.fill(colour, mask), checked.fill(colour, mask), atol=1e-5)
    assert shipped_inpainter().torch_network().state_dict().keys() == (
        checked.network.state_dict().keys()
    )
