"""A small emotion manifest with real media files, for smoke runs and tests.

The answer depends on both modalities: the tone's pitch band and the clip's colour
pick one of four emotion words, so the adapter has to learn from audio and video.
Each clip is also rated on a 1..5 scale (``vad``): arousal rises with the tone's pitch,
valence is low for red clips and high for blue ones (for a dimensional head).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

EMOTIONS = {("high", "red"): "angry", ("high", "blue"): "surprised",
            ("low", "red"): "frustrated", ("low", "blue"): "sad"}
QUESTION = "<video><audio>What is the speaker feeling?"


def write_smoke_manifest(out: str | Path, num_samples: int = 32, seed: int = 0, seconds: float = 1.0,
                         size: int = 32, fps: int = 4) -> Path:
    """Write ``num_samples`` tone-and-colour clips under OUT/clips and OUT/train.jsonl; returns the manifest."""
    from tqdm.auto import tqdm

    from affectllm.core.dimensions import rated_fields
    from affectllm.media.synthetic import write_tone_clip

    out = Path(out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    keys = list(EMOTIONS)
    lines = []
    for i in tqdm(range(num_samples), desc="writing clips", leave=False):
        pitch, colour = keys[i % len(keys)]
        freq = rng.uniform(180, 320) if pitch == "low" else rng.uniform(650, 900)
        shade = rng.randint(170, 230)
        rgb = (shade, rng.randint(0, 50), rng.randint(0, 50)) if colour == "red" else \
              (rng.randint(0, 50), rng.randint(0, 50), shade)
        clip = f"clips/clip_{i:04d}.mp4"
        if not (out / clip).exists():
            write_tone_clip(out / clip, freq, "0x%02x%02x%02x" % rgb, seconds=seconds, size=size, fps=fps)
        emotion = EMOTIONS[(pitch, colour)]
        arousal = 1 + 4 * math.log(freq / 180) / math.log(900 / 180)
        valence = (1 if colour == "red" else 4) + (shade - 170) / 60
        lines.append({"id": f"smoke_{i:04d}", "videos": [clip], "emotions": [emotion],
                      "messages": [{"role": "user", "content": QUESTION},
                                   {"role": "assistant", "content": f"The speaker seems {emotion}.", "loss": True}],
                      **rated_fields({"valence": round(valence, 3), "arousal": round(arousal, 3)}, (1, 5))})
    manifest = out / "train.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return manifest
