"""Real media files made on the spot: tones, coloured clips, espeak-ng speech, a face clip.

Tests, the sample clip of `make caption` and the demo's examples are made here, so
the repository ships no media.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from affectllm.core.errors import MediaError
from affectllm.core.media_constants import SAMPLE_RATE

MEGAMIND_CLIP = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")


def _run(cmd: list[str]) -> None:
    exe = shutil.which(cmd[0])
    if exe is None:
        raise MediaError(f"{cmd[0]} not found: install it (`make install` does)")
    proc = subprocess.run([exe, *cmd[1:]], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise MediaError(f"{cmd[0]} failed writing {cmd[-1]}: {tail}")


def _ffmpeg(*args: str) -> None:
    _run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args])


def tone(freq_hz: float, seconds: float, amplitude: float = 0.5, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A sine tone, (samples,) float32."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float audio as 16-bit PCM WAV."""
    import wave

    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return Path(path)


def write_tone_clip(path: str | Path, freq_hz: float | None = 440.0, colour: str = "red", seconds: float = 2.0,
                    size: int = 64, fps: int = 8) -> Path:
    """An mp4 of a solid ``colour`` (ffmpeg colour name or 0xRRGGBB) with a sine tone, or silent when freq_hz is None."""
    args = ["-f", "lavfi", "-i", f"color=c={colour}:s={size}x{size}:d={seconds}:r={fps}"]
    if freq_hz is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency={freq_hz}:duration={seconds}:sample_rate={SAMPLE_RATE}",
                 "-c:a", "aac", "-shortest"]
    _ffmpeg(*args, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))
    return Path(path)


def write_tone_audio(path: str | Path, freq_hz: float = 440.0, seconds: float = 2.0) -> Path:
    """An audio-only file (format from the suffix: .wav, .mp3, .m4a ...)."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency={freq_hz}:duration={seconds}:sample_rate={SAMPLE_RATE}", str(path))
    return Path(path)


def speak(path: str | Path, text: str, pitch: int = 50, rate: int = 160, voice: str = "en-us") -> Path:
    """espeak-ng speech to a WAV file (pitch 0..99, rate in words per minute)."""
    _run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(rate), "-w", str(path), text])
    return Path(path)


def write_face_clip(path: str | Path, speech_text: str | None = None, seconds: float = 4.0,
                    pitch: int = 50, rate: int = 160, face: str | Path = MEGAMIND_CLIP) -> Path:
    """A real face clip with optional espeak-ng speech as its audio. ``face`` is the footage: a video
    (default: Debian's opencv-doc Megamind.avi) or a still photograph (.png/.jpg), held for ``seconds``."""
    if not Path(face).exists():
        raise MediaError(f"{face}: not found; install Debian's opencv-doc (`make install` does) or pass another face")
    still = Path(face).suffix.lower() in (".png", ".jpg", ".jpeg")
    args = (["-loop", "1", "-framerate", "25"] if still else []) + ["-i", str(face)]
    if speech_text:
        wav = Path(path).with_suffix(".speech.wav")
        speak(wav, speech_text, pitch=pitch, rate=rate)
        args += ["-i", str(wav), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac"]
    _ffmpeg(*args, "-t", f"{seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-vf", "scale=-2:240", str(path))
    if speech_text:
        wav.unlink(missing_ok=True)
    return Path(path)


def write_broken_files(folder: str | Path, good_clip: str | Path) -> dict[str, Path]:
    """Bad inputs every loader must survive: zero-byte, truncated mp4, text renamed .mp4."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    data = Path(good_clip).read_bytes()
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(data[: max(1, len(data) // 3)])
    text = folder / "notes.mp4"
    text.write_text("this is not a video\n")
    return {"empty": empty, "truncated": truncated, "text": text}
