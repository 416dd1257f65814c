"""Fusion: pooling, pre-fusion, projector, and the splice into the LLM's embeddings."""

from affectllm.fusion.adapter import FUSED, Fused, FusionAdapter, Projector
from affectllm.fusion.pooling import AttentionPooling, QFormerPooling
from affectllm.fusion.prefusion import CrossPreFusion, MixPreFusion
from affectllm.fusion.splice import splice_media_tokens
from affectllm.fusion.vad_head import VadHead, ccc_loss

__all__ = ["FUSED", "AttentionPooling", "CrossPreFusion", "Fused", "FusionAdapter", "MixPreFusion", "Projector",
           "QFormerPooling", "VadHead", "ccc_loss", "splice_media_tokens"]
