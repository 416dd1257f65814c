"""Find out what a media file holds before decoding it, and fail with one clear line."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from affectllm.errors import MediaError
from affectllm.media.constants import IMAGE_EXTENSIONS


@dataclass(frozen=True)
class MediaInfo:
    path: str
    has_video: bool
    has_audio: bool
    is_image: bool
    duration: float  # seconds; 0.0 for images
    fps: float  # frames per second of the video stream; 0.0 when none


def _ffprobe() -> str:
    exe = shutil.which("ffprobe")
    if exe is None:
        raise MediaError("ffprobe not found: install ffmpeg (e.g. `apt-get install ffmpeg`, or `make install`)")
    return exe


def check_file(path: str | Path) -> Path:
    """Raise MediaError unless ``path`` is an existing, non-empty file."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: file not found")
    if not p.is_file():
        raise MediaError(f"{p}: not a file")
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: file is empty (0 bytes)")
    return p


def _rate(text: str | None) -> float:
    if not text or text in ("0/0", "N/A"):
        return 0.0
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den) if float(den) else 0.0
    return float(text)


def probe_media(path: str | Path) -> MediaInfo:
    """Streams and duration of a media file via ffprobe.

    Raises MediaError for a missing, empty, truncated or non-media file.
    """
    p = check_file(path)
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        from PIL import Image

        try:
            with Image.open(p) as im:
                im.verify()
        except Exception as err:  # PIL raises many types for broken images
            raise MediaError(f"{p}: not a readable image ({type(err).__name__})") from None
        return MediaInfo(str(p), has_video=True, has_audio=False, is_image=True, duration=0.0, fps=0.0)
    cmd = [_ffprobe(), "-v", "error", "-show_entries",
           "stream=codec_type,avg_frame_rate,r_frame_rate,duration,nb_frames:format=duration",
           "-of", "json", str(p)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["unreadable"])[-1]
        reason = reason.replace(str(p), "").strip(" :")
        raise MediaError(f"{p}: not a readable media file ({reason})")
    info = json.loads(proc.stdout or "{}")
    streams = info.get("streams", [])
    video = [s for s in streams if s.get("codec_type") == "video"]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video and not audio:
        raise MediaError(f"{p}: no audio or video stream found")
    duration = float(info.get("format", {}).get("duration") or 0.0)
    if duration <= 0:
        duration = max((float(s.get("duration") or 0.0) for s in streams), default=0.0)
    fps = _rate(video[0].get("avg_frame_rate")) or _rate(video[0].get("r_frame_rate")) if video else 0.0
    return MediaInfo(str(p), has_video=bool(video), has_audio=bool(audio), is_image=False,
                     duration=duration, fps=fps)
