"""Which 20-ms frames of a clip hold sound: the frames both voice feature families are read over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from affectllm.core.media_constants import SAMPLE_RATE

FRAME = 320  # samples per analysis frame (20 ms: one Whisper encoder frame)
SILENCE_BELOW_PEAK_DB = 35.0  # frames this far under the loudest frame are silence
SILENCE_FLOOR_DB = -75.0  # ... and so is anything under this level (quiet recordings peak near -55 dBFS)
MIN_SOUND_S = 0.4  # less sound than this is no voice to read (a click, a breath, a cut-off word)


@dataclass(frozen=True)
class SoundFrames:
    """Which 20-ms frames of a clip hold sound."""

    mask: np.ndarray  # (frames,) bool
    sound_s: float  # seconds of sound

    @property
    def enough(self) -> bool:
        return self.sound_s >= MIN_SOUND_S


def frame_loudness_db(audio: np.ndarray) -> np.ndarray:
    """audio (samples,) -> (frames,) RMS level in dBFS of consecutive 20-ms frames."""
    n = max(1, -(-audio.size // FRAME))
    padded = np.zeros(n * FRAME, dtype=np.float64)
    padded[:audio.size] = audio
    rms = np.sqrt(np.mean(padded.reshape(n, FRAME) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def sound_frames(audio: np.ndarray) -> SoundFrames:
    """The 20-ms frames within SILENCE_BELOW_PEAK_DB of the loudest one and above SILENCE_FLOOR_DB."""
    loud = frame_loudness_db(np.asarray(audio, dtype=np.float32))
    mask = loud > max(SILENCE_FLOOR_DB, float(loud.max()) - SILENCE_BELOW_PEAK_DB)
    return SoundFrames(mask, float(mask.sum()) * FRAME / SAMPLE_RATE)
