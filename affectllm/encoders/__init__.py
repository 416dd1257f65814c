"""Frozen encoders, one per modality, loaded with `from_pretrained` from a local folder or hub id."""

from __future__ import annotations

from affectllm.config import ModelConfig
from affectllm.encoders.base import MediaEncoder

MODALITIES = ("video", "audio", "text")  # fixed order used everywhere


def build_encoders(cfg: ModelConfig) -> dict[str, MediaEncoder]:
    """The encoders a config asks for, keyed by modality (absent modalities are simply missing)."""
    from affectllm.encoders.audio import WhisperAudioEncoder
    from affectllm.encoders.text import TextEncoder
    from affectllm.encoders.vision import VisionTowerEncoder

    encoders: dict[str, MediaEncoder] = {}
    if cfg.vision_encoder:
        encoders["video"] = VisionTowerEncoder(cfg.vision_encoder, cfg.train_encoders)
    if cfg.audio_encoder:
        encoders["audio"] = WhisperAudioEncoder(cfg.audio_encoder, cfg.train_encoders)
    if cfg.text_encoder:
        encoders["text"] = TextEncoder(cfg.text_encoder, cfg.train_encoders, cfg.max_text_tokens)
    return encoders


__all__ = ["MODALITIES", "MediaEncoder", "build_encoders"]
