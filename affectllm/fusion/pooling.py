"""Per-modality temporal pooling: encoder sequence (N, T, D_enc) → a few tokens (N, Q, D)."""

from __future__ import annotations

import torch
from torch import nn


class AttentionPooling(nn.Module):
    """AffectGPT-style: a learned score per frame/chunk, softmax over real positions,
    weighted sum, projection. Emits one token: (N, T, D) → (N, 1, D)."""

    num_tokens = 1

    def __init__(self, dim: int):
        super().__init__()
        self.score = nn.Linear(dim, 1)
        self.proj = nn.Linear(dim, dim)

    def forward(self, seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = self.score(seq).squeeze(-1).masked_fill(~mask, torch.finfo(seq.dtype).min)
        weights = scores.softmax(dim=-1).unsqueeze(-1)  # (N, T, 1)
        return self.proj((weights * seq).sum(dim=1, keepdim=True))


class CrossAttentionBlock(nn.Module):
    """Queries attend to a key/value sequence, then a feed-forward; pre-norm residuals."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm_ff = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, queries: torch.Tensor, seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        kv = self.norm_kv(seq)
        attended, _ = self.attn(self.norm_q(queries), kv, kv, key_padding_mask=~mask, need_weights=False)
        queries = queries + attended
        return queries + self.ff(self.norm_ff(queries))


class QFormerPooling(nn.Module):
    """N learned queries cross-attending to the encoder sequence: (N, T, D) → (N, Q, D)."""

    def __init__(self, dim: int, num_queries: int, heads: int, layers: int = 1):
        super().__init__()
        self.num_tokens = num_queries
        self.queries = nn.Parameter(torch.randn(num_queries, dim) * dim ** -0.5)
        self.blocks = nn.ModuleList(CrossAttentionBlock(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)

    def forward(self, seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q = self.queries.unsqueeze(0).expand(seq.shape[0], -1, -1).to(seq.dtype)
        for block in self.blocks:
            q = block(q, seq, mask)
        return self.norm(q)
