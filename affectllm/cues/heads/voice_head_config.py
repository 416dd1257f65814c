"""How the voice head trains, as data: torch-free, so `affectllm train-voice-head --help` and every other
command's parser can show the defaults without importing torch (``affectllm.cues.heads.voice_head_training`` trains,
``affectllm.cues.heads.voice_features`` computes the features)."""

from __future__ import annotations

from dataclasses import dataclass

FEATURE_SETS = ("whisper", "prosody", "both")  # Whisper encoder layers, prosodic/spectral statistics, or both


@dataclass(frozen=True)
class VoiceTraining:
    """How the head trains (defaults: the shipped head's settings, chosen by speaker folds over RAVDESS 01-12)."""

    features: str = "both"
    seed: int = 0
    epochs: int = 30
    hidden: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 32
    dropout: float = 0.3
    input_dropout: float = 0.5
    folds: int = 6  # speaker folds for the temperature and the fold scores (0: none)
