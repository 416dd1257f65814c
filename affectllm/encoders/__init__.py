"""Frozen encoders, one per modality, loaded with `from_pretrained` from a local folder or hub id."""

from __future__ import annotations

from typing import Any

import torch

from affectllm.config.schema import ModelConfig
from affectllm.encoders.base import MediaEncoder
from affectllm.core.media_constants import MODALITIES


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


def encode_batch(encoders: dict[str, MediaEncoder], media: list[dict[str, Any]]) -> list[dict[str, torch.Tensor]]:
    """Run each encoder once over every sample that carries its modality.

    ``media`` holds one {modality: frames / waveform / subtitle} dict per sample; returns,
    per sample, {modality: features (T, D)} trimmed to the real positions, on the CPU."""
    out: list[dict[str, torch.Tensor]] = [{} for _ in media]
    for m, enc in encoders.items():
        rows = [i for i, item in enumerate(media) if m in item]
        if not rows:
            continue
        seq, mask = enc(enc.preprocess([media[i][m] for i in rows]))
        for j, i in enumerate(rows):
            out[i][m] = seq[j, : int(mask[j].sum())].contiguous().cpu()
    return out


__all__ = ["MODALITIES", "MediaEncoder", "build_encoders", "encode_batch"]
