"""Cross-modal pre-fusion: mix the present modalities *before* the LLM into K fused tokens."""

from __future__ import annotations

import torch
from torch import nn

from affectllm.fusion.pooling import QFormerPooling


class MixPreFusion(nn.Module):
    """AffectGPT's "multi" token: each present modality's pooled tokens are averaged
    into one vector, a learned score weighs the modalities (softmax over those present),
    and the weighted sum is expanded into K tokens.

    pooled (B, M, D) with present (B, M) → (B, K, D)."""

    def __init__(self, dim: int, num_tokens: int):
        super().__init__()
        self.num_tokens = num_tokens
        self.score = nn.Linear(dim, 1)
        self.expand = nn.Linear(dim, num_tokens * dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, pooled: torch.Tensor, present: torch.Tensor,
                seqs: torch.Tensor | None = None, seq_mask: torch.Tensor | None = None) -> torch.Tensor:
        scores = self.score(pooled).squeeze(-1).masked_fill(~present, torch.finfo(pooled.dtype).min)
        weights = scores.softmax(dim=-1).unsqueeze(-1)
        mixed = (weights * pooled).sum(dim=1)  # (B, D)
        b, d = mixed.shape
        return self.norm(self.expand(mixed).view(b, self.num_tokens, d))


class CrossPreFusion(nn.Module):
    """K learned queries cross-attend to the concatenated sequences of every present
    modality (each already tagged with its learned modality embedding): a Q-Former over
    all modalities at once.

    seqs (B, S, D) with seq_mask (B, S) → (B, K, D)."""

    def __init__(self, dim: int, num_tokens: int, heads: int, layers: int = 2):
        super().__init__()
        self.num_tokens = num_tokens
        self.attend = QFormerPooling(dim, num_tokens, heads, layers)

    def forward(self, pooled: torch.Tensor, present: torch.Tensor,
                seqs: torch.Tensor | None = None, seq_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.attend(seqs, seq_mask)
