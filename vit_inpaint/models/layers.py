"""The layers every model here is built from, in the report's order: patches (section 7.1),
position encodings (7.3), multi-head self-attention with an optional attention mask (sections 3, 4
and 6) and the pre-norm transformer block. `vit.py` assembles them into the inpainting ViT.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vit_inpaint.models.settings import ATTENTIONS, POS_EMBEDDINGS

# --- Patches (report section 7.1) ------------------------------------------------------------


def patchify(x: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) or (B, H, W) -> (B, N, p*p*C), patches in row-major order over the grid.

    Each patch is flattened row by row with its channels last, so for C = 1 a 2x2 patch becomes
    [top-left, top-right, bottom-left, bottom-right], the report's P1..P4 read in order.
    """
    if x.dim() == 3:
        x = x.unsqueeze(1)
    b, c, h, w = x.shape
    p = patch_size
    x = x.reshape(b, c, h // p, p, w // p, p)
    x = x.permute(0, 2, 4, 3, 5, 1)  # B, rows, cols, p, p, C
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def unpatchify(tokens: torch.Tensor, patch_size: int, height: int, width: int) -> torch.Tensor:
    """Inverse of `patchify`: (B, N, p*p*C) -> (B, C, H, W), or (B, H, W) when C = 1."""
    b, _, d = tokens.shape
    p = patch_size
    c = d // (p * p)
    x = tokens.reshape(b, height // p, width // p, p, p, c)
    x = x.permute(0, 5, 1, 3, 2, 4).reshape(b, c, height, width)
    return x.squeeze(1) if c == 1 else x


# --- Positional encodings (report section 7.3) -----------------------------------------------


def sincos_2d(grid_h: int, grid_w: int, dim: int) -> torch.Tensor:
    """Fixed 2D sine-cosine encoding (N, dim): half the channels encode the row, half the column.

    Each half is the 1D transformer encoding sin/cos(pos / 10000^(2i/d)) of its coordinate, so two
    patches with equal values but different positions always receive different vectors.
    """
    if dim % 4 != 0:
        raise ValueError(
            f"model.dim must be divisible by 4 for sincos position encoding, got {dim}"
        )
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    rows, cols = torch.meshgrid(
        torch.arange(grid_h, dtype=torch.float64),
        torch.arange(grid_w, dtype=torch.float64),
        indexing="ij",
    )
    parts = []
    for coord in (rows.flatten(), cols.flatten()):
        angles = coord[:, None] * omega[None, :]
        parts += [torch.sin(angles), torch.cos(angles)]
    return torch.cat(parts, dim=1).float()


class PositionalEncoding(nn.Module):
    """Adds one vector per patch position: `learned` (trained), `sincos` (fixed) or `none`."""

    def __init__(self, kind: str, num_tokens: int, grid: tuple[int, int], dim: int):
        super().__init__()
        if kind not in POS_EMBEDDINGS:
            raise ValueError(f"model.pos_embedding must be one of {POS_EMBEDDINGS}, got {kind!r}")
        self.kind = kind
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(1, num_tokens, dim) * 0.02)
        elif kind == "sincos":
            self.register_buffer("table", sincos_2d(*grid, dim).unsqueeze(0), persistent=False)
        else:
            self.table = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.table is None else x + self.table


# --- Multi-head self-attention (report sections 3, 4 and 6) ----------------------------------


class MultiHeadSelfAttention(nn.Module):
    """Q, K, V projections, scaled dot-product scores, softmax over keys, weighted sum of V.

    `attention="manual"` writes every step out as the report explains it and can return the
    attention weights; `attention="sdpa"` calls torch's fused kernel for speed. Both compute the
    same function with the same parameters (tests/unit/test_attention.py checks it). The Q, K and V
    weights of all heads live in one (3*dim, dim) matrix, the layout of nn.MultiheadAttention.
    No default here: a model's is ModelSettings.attention (models/settings.py), its only one.
    """

    def __init__(self, dim: int, heads: int, attention: str):
        super().__init__()
        if dim % heads != 0:
            raise ValueError(f"model.dim ({dim}) must be divisible by model.heads ({heads})")
        if attention not in ATTENTIONS:
            raise ValueError(f"model.attention must be one of {ATTENTIONS}, got {attention!r}")
        self.heads = heads
        self.head_dim = dim // heads  # d_k
        self.attention = attention
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor | None = None,
        return_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, N, dim). key_mask: (B, N) bool, True = this token may be attended to.

        Returns the output (B, N, dim) and, with return_weights, the weights (B, heads, N, N).
        """
        b, n, dim = x.shape
        # One matmul gives Q, K and V of every head: (B, N, 3, heads, d_k) -> 3 x (B, heads, N, d_k)
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)

        if self.attention == "sdpa" and not return_weights:
            attn_mask = None if key_mask is None else key_mask[:, None, None, :]
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
            weights = None
        else:
            # score(i, j) = Q_i . K_j / sqrt(d_k): the scaling keeps the softmax from saturating
            # as d_k grows (the report prints d_v here; it is the key dimension that matters).
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
            if key_mask is not None:
                # A score of -inf becomes a weight of exactly 0 after the softmax (section 6).
                scores = scores.masked_fill(~key_mask[:, None, None, :], float("-inf"))
            weights = scores.softmax(dim=-1)  # each row (one query) sums to 1 over the keys
            out = weights @ v  # V_i^new = sum_j weight(i, j) V_j

        # Concatenate the heads back into dim channels and mix them with one projection.
        out = out.transpose(1, 2).reshape(b, n, dim)
        return self.proj(out), (weights if return_weights else None)


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, attention: str):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadSelfAttention(dim, heads, attention)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x, key_mask=None, return_weights=False):
        attended, weights = self.attn(self.norm1(x), key_mask, return_weights)
        x = x + attended
        x = x + self.mlp(self.norm2(x))
        return x, weights


def init_weights(module: nn.Module) -> None:
    # Small, ViT-style initialisation: truncated-normal linear weights, zero biases.
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
