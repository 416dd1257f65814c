"""How the text head trains, as data: torch-free, so `affectllm train-text-head --help` and every other
command's parser can show the defaults without importing torch (``affectllm.cues.heads.text_head_training`` trains)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HeadTraining:
    """How the head trains (defaults: the shipped head's settings, chosen on MELD dev)."""

    seed: int = 0
    epochs: int = 20
    hidden: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 64
    sentiment_weight: float = 0.5  # the sentiment loss's share beside the emotion loss
