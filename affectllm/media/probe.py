"""Find out what a media file holds before decoding it, and fail with one clear line.

A media file is data from someone else, so only plain local files in real container formats
are decoded. ffmpeg's playlist and list demuxers (HLS ``#EXTM3U``, ``ffconcat``, DASH, IMF...)
open the other files and URLs a text file names — an upload could make the server read any
file it can — and protocols other than ``file`` reach beyond the file. Every ffprobe and
ffmpeg call therefore goes through :func:`ffmpeg_input` (a file-only protocol whitelist and a
demuxer whitelist), decord only ever opens a file ffprobe has accepted that way, and images
open with the formats in ``IMAGE_FORMATS`` only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from affectllm.core.errors import MediaError
from affectllm.core.media_constants import IMAGE_EXTENSIONS

# Demuxers of single-file containers (ffmpeg short names): a format outside this list is refused.
CONTAINER_DEMUXERS = ("mov", "matroska", "avi", "flv", "mpeg", "mpegts", "asf", "wav", "w64", "mp3", "flac", "ogg",
                      "aac", "aiff", "caf")
# Pillow plugins for still images (EPS, for one, would run Ghostscript on the file).
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "WEBP")
# The first bytes of text files that ffmpeg would follow to other files (playlists, file lists, manifests).
_LIST_SIGNATURES = {b"#EXTM3U": "an HLS playlist", b"ffconcat": "an ffconcat file list", b"<?xml": "an XML manifest",
                    b"<MPD": "a DASH manifest", b"file ": "a concat file list"}


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
    """Raise MediaError unless ``path`` is an existing, non-empty regular file that is not a playlist or list."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: file not found")
    if not p.is_file():
        raise MediaError(f"{p}: not a file")
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: file is empty (0 bytes)")
    with open(p, "rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    kind = next((what for sig, what in _LIST_SIGNATURES.items() if head.startswith(sig)), None)
    if kind is not None:
        raise MediaError(f"{p}: {kind}, not a media file; playlists and file lists are refused because they make the "
                         "decoder open other files — pass the media file itself")
    return p


def ffmpeg_input(p: Path) -> list[str]:
    """The ffmpeg/ffprobe arguments that open ``p`` as one plain local file in a container format we decode."""
    return ["-protocol_whitelist", "file", "-format_whitelist", ",".join(CONTAINER_DEMUXERS),
            "-i", f"file:{p.absolute()}"]


def decoder_reason(stderr: str, p: Path) -> str:
    """The last line ffmpeg wrote, without the path, or what a refused format means."""
    if "not on whitelist" in stderr:
        return ("its container format is not one affectllm decodes — playlists, file lists and other formats that "
                "open further files or URLs are refused")
    lines = stderr.strip().splitlines()
    return (lines[-1] if lines else "unreadable").replace(f"file:{p.absolute()}", "").replace(str(p), "").strip(" :")


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
            with Image.open(p, formats=IMAGE_FORMATS) as im:
                im.verify()
        except Exception as err:  # PIL raises many types for broken images
            raise MediaError(f"{p}: not a readable image ({type(err).__name__})") from None
        return MediaInfo(str(p), has_video=True, has_audio=False, is_image=True, duration=0.0, fps=0.0)
    cmd = [_ffprobe(), "-v", "error", "-show_entries",
           "stream=codec_type,avg_frame_rate,r_frame_rate,duration,nb_frames:format=duration",
           "-of", "json", *ffmpeg_input(p)]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise MediaError(f"{p}: not a readable media file ({decoder_reason(proc.stderr, p)})")
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
