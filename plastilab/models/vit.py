"""A small Vision Transformer, written plainly.

Patches -> linear embedding + learned positions (+ a class token) -> ``depth`` pre-norm blocks
(x + attention(norm(x)), then x + mlp(norm(x))) -> final norm -> class token or mean over
patches -> ``head``. Without ``layer_norm`` every norm is an identity, so the option means the
same thing here as in the other architectures. Each block's MLP names its activation ``act``
so hooks see the hidden units.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def _norm(dim: int, layer_norm: bool) -> nn.Module:
    return nn.LayerNorm(dim) if layer_norm else nn.Identity()


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"vit: dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)  # (b, heads, n, d / heads)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int, layer_norm: bool) -> None:
        super().__init__()
        self.norm1 = _norm(dim, layer_norm)
        self.attn = Attention(dim, heads)
        self.norm2 = _norm(dim, layer_norm)
        self.mlp = FeedForward(dim, mlp_ratio * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(
        self,
        input_shape: Sequence[int],
        out_features: int,
        patch_size: int = 4,
        dim: int = 64,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: int = 2,
        pool: str = "cls",
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        channels, height, width = input_shape
        if height % patch_size or width % patch_size:
            raise ValueError(f"vit: image {height}×{width} is not divisible into {patch_size}×{patch_size} patches")
        if pool not in ("cls", "mean"):
            raise ValueError(f"vit: pool {pool!r}; allowed: 'cls', 'mean'")
        self.pool = pool
        n_patches = (height // patch_size) * (width // patch_size)
        # A strided conv is the patch embedding: one linear map of each non-overlapping patch.
        self.patch_embed = nn.Conv2d(channels, dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim)) if pool == "cls" else None
        n_tokens = n_patches + (1 if pool == "cls" else 0)
        self.pos_embed = nn.Parameter(torch.randn(1, n_tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*(Block(dim, heads, mlp_ratio, layer_norm) for _ in range(depth)))
        self.norm = _norm(dim, layer_norm)
        self.head = nn.Linear(dim, out_features)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)  # (b, patches, dim)
        if self.cls_token is not None:
            tokens = torch.cat([self.cls_token.expand(len(x), -1, -1), tokens], dim=1)
        tokens = self.norm(self.blocks(tokens + self.pos_embed))
        return tokens[:, 0] if self.pool == "cls" else tokens.mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
