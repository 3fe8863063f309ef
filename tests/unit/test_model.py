import pytest
import torch

from vit_inpaint.models.layers import PositionalEncoding, patchify, sincos_2d, unpatchify
from vit_inpaint.models.vit import InpaintingViT


@pytest.mark.parametrize("size,patch", [(4, 2), (4, 1), (4, 4), (8, 2), (8, 4), (16, 4)])
@pytest.mark.parametrize("channels", [1, 2])
def test_patchify_round_trip(size, patch, channels):
    x = torch.rand(3, channels, size, size)
    tokens = patchify(x, patch)
    assert tokens.shape == (3, (size // patch) ** 2, patch * patch * channels)
    back = unpatchify(tokens, patch, size, size)
    assert torch.equal(back.reshape(x.shape), x)


def test_patchify_reads_patches_in_the_reports_order():
    # A 4x4 image numbered 0..15 row by row: P1 is the top-left 2x2 patch, read row by row.
    image = torch.arange(16.0).view(1, 4, 4)
    tokens = patchify(image, 2)[0]
    assert tokens[0].tolist() == [0, 1, 4, 5]
    assert tokens[1].tolist() == [2, 3, 6, 7]
    assert tokens[2].tolist() == [8, 9, 12, 13]
    assert tokens[3].tolist() == [10, 11, 14, 15]


@pytest.mark.parametrize("size,patch", [(4, 2), (4, 1), (8, 2), (8, 4), (16, 4), (16, 2)])
@pytest.mark.parametrize("pos", ["learned", "sincos", "none"])
@pytest.mark.parametrize("attention", ["manual", "sdpa"])
def test_output_shape(size, patch, pos, attention):
    model = InpaintingViT(
        size, patch, dim=32, depth=2, heads=4, pos_embedding=pos, attention=attention
    )
    images = torch.rand(5, size, size)
    mask = torch.zeros(5, size, size, dtype=torch.bool)
    mask[:, 0, 0] = True
    out, attn = model(images, mask, return_attention=True)
    assert out.shape == (5, size, size)
    n = (size // patch) ** 2
    assert len(attn) == 2 and all(a.shape == (5, 4, n, n) for a in attn)


@pytest.mark.parametrize("kind", ["learned", "sincos"])
def test_position_encodings_differ_per_position(kind):
    pos = PositionalEncoding(kind, num_tokens=16, grid=(4, 4), dim=32)
    table = pos(torch.zeros(1, 16, 32))[0]
    distances = torch.cdist(table, table)
    off_diagonal = distances[~torch.eye(16, dtype=torch.bool)]
    assert off_diagonal.min() > 1e-3


def test_sincos_is_fixed_and_none_adds_nothing():
    pos = PositionalEncoding("sincos", 4, (2, 2), 16)
    assert not list(pos.parameters())
    assert torch.allclose(pos.table[0], sincos_2d(2, 2, 16))
    x = torch.randn(2, 4, 16)
    assert torch.equal(PositionalEncoding("none", 4, (2, 2), 16)(x), x)


def test_identical_patches_at_two_positions_get_different_outputs():
    # The report's figure 7: equal content, different place -> different embedding.
    model = InpaintingViT(4, 2, dim=32, depth=1, heads=2, pos_embedding="sincos").eval()
    images = torch.full((1, 4, 4), 0.5)
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    out = model(images, mask)
    tokens = patchify(out, 2)[0]
    assert not torch.allclose(tokens[0], tokens[3])


@pytest.mark.parametrize("pos", ["learned", "sincos", "none"])
def test_every_parameter_gets_a_gradient(pos):
    torch.manual_seed(0)
    model = InpaintingViT(4, 2, dim=32, depth=2, heads=4, pos_embedding=pos)
    images = torch.rand(8, 4, 4)
    mask = torch.rand(8, 4, 4) < 0.3
    mask[:, 0, 0] = True
    model(images, mask).square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_hidden_pixel_values_never_reach_the_model():
    torch.manual_seed(0)
    model = InpaintingViT(4, 2, dim=32, depth=2, heads=4).eval()
    images = torch.rand(4, 4, 4)
    mask = torch.zeros(4, 4, 4, dtype=torch.bool)
    mask[:, 1, 2] = True  # one hidden pixel inside a patch
    changed = images.clone()
    changed[mask] = torch.rand(4)
    assert torch.equal(model(images, mask), model(changed, mask))


def test_model_knows_which_pixel_is_hidden():
    # A hidden pixel and a visible black pixel hold the same value 0; the mask channel tells
    # them apart, so the two inputs must give different outputs.
    torch.manual_seed(0)
    model = InpaintingViT(4, 2, dim=32, depth=1, heads=2).eval()
    images = torch.rand(1, 4, 4)
    images[0, 0, 0] = 0.0
    hidden = torch.zeros(1, 4, 4, dtype=torch.bool)
    hidden[0, 0, 0] = True
    assert not torch.allclose(model(images, hidden), model(images, torch.zeros_like(hidden)))


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"image_size": 6, "patch_size": 4}, "patch_size"),
        ({"dim": 30, "heads": 4}, "heads"),
        ({"pos_embedding": "rotary"}, "pos_embedding"),
        ({"attention": "flash"}, "attention"),
        ({"dim": 18, "heads": 2, "pos_embedding": "sincos"}, "sincos"),
    ],
)
def test_bad_model_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        InpaintingViT(**kwargs)
