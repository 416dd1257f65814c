"""Every hidden layer of the bundled Whisper encoder, run in torch from the CTranslate2 weights.

CTranslate2's ``model.model.encode`` returns only the encoder's last layer
(after its final layer norm). The middle layers carry more of how something is
said (pitch, voice quality) and less of what is said, so the voice head reads
them all: this module reads the encoder weights from the same ``model.bin``
and runs the same network in float32.

The network is Whisper's encoder as the paper describes it (Radford et al.
2022, "Robust Speech Recognition via Large-Scale Weak Supervision"): two 1-D
convolutions with GELU (the second with stride 2: 3000 mel frames of 10 ms ->
1500 encoder frames of 20 ms), the sinusoidal position encodings, then
pre-layer-norm transformer blocks (self-attention, a 4x GELU MLP) and a final
layer norm. ``model.bin`` is read by ``affectllm.bundled.whisper_ct2``, which owns CTranslate2's
serialisation.

    layers = whisper_layers()                     # loaded once per process
    hidden = layers(log_mel_30s(audio)[None])     # (layers + 1, 1, 1500, 384): conv output, block 1..n
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectllm.core.errors import AffectLLMError
from affectllm.core.media_constants import SAMPLE_RATE
from affectllm.cues.load_once import load_once

WINDOW_S = 30  # Whisper reads 30-s windows; a shorter clip is padded with silence, as in training
FRAME_S = 0.02  # s per encoder frame


def encoder_variables(path: str | Path) -> dict[str, np.ndarray]:
    """The encoder's variables of a CTranslate2 Whisper ``model.bin`` (``affectllm.bundled.whisper_ct2`` reads
    the file), named without their ``encoder/`` prefix."""
    from affectllm.bundled.whisper_ct2 import read_ctranslate2_model

    prefix = "encoder/"
    variables = read_ctranslate2_model(path).variables
    return {name[len(prefix):]: value for name, value in variables.items() if name.startswith(prefix)}


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.attn_norm, self.mlp_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attended = nn.functional.scaled_dot_product_attention(q, k, v)
        x = x + self.out(attended.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.mlp_norm(x))


class WhisperLayers(nn.Module):
    """log-mel (batch, mels, 3000) -> hidden states (layers + 1, batch, 1500, dim)."""

    def __init__(self, variables: dict[str, np.ndarray]):
        super().__init__()
        conv1, pos = variables["conv1/weight"], variables["position_encodings/encodings"]
        dim, mels = conv1.shape[0], conv1.shape[1]
        heads = int(variables["num_heads"])
        depth = len({k.split("/")[0] for k in variables if re.match(r"layer_\d+/", k)})
        self.conv1 = nn.Conv1d(mels, dim, 3, padding=1)
        self.conv2 = nn.Conv1d(dim, dim, 3, stride=2, padding=1)
        self.register_buffer("position", torch.zeros(pos.shape))
        self.blocks = nn.ModuleList(_Block(dim, heads) for _ in range(depth))
        self.final_norm = nn.LayerNorm(dim)
        self.load_state_dict(_state_dict(variables, depth))
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        gelu = nn.functional.gelu
        x = gelu(self.conv2(gelu(self.conv1(mel)))).transpose(1, 2) + self.position
        hidden = [x]
        for block in self.blocks:
            x = block(x)
            hidden.append(x)
        return torch.stack(hidden)

    @torch.no_grad()
    def last(self, mel: torch.Tensor) -> torch.Tensor:
        """(batch, 1500, dim): the encoder output as CTranslate2's ``encode`` gives it (final norm applied)."""
        return self.final_norm(self(mel)[-1])


def _state_dict(v: dict[str, np.ndarray], depth: int) -> dict[str, torch.Tensor]:
    """Our parameter names -> CTranslate2's variables, as float32 tensors."""
    names = {"conv1.weight": "conv1/weight", "conv1.bias": "conv1/bias", "conv2.weight": "conv2/weight",
             "conv2.bias": "conv2/bias", "position": "position_encodings/encodings",
             "final_norm.weight": "layer_norm/gamma", "final_norm.bias": "layer_norm/beta"}
    for i in range(depth):
        ours, theirs = f"blocks.{i}.", f"layer_{i}/"
        names.update({
            ours + "attn_norm.weight": theirs + "self_attention/layer_norm/gamma",
            ours + "attn_norm.bias": theirs + "self_attention/layer_norm/beta",
            ours + "qkv.weight": theirs + "self_attention/linear_0/weight",
            ours + "qkv.bias": theirs + "self_attention/linear_0/bias",
            ours + "out.weight": theirs + "self_attention/linear_1/weight",
            ours + "out.bias": theirs + "self_attention/linear_1/bias",
            ours + "mlp_norm.weight": theirs + "ffn/layer_norm/gamma",
            ours + "mlp_norm.bias": theirs + "ffn/layer_norm/beta",
            ours + "mlp.0.weight": theirs + "ffn/linear_0/weight",
            ours + "mlp.0.bias": theirs + "ffn/linear_0/bias",
            ours + "mlp.2.weight": theirs + "ffn/linear_1/weight",
            ours + "mlp.2.bias": theirs + "ffn/linear_1/bias",
        })
    missing = [theirs for theirs in names.values() if theirs not in v]
    if missing:
        raise AffectLLMError(f"Whisper encoder weights lack {', '.join(missing[:3])}; not a CTranslate2 Whisper model")
    return {ours: torch.from_numpy(v[theirs].astype(np.float32)) for ours, theirs in names.items()}


def log_mel_30s(audio: np.ndarray) -> torch.Tensor:
    """audio (samples,) float32 at SAMPLE_RATE -> Whisper's log-mel (80, 3000) of the first 30 s.

    The clip is padded with silence to 30 s before the spectrogram, as Whisper was trained (so the
    padding frames look like silence, not like zeros of the normalised spectrogram).
    """
    from faster_whisper.feature_extractor import FeatureExtractor

    n = WINDOW_S * SAMPLE_RATE
    audio = np.asarray(audio, dtype=np.float32)[:n]
    padded = np.zeros(n, dtype=np.float32)
    padded[:audio.size] = audio
    mel = _feature_extractor(FeatureExtractor)(padded)
    return torch.from_numpy(np.ascontiguousarray(mel[:, :n // 160], dtype=np.float32))


@lru_cache(maxsize=1)
def _feature_extractor(cls):
    return cls(feature_size=80)


@load_once
def whisper_layers(path: str | None = None) -> WhisperLayers:
    """The encoder of the Whisper model folder ``path`` (default: the bundled tiny.en), loaded once per process
    (a caller that comes while a background thread loads it waits for that load)."""
    from affectllm.bundled.packages import whisper_model_dir

    folder = Path(path) if path else whisper_model_dir()
    if not (folder / "model.bin").is_file():
        raise AffectLLMError(f"{folder}: not a faster-whisper model folder (no model.bin)")
    return WhisperLayers(encoder_variables(folder / "model.bin"))
