"""affectllm sample-media DIR"""

from __future__ import annotations

import argparse

NAME = "sample-media"
HELP = "Write short sample clips (a real face clip with spoken words, a tone clip, an audio file) to try the tools on."

SAMPLE_SPEECH = "I am so tired of this. Nobody ever listens to me, and it makes me really angry."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="output folder")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from affectllm.media.synthetic import speak, write_face_clip, write_tone_clip

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_face_clip(out / "face_speech.mp4", SAMPLE_SPEECH, seconds=6.0, pitch=60, rate=165),
               write_tone_clip(out / "tone_red.mp4", 440.0, "red", seconds=2.0),
               speak(out / "speech.wav", "This is the best news I have heard all year!", pitch=70, rate=175)]
    for path in written:
        print(f"{path}  ({path.stat().st_size // 1024} KB)")
    return 0
