"""A multimodal task whose answer needs both the audio and the frames.

The emotion word is fixed by (tone pitch band) × (dominant colour): neither modality
alone beats 50 % accuracy, both together reach 100 %.
"""

from __future__ import annotations

import numpy as np

from affectllm.media import MediaClip
from affectllm.media.synthetic import tone

EMOTIONS = {("high", "red"): "angry", ("high", "blue"): "surprised",
            ("low", "red"): "frustrated", ("low", "blue"): "sad"}
QUESTION = "<video><audio>Which emotion is shown?"


def make_sample(rng: np.random.Generator, pitch: str, colour: str, idx: int) -> dict:
    freq = rng.uniform(180, 320) if pitch == "low" else rng.uniform(650, 900)
    audio = tone(freq, seconds=1.0, amplitude=rng.uniform(0.3, 0.7))
    frames = rng.integers(0, 60, size=(4, 32, 32, 3)).astype(np.int16)
    channel = 0 if colour == "red" else 2
    frames[..., channel] += rng.integers(150, 195)
    clip = MediaClip.from_arrays(frames=np.clip(frames, 0, 255).astype(np.uint8), audio=audio, fps=4.0)
    label = EMOTIONS[(pitch, colour)]
    return {"id": f"syn{idx}", "clip": clip, "label": label,
            "messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": label}]}


def make_split(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    keys = list(EMOTIONS)
    return [make_sample(rng, *keys[i % len(keys)], idx=i) for i in range(n)]


# ----------------------------------------------------------------------------- dimensional ratings

RATING_SCALE = [1, 5]
RATED_QUESTION = "<video><audio>How does the speaker feel?"


def make_rated_sample(rng: np.random.Generator, idx: int) -> dict:
    """A clip rated on 1..5: arousal rises with the tone's pitch (log scale, 200..900 Hz), valence falls with the
    share of red in the frames (blue is pleasant); both drawn uniformly, independently of each other."""
    pitch, red = rng.uniform(0, 1), rng.uniform(0, 1)
    audio = tone(200 * (900 / 200) ** pitch, seconds=1.0, amplitude=rng.uniform(0.3, 0.7))
    frames = rng.integers(0, 60, size=(4, 32, 32, 3)).astype(np.int16)
    frames[..., 0] += int(180 * red)
    frames[..., 2] += int(180 * (1 - red))
    clip = MediaClip.from_arrays(frames=np.clip(frames, 0, 255).astype(np.uint8), audio=audio, fps=4.0)
    lo, hi = RATING_SCALE
    return {"id": f"rated{idx}", "clip": clip,
            "vad": {"valence": lo + (hi - lo) * (1 - red), "arousal": lo + (hi - lo) * pitch},
            "vad_scale": {"valence": RATING_SCALE, "arousal": RATING_SCALE},
            "messages": [{"role": "user", "content": RATED_QUESTION}, {"role": "assistant", "content": "calm"}]}


def make_rated_split(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [make_rated_sample(rng, i) for i in range(n)]
