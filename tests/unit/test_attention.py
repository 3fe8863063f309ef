import math

import pytest
import torch

from vit_inpaint.models.layers import MultiHeadSelfAttention
from vit_inpaint.models.vit import InpaintingViT


def make_pair(dim=32, heads=4):
    torch.manual_seed(0)
    manual = MultiHeadSelfAttention(dim, heads, "manual")
    sdpa = MultiHeadSelfAttention(dim, heads, "sdpa")
    sdpa.load_state_dict(manual.state_dict())
    return manual, sdpa


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_manual_equals_sdpa(heads):
    manual, sdpa = make_pair(32, heads)
    x = torch.randn(3, 9, 32)
    assert torch.allclose(manual(x)[0], sdpa(x)[0], atol=1e-5)


def test_manual_equals_sdpa_with_a_key_mask():
    manual, sdpa = make_pair()
    x = torch.randn(3, 6, 32)
    key_mask = torch.rand(3, 6) < 0.6
    key_mask[:, 0] = True
    assert torch.allclose(manual(x, key_mask)[0], sdpa(x, key_mask)[0], atol=1e-5)


@pytest.mark.parametrize("heads", [1, 4])
def test_manual_equals_torch_multihead_attention(heads):
    torch.manual_seed(0)
    dim = 32
    ours = MultiHeadSelfAttention(dim, heads, "manual")
    reference = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
    with torch.no_grad():
        reference.in_proj_weight.copy_(ours.qkv.weight)
        reference.in_proj_bias.copy_(ours.qkv.bias)
        reference.out_proj.weight.copy_(ours.proj.weight)
        reference.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(2, 5, dim)
    expected, expected_weights = reference(x, x, x, average_attn_weights=False)
    out, weights = ours(x, return_weights=True)
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.allclose(weights, expected_weights, atol=1e-6)
    # With a key padding mask (True = ignore in torch's convention, True = keep in ours).
    key_mask = torch.tensor([[True, True, False, True, False], [True] * 5])
    expected, _ = reference(x, x, x, key_padding_mask=~key_mask)
    assert torch.allclose(ours(x, key_mask)[0], expected, atol=1e-5)


def test_scores_are_scaled_by_sqrt_dk():
    # One head, identity projections: the weights must be softmax(x x^T / sqrt(d_k)).
    dim = 8
    attn = MultiHeadSelfAttention(dim, 1, "manual")
    with torch.no_grad():
        attn.qkv.weight.copy_(torch.cat([torch.eye(dim)] * 3))
        attn.qkv.bias.zero_()
    x = torch.randn(1, 4, dim)
    _, weights = attn(x, return_weights=True)
    expected = (x @ x.transpose(1, 2) / math.sqrt(dim)).softmax(-1)
    assert torch.allclose(weights[0, 0], expected[0], atol=1e-6)


def test_rows_sum_to_one_and_masked_keys_get_zero_weight():
    manual, _ = make_pair()
    x = torch.randn(2, 6, 32)
    key_mask = torch.tensor([[True, False, True, True, False, True], [False, True] * 3])
    _, weights = manual(x, key_mask, return_weights=True)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4, 6), atol=1e-6)
    assert (weights.masked_select(~key_mask[:, None, None, :].expand_as(weights)) == 0).all()
    assert (weights.masked_select(key_mask[:, None, None, :].expand_as(weights)) > 0).all()


def test_sdpa_model_returns_manual_attention_maps_on_request():
    torch.manual_seed(0)
    model = InpaintingViT(4, 2, dim=32, depth=2, heads=4, attention="sdpa")
    images, mask = torch.rand(2, 4, 4), torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    fast = model(images, mask)
    out, maps = model(images, mask, return_attention=True)
    assert torch.allclose(fast, out, atol=1e-5)
    assert all(m.shape == (2, 4, 4, 4) for m in maps)


def test_fully_hidden_patches_are_not_attended_to_when_asked():
    torch.manual_seed(0)
    model = InpaintingViT(4, 2, dim=32, depth=2, heads=4, attend_to_hidden=False)
    images, mask = torch.rand(2, 4, 4), torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[0, :2, :2] = True  # token 0 of sample 0 is fully hidden
    mask[1, 3, 3] = True  # sample 1: one pixel of token 3, which stays attendable
    _, maps = model(images, mask, return_attention=True)
    for layer in maps:
        assert (layer[0, :, :, 0] == 0).all()
        assert (layer[1, :, :, 3] > 0).all()
