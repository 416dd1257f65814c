"""Encoder outputs → LLM-sized tokens: per-modality projection and pooling, pre-fusion, projector.

The dimensional head (``model.vad_head``) lives here too, so its weights travel with the
other trained adapter weights (``fusion.safetensors``, ZeRO gathers, exports).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from affectllm.config.schema import ModelConfig
from affectllm.fusion.pooling import AttentionPooling, QFormerPooling
from affectllm.fusion.prefusion import CrossPreFusion, MixPreFusion, Stream, Streams
from affectllm.fusion.vad_head import VadHead
from affectllm.core.media_constants import MODALITIES

FUSED = "fused"


@dataclass
class Fused:
    """What one fusion pass gives: LLM-sized token rows per modality (and "fused"), in batch order, and
    the pre-fusion's fused tokens before the projector, (n_any, K, d), for the rows in ``fused_rows`` (n_any,)."""

    tokens: dict[str, torch.Tensor]
    fused: torch.Tensor | None = None
    fused_rows: torch.Tensor | None = None


class Projector(nn.Module):
    """Two-layer GELU MLP into the LLM hidden size (LLaVA-1.5's mlp2x_gelu)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FusionAdapter(nn.Module):
    """Everything trainable between the frozen encoders and the LLM.

    ``forward(encoded, batch_size)`` takes, per modality, the encoder sequence
    (n, T, D_enc), its mask (n, T) and the batch rows it belongs to (n,), and returns
    per modality (and "fused") the LLM-sized token rows (n × tokens, H) in batch
    order — exactly what :func:`splice_media_tokens` consumes.
    """

    def __init__(self, cfg: ModelConfig, encoder_dims: dict[str, int], llm_hidden: int):
        super().__init__()
        d = cfg.fusion_dim
        self.modalities = [m for m in MODALITIES if m in encoder_dims]
        self.in_proj = nn.ModuleDict({m: nn.Linear(encoder_dims[m], d) for m in self.modalities})
        self.modality_embed = nn.ParameterDict({m: nn.Parameter(torch.zeros(d)) for m in self.modalities})
        if cfg.pooling == "attention":
            self.pool = nn.ModuleDict({m: AttentionPooling(d) for m in self.modalities})
        else:
            self.pool = nn.ModuleDict({m: QFormerPooling(d, cfg.num_queries, cfg.fusion_heads)
                                       for m in self.modalities})
        if cfg.prefusion == "mix":
            self.prefusion: MixPreFusion | CrossPreFusion | None = MixPreFusion(d, cfg.num_fused_tokens)
        elif cfg.prefusion == "cross":
            self.prefusion = CrossPreFusion(d, cfg.num_fused_tokens, cfg.fusion_heads)
        else:
            self.prefusion = None
        self.projector = Projector(d, llm_hidden)
        head = cfg.vad_head
        self.vad_head = None if head is None else VadHead(d if head.source == "fused" else llm_hidden, head.hidden,
                                                           head.dims)

    @property
    def tokens_per_modality(self) -> dict[str, int]:
        counts = {m: self.pool[m].num_tokens for m in self.modalities}
        if self.prefusion is not None:
            counts[FUSED] = self.prefusion.num_tokens
        return counts

    def forward(self, encoded: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                batch_size: int) -> dict[str, torch.Tensor]:
        return self.fuse(encoded, batch_size).tokens

    def fuse(self, encoded: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]], batch_size: int) -> Fused:
        """The tokens of ``forward`` plus the pre-projector fused tokens the dimensional head reads."""
        out: dict[str, torch.Tensor] = {}
        param = self.projector.net[0].weight
        streams: list[Stream | None] = []
        for m in self.modalities:
            if m not in encoded:
                streams.append(None)
                continue
            seq, mask, rows = encoded[m]
            seq = self.in_proj[m](seq.to(param.dtype)) + self.modality_embed[m]  # (n, T, d)
            pooled = self.pool[m](seq, mask)  # (n, Q, d)
            out[m] = self.projector(pooled).flatten(0, 1)
            streams.append(Stream(seq, mask, pooled, rows.to(param.device)))
        if self.prefusion is None:
            return Fused(out)
        gathered = Streams.gather(streams, batch_size, param.device)
        if not len(gathered.rows):
            return Fused(out)
        fused = self.prefusion(gathered)  # (n_any, K, d)
        out[FUSED] = self.projector(fused).flatten(0, 1)
        return Fused(out, fused, gathered.rows)
