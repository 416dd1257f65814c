"""What the voice head reads in a clip: frozen audio features that do not depend on the words.

Two families, each computed over the frames that hold sound (the clip's
silence and Whisper's padding are left out):

- ``whisper``: the bundled Whisper tiny.en encoder (``affectllm.cues.heads.whisper_layers``),
  every hidden layer (the convolution output and each block) averaged over
  the sounding 20-ms frames, plus their standard deviation over the same frames;
- ``prosody``: pitch, loudness, timing, voice quality and spectral-envelope
  statistics (``affectllm.cues.heads.voice_prosody``), pitch and loudness taken relative to the clip's
  own median or peak where an absolute level would mostly say who is speaking.

``both`` concatenates them. The head file records which set it was trained on.
"""

from __future__ import annotations

import numpy as np
import torch

from affectllm.cues.heads.voice_head_config import FEATURE_SETS
from affectllm.core.media_constants import SAMPLE_RATE
from affectllm.cues.extractors.sound_frames import SoundFrames, sound_frames

MAX_SECONDS = 30.0  # Whisper's window: a longer clip is read over its first 30 s
POOLS = ("mean", "std")


def whisper_statistics(audio: np.ndarray, frames: SoundFrames, whisper: str | None = None) -> np.ndarray:
    """audio (samples,) -> (layers + 1) x 2 x dim floats: per hidden layer, mean then std over the sounding frames."""
    from affectllm.cues.heads.whisper_layers import log_mel_30s, whisper_layers

    layers = whisper_layers(whisper)
    hidden = layers(log_mel_30s(audio)[None])[:, 0]  # (layers + 1, 1500, dim)
    mask = torch.from_numpy(frames.mask[:hidden.shape[1]])
    if not mask.any():
        mask = torch.ones(1, dtype=torch.bool)  # no sound: read the first frame rather than nothing
    picked = hidden[:, :mask.numel()][:, mask]  # (layers + 1, sounding frames, dim)
    mean = picked.mean(1)
    std = picked.std(1, unbiased=False)
    return torch.stack([mean, std], 1).reshape(-1).numpy().astype(np.float32)


class VoiceFeatures:
    """One feature set: ``features(audio) -> (dim,)`` float32, and the sound frames it read."""

    def __init__(self, feature_set: str = "both", whisper: str | None = None):
        from affectllm.core.errors import AffectLLMError

        if feature_set not in FEATURE_SETS:
            raise AffectLLMError(f"voice feature set {feature_set!r} is not one of {', '.join(FEATURE_SETS)}")
        self.feature_set, self.whisper = feature_set, whisper

    def load(self) -> None:
        """Load the encoder these features read now rather than at the first clip."""
        if self.feature_set in ("whisper", "both"):
            from affectllm.cues.heads.whisper_layers import whisper_layers

            whisper_layers(self.whisper)

    def __call__(self, audio: np.ndarray) -> tuple[np.ndarray, SoundFrames]:
        from affectllm.cues.heads.voice_prosody import prosody_statistics

        audio = np.asarray(audio, dtype=np.float32)[:int(MAX_SECONDS * SAMPLE_RATE)]
        frames = sound_frames(audio)
        parts = []
        if self.feature_set in ("whisper", "both"):
            parts.append(whisper_statistics(audio, frames, self.whisper))
        if self.feature_set in ("prosody", "both"):
            parts.append(prosody_statistics(audio, frames))
        return np.concatenate(parts).astype(np.float32), frames
