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
