"""Whisper encoder over 16 kHz mono audio."""

from __future__ import annotations

import math

import numpy as np
import torch

from affectllm.encoders.base import MediaEncoder
from affectllm.core.media_constants import SAMPLE_RATE, SAMPLES_PER_ENCODER_FRAME



class WhisperAudioEncoder(MediaEncoder):
    modality = "audio"

    def __init__(self, path: str, trainable: bool = False):
        from transformers import WhisperFeatureExtractor, WhisperModel

        full = WhisperModel.from_pretrained(path)
        encoder = full.get_encoder()
        del full  # the decoder is never used
        super().__init__(encoder, encoder.config.d_model, trainable)
        self.feature_extractor = WhisperFeatureExtractor.from_pretrained(path)
        self.max_samples = int(self.feature_extractor.n_samples)

    def preprocess(self, audios: list[np.ndarray]) -> dict[str, torch.Tensor]:
        """(samples,) float32 arrays → log-mel (N, mels, frames) padded to Whisper's window, and valid lengths."""
        clipped = [a[: self.max_samples] for a in audios]
        feats = self.feature_extractor(clipped, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        n_out = feats.shape[-1] // 2
        lengths = torch.tensor([max(1, min(n_out, math.ceil(len(a) / SAMPLES_PER_ENCODER_FRAME))) for a in clipped])
        return {"input_features": feats, "lengths": lengths}

    def encode(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.model(inputs["input_features"]).last_hidden_state  # (N, frames/2, D)
        lengths = inputs["lengths"].to(hidden.device)
        mask = torch.arange(hidden.shape[1], device=hidden.device)[None, :] < lengths[:, None]
        return hidden, mask
