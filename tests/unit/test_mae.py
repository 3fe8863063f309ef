"""model=mae: the encoder sees only visible patches, the decoder fills the hidden ones; its masks
(masking=patches), its refusals, and its encoder going into either task with init_from."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY, compose_config
from vit_inpaint.data.masking import PatchMasking, hides_whole_patches
from vit_inpaint.launch.validate import ConfigError, check_config
from vit_inpaint.models import build_inpainter
from vit_inpaint.models.encoder import is_encoder_key
from vit_inpaint.models.mae import MaskedAutoencoderViT
from vit_inpaint.tasks.checkpoints import mismatch

SETTINGS = dict(image_size=8, patch_size=2, dim=32, depth=2, heads=4)


def _mae(**extra) -> MaskedAutoencoderViT:
    torch.manual_seed(0)
    return build_inpainter(name="mae", **SETTINGS, decoder_dim=16, decoder_heads=2, **extra)


def test_patch_masking_hides_a_ratio_of_whole_patches_reproducibly():
    masking = PatchMasking(ratio=0.75, size=2)
    masks = masking(6, 8, 8, generator=torch.Generator().manual_seed(1))
    cells = masks.view(6, 4, 2, 4, 2).permute(0, 1, 3, 2, 4).reshape(6, 16, 4)
    assert (cells.all(-1) | ~cells.any(-1)).all()  # each patch wholly hidden or wholly visible
    assert (cells.all(-1).sum(1) == 12).all()  # 75% of the 16 patches, in every image
    assert masking.hidden_count(8, 8) == 48
    again = masking(6, 8, 8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(masks, again)
    assert len({m.flatten().tolist().__str__() for m in masks}) > 1  # drawn anew per image


@pytest.mark.parametrize("stem_channels", [0, 8], ids=["no stem", "conv stem"])
def test_hidden_pixel_values_never_reach_the_prediction(stem_channels):
    # With a stem too: it convolves the masked image, whose hidden pixels are already zeros.
    model = _mae(stem_channels=stem_channels).eval()
    images = torch.rand(4, 8, 8)
    masks = PatchMasking(0.75, 2)(4, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(images, masks)
        other = model(torch.where(masks, torch.rand(4, 8, 8), images), masks)
    assert out.shape == (4, 8, 8)
    assert torch.allclose(out, other)


def test_an_images_prediction_does_not_depend_on_the_rest_of_its_batch():
    # Images hiding different numbers of patches are padded to one length: the padding is masked
    # out of attention, so each image's result is what it would be alone.
    model = _mae().eval()
    images = torch.rand(3, 8, 8)
    masks = torch.zeros(3, 8, 8, dtype=torch.bool)
    masks[0, :2, :2] = True  # 1 patch hidden
    masks[1, :4, :] = True  # 8 patches hidden
    masks[2, 2:6, 2:6] = True  # 4 patches hidden
    with torch.no_grad():
        together = model(images, masks)
        alone = torch.cat([model(images[i : i + 1], masks[i : i + 1]) for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-5)


def test_the_encoder_sees_only_the_visible_patches():
    model = _mae().eval()
    images = torch.rand(2, 8, 8)
    masks = PatchMasking(0.75, 2)(2, 8, 8, generator=torch.Generator().manual_seed(0))
    _, attention = model(images, masks, return_attention=True)
    assert attention[0].shape == (2, 4, 4, 4)  # (B, heads, 4 visible of 16 patches, 4)


@pytest.mark.parametrize("stem_channels", [0, 8], ids=["no stem", "conv stem"])
def test_the_mae_encoder_has_the_vit_encoders_tensors(stem_channels):
    mae = _mae(stem_channels=stem_channels)
    vit = build_inpainter(name="vit", **SETTINGS, stem_channels=stem_channels)
    mae_encoder = {k: v.shape for k, v in mae.state_dict().items() if is_encoder_key(k)}
    vit_encoder = {k: v.shape for k, v in vit.state_dict().items() if is_encoder_key(k)}
    assert mae_encoder == vit_encoder
    # The decoder's tensors are not the encoder's: init_from leaves them behind.
    assert all(k.startswith(("decoder_", "mask_token")) for k in set(mae.state_dict()) - set(
        mae_encoder))  # fmt: skip
    checkpoint = {
        "state_dict": {f"model.{k}": v for k, v in mae.state_dict().items()},
        "hyper_parameters": {"model": {"name": "mae", **SETTINGS, "stem_channels": stem_channels}},
    }
    assert mismatch(checkpoint, {"name": "vit", **SETTINGS, "stem_channels": stem_channels}) is None


def test_which_masks_hide_whole_patches():
    from vit_inpaint.data.masking import BlockMasking, RandomMasking

    assert hides_whole_patches(PatchMasking(0.5, 2), 2)
    assert hides_whole_patches(PatchMasking(0.5, 4), 2)
    assert not hides_whole_patches(PatchMasking(0.5, 2), 4)
    assert hides_whole_patches(BlockMasking(size=2, aligned=True), 2)
    assert not hides_whole_patches(BlockMasking(size=2, aligned=False), 2)
    assert not hides_whole_patches(RandomMasking(0.5), 2)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (("masking=holes",), "model=mae needs a mask that hides whole 2x2 patches"),
        (("masking=pixel",), "masking=pixel hides pixels inside patches"),
        (("masking=patches", "masking.size=1"), "model=mae needs a mask that hides whole"),
        (("masking=patches", "masking.ratio=1.0"), "masking.ratio must be between 0 and 1"),
        (("masking=patches", "model.prior=pushpull"), "model=mae takes no prior"),
        (("masking=patches", "model.decoder_heads=3"), "decoder_dim .* divisible"),
        (("task=classify", "data=digits"), "model=mae has no classifier for task=classify"),
        (("masking=patches", "model.name=vae"), "model.name must be one of"),
    ],
)
def test_bad_mae_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        check_config(compose_config(TINY, "model=mae", "data.image_size=8", *overrides))


def test_mae_config_composes_with_patches_at_the_model_patch_size():
    cfg = compose_config(TINY, "model=mae", "masking=patches", "model.patch_size=4",
                         "data.image_size=16")  # fmt: skip
    check_config(cfg)
    assert cfg.model.name == "mae" and cfg.masking.size == 4 and cfg.masking.ratio == 0.75


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ratio", "1.0"], "--ratio must be between 0 and 1"),
        (["--epochs", "1"], "--epochs must be at least 2"),
        (["--image-sizes", "9"], "--image-sizes must be multiples of --patch-size 2"),
    ],
)
def test_bench_mae_refuses_bad_arguments_before_any_timing(args, message, capsys):
    from vit_inpaint.cli import bench_mae

    with pytest.raises(SystemExit) as stop:
        bench_mae.main(args)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_the_classifier_is_the_named_models_and_model_mae_has_none():
    from vit_inpaint.models import build_classifier
    from vit_inpaint.models.classifier import ViTClassifier

    assert isinstance(build_classifier(3, name="vit", **SETTINGS), ViTClassifier)
    with pytest.raises(ValueError, match="model=mae has no classifier"):
        build_classifier(3, name="mae", **SETTINGS, decoder_dim=16, decoder_heads=2)
