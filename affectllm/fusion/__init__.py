"""Fusion: pooling, pre-fusion, projector, and the splice into the LLM's embeddings."""

from affectllm.fusion.adapter import FUSED, FusionAdapter, Projector
from affectllm.fusion.pooling import AttentionPooling, QFormerPooling
from affectllm.fusion.prefusion import CrossPreFusion, MixPreFusion
from affectllm.fusion.splice import splice_media_tokens

__all__ = ["FUSED", "AttentionPooling", "CrossPreFusion", "FusionAdapter", "MixPreFusion", "Projector",
           "QFormerPooling", "splice_media_tokens"]
