"""Example inputs for the demo, generated on first start into a cache folder (the repository ships no media).

Video examples put espeak-ng speech over Debian's Megamind.avi face clip; the
audio example is speech alone; the text example is typed text. Each file is
written under a temporary name and renamed, so two demos starting at once
never see half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


OPENING_BLACK_S = 0.125  # s, the black frames Megamind.avi opens on (three at 24 fps)


@dataclass(frozen=True)
class Example:
    name: str
    kind: str  # "video", "audio" or "text"
    file: str | None = None  # file name inside the examples folder
    text: str = ""  # typed text (text examples) or the subtitle (media examples)
    speech: str = ""  # what the generated voice says
    seconds: float = 4.0
    pitch: int = 50  # espeak-ng pitch 0..99
    rate: int = 160  # words per minute


EXAMPLES = (
    Example("glad reunion", "video", "glad_reunion.mp4",
            speech="I am so happy to see you again. This is wonderful news!", seconds=4.0, pitch=70, rate=170),
    Example("a long day, then bad news", "video", "long_day.mp4", seconds=11.0, pitch=40, rate=150,
            speech="Today went really well, the team was great and I am proud of everyone. "
                   "But then the server crashed again. I am furious, this is a terrible disaster."),
    Example("worried voice", "audio", "worried_voice.wav", pitch=75, rate=125,
            speech="I don't know what will happen tomorrow. I am scared that something bad is coming."),
    Example("typed complaint", "text",
            text="I waited two hours and nobody called back. I'm really disappointed, and honestly a bit angry."),
)


def examples_dir() -> Path:
    """$AFFECTLLM_CACHE/demo_examples (default ~/.cache/affectllm/demo_examples)."""
    from affectllm.bundled.packages import cache_dir

    return cache_dir() / "demo_examples"


def _write(example: Example, target: Path) -> None:
    from affectllm.media.synthetic import _ffmpeg, speak, write_face_clip

    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        if example.kind == "video":
            raw = Path(tmp).with_name(Path(tmp).stem + ".raw" + target.suffix)
            try:
                write_face_clip(raw, example.speech, seconds=example.seconds + OPENING_BLACK_S, pitch=example.pitch,
                                rate=example.rate)
                # a player shows a clip's first frame until it plays: start on the face, not on the black lead-in
                _ffmpeg("-ss", f"{OPENING_BLACK_S}", "-i", str(raw), "-c:v", "libx264", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", tmp)
            finally:
                raw.unlink(missing_ok=True)
        else:
            speak(tmp, example.speech, pitch=example.pitch, rate=example.rate)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; an example is meant to be read
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def ensure_examples(folder: str | Path | None = None) -> tuple[Path, list[Example]]:
    """Make the missing example files in ``folder`` (default :func:`examples_dir`); returns (folder, examples).

    A machine without espeak-ng or opencv-doc still gets the demo: examples
    that cannot be made are left out (the text example always works).
    """
    from affectllm.core.errors import MediaError

    folder = Path(folder) if folder else examples_dir()
    folder.mkdir(parents=True, exist_ok=True)
    ready = []
    for ex in EXAMPLES:
        if ex.file is not None and not (folder / ex.file).exists():
            try:
                _write(ex, folder / ex.file)
            except MediaError as err:
                print(f"affectllm demo: example {ex.name!r} left out: {err}")
                continue
        ready.append(ex)
    return folder, ready
