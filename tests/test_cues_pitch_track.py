"""Our pYIN is librosa's pYIN, number for number, without librosa: the voice head was trained on librosa's
tracks, and a cold caption must not pay for importing librosa, scipy and numba."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from affectllm.cues.extractors.pitch_track import pyin

SR = 16000
RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess"
# (fmax, hop): the prosody cues' setting and the voice head's
SETTINGS = [(500.0, 640), (800.0, 320)]


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(3 * SR) / SR
    pitch = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)  # a slow glide, as speech moves
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2
    voice[SR:SR + SR // 2] = 0  # a pause
    return {
        "glide with a pause and noise": (voice + 0.005 * rng.standard_normal(t.size)).astype(np.float32),
        "noise": (0.1 * rng.standard_normal(SR)).astype(np.float32),
        "short": (0.3 * np.sin(2 * np.pi * 220 * np.arange(1100) / SR)).astype(np.float32),
        "silence": np.zeros(SR, dtype=np.float32),
    }


def _same_as_librosa(y: np.ndarray, fmax: float, hop: int) -> None:
    import librosa

    f0_ref, voiced_ref, _ = librosa.pyin(y, fmin=65.0, fmax=fmax, sr=SR, frame_length=1024, hop_length=hop,
                                         center=True)
    f0, voiced = pyin(y, 65.0, fmax, SR, 1024, hop)
    assert np.array_equal(voiced, voiced_ref)
    assert np.array_equal(f0, f0_ref, equal_nan=True)


@pytest.mark.parametrize("fmax,hop", SETTINGS)
@pytest.mark.parametrize("name", list(_signals()))
def test_pyin_equals_librosa_on_synthetic_sound(name, fmax, hop):
    _same_as_librosa(_signals()[name], fmax, hop)


def test_the_glide_is_tracked():
    f0, voiced = pyin(_signals()["glide with a pause and noise"], 65.0, 500.0, SR, 1024, 320)
    t = np.arange(f0.size) * 320 / SR
    assert not voiced[(t > 1.1) & (t < 1.4)].any()  # the pause
    truth = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    near = voiced & ((t < 0.9) | (t > 1.6)) & (t < 2.9)
    assert near.mean() > 0.5
    assert np.median(np.abs(12 * np.log2(f0[near] / truth[near]))) < 0.3  # semitones


@pytest.mark.skipif(not RAVDESS.is_dir(), reason="needs RAVDESS speech beside the checkout (../shared/data/ravdess)")
def test_pyin_equals_librosa_on_real_speech():
    from affectllm.media import load_clip

    files = sorted(RAVDESS.glob("Actor_*/*.flac"))[::97][:8]
    assert files
    for f in files:
        y = load_clip(str(f), num_frames=0).audio
        for fmax, hop in SETTINGS:
            _same_as_librosa(y, fmax, hop)


PROBE = """
import json, sys
import numpy as np
from affectllm.cues.extractors.voice import prosody_cues
from affectllm.cues.heads.voice_features import VoiceFeatures
t = np.arange(32000) / 16000
y = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
assert prosody_cues(y)["present"]
assert VoiceFeatures("prosody")(y)[0].any()
print(json.dumps(sorted(m for m in ("librosa", "scipy", "numba") if m in sys.modules)))
"""


def test_the_voice_cues_import_no_librosa_scipy_or_numba():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout) == []
