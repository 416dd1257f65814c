"""Cross-modal pre-fusion: mix the present modalities *before* the LLM into K fused tokens.

Every pre-fusion takes the same input, :class:`Streams` (each modality's projected sequence
and pooled tokens, scattered to batch rows), and returns (n_any, K, D) for the rows that
carry at least one modality; each reads what its method needs from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from affectllm.fusion.pooling import QFormerPooling


@dataclass
class Stream:
    """One modality after its projection and pooling: seq (n, T, D), mask (n, T), pooled (n, Q, D), and the
    batch rows (n,) they belong to."""

    seq: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor
    rows: torch.Tensor

    @property
    def pooled_mean(self) -> torch.Tensor:
        """The pooled tokens averaged: (n, D)."""
        return self.pooled.mean(dim=1)


@dataclass
class Streams:
    """The encoded modalities of one batch, in the adapter's fixed modality order (``None``: absent from the
    batch). ``present`` (B, M) marks which row carries which modality; ``rows`` (n_any,) the rows with any."""

    streams: list[Stream | None]
    present: torch.Tensor
    rows: torch.Tensor

    @classmethod
    def gather(cls, streams: list[Stream | None], batch_size: int, device: torch.device) -> "Streams":
        present = torch.zeros(batch_size, len(streams), dtype=torch.bool, device=device)
        for j, stream in enumerate(streams):
            if stream is not None:
                present[stream.rows, j] = True
        return cls(streams, present, present.any(dim=1).nonzero().squeeze(1))

    def scattered(self, field: str, like: torch.Tensor) -> torch.Tensor:
        """``field`` of every stream placed at its batch rows: (B, M, ...) zeros where a modality is absent
        (``like`` gives the trailing shape, dtype and device)."""
        out = like.new_zeros((self.present.shape[0], len(self.streams), *like.shape[1:]))
        for j, stream in enumerate(self.streams):
            if stream is not None:
                out[stream.rows, j] = getattr(stream, field)
        return out


class MixPreFusion(nn.Module):
    """AffectGPT's "multi" token: each present modality's pooled tokens are averaged
    into one vector, a learned score weighs the modalities (softmax over those present),
    and the weighted sum is expanded into K tokens.

    pooled (n_any, M, D) with present (n_any, M) → (n_any, K, D)."""

    def __init__(self, dim: int, num_tokens: int):
        super().__init__()
        self.num_tokens = num_tokens
        self.score = nn.Linear(dim, 1)
        self.expand = nn.Linear(dim, num_tokens * dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, streams: Streams) -> torch.Tensor:
        like = next(s.pooled_mean for s in streams.streams if s is not None)  # (n, D)
        pooled = streams.scattered("pooled_mean", like)[streams.rows]  # (n_any, M, D)
        present = streams.present[streams.rows]
        scores = self.score(pooled).squeeze(-1).masked_fill(~present, torch.finfo(pooled.dtype).min)
        weights = scores.softmax(dim=-1).unsqueeze(-1)
        mixed = (weights * pooled).sum(dim=1)  # (n_any, D)
        n, d = mixed.shape
        return self.norm(self.expand(mixed).view(n, self.num_tokens, d))


class CrossPreFusion(nn.Module):
    """K learned queries cross-attend to the concatenated sequences of every present
    modality (each already tagged with its learned modality embedding): a Q-Former over
    all modalities at once.

    seqs (n_any, S, D) with their mask (n_any, S) → (n_any, K, D)."""

    def __init__(self, dim: int, num_tokens: int, heads: int, layers: int = 2):
        super().__init__()
        self.num_tokens = num_tokens
        self.attend = QFormerPooling(dim, num_tokens, heads, layers)

    def forward(self, streams: Streams) -> torch.Tensor:
        batch = streams.present.shape[0]
        seqs, masks = [], []
        for stream in streams.streams:
            if stream is None:
                continue
            full = stream.seq.new_zeros((batch, *stream.seq.shape[1:]))
            full_mask = stream.mask.new_zeros((batch, stream.mask.shape[1]))
            full[stream.rows], full_mask[stream.rows] = stream.seq, stream.mask
            seqs.append(full)
            masks.append(full_mask)
        return self.attend(torch.cat(seqs, dim=1)[streams.rows], torch.cat(masks, dim=1)[streams.rows])
