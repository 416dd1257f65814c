"""One media input, decoded: the frames and the audio that every consumer shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectllm.core.errors import MediaError
from affectllm.media.audio import load_audio
from affectllm.core.media_constants import DEFAULT_MAX_SIDE, DEFAULT_NUM_FRAMES, SAMPLE_RATE
from affectllm.media.probe import probe_media
from affectllm.media.video import load_image, sample_frames


@dataclass
class MediaClip:
    """Decoded media. ``frames`` is (F, H, W, 3) uint8 RGB or None; ``audio`` is
    (samples,) float32 mono at SAMPLE_RATE or None; ``frame_times`` in seconds."""

    path: str | None
    frames: np.ndarray | None = None
    frame_times: np.ndarray | None = None
    audio: np.ndarray | None = None
    duration: float = 0.0
    fps: float = 0.0

    @property
    def has_video(self) -> bool:
        return self.frames is not None and len(self.frames) > 0

    @property
    def has_audio(self) -> bool:
        return self.audio is not None and self.audio.size > 0

    @classmethod
    def from_arrays(cls, frames: np.ndarray | None = None, audio: np.ndarray | None = None,
                    fps: float = 1.0, path: str | None = None) -> "MediaClip":
        """Wrap in-memory arrays (generated data, a demo's microphone) as a clip."""
        times = np.arange(len(frames)) / fps if frames is not None else None
        dur = max(len(audio) / SAMPLE_RATE if audio is not None else 0.0,
                  len(frames) / fps if frames is not None else 0.0)
        return cls(path=path, frames=frames, frame_times=times, audio=audio, duration=dur, fps=fps)


def load_clip(path: str | Path, num_frames: int = DEFAULT_NUM_FRAMES, max_fps: float | None = None,
              max_side: int | None = DEFAULT_MAX_SIDE, audio: bool = True, video: bool = True,
              max_audio_seconds: float | None = None) -> MediaClip:
    """Decode whatever ``path`` holds: video with or without audio, audio only, or an image.

    Raises MediaError (one line naming the file) for missing, empty, truncated or non-media files.
    """
    info = probe_media(path)
    clip = MediaClip(path=str(path), duration=info.duration, fps=info.fps)
    if video and info.is_image:
        clip.frames = load_image(path, max_side)
        clip.frame_times = np.zeros(1)
    elif video and info.has_video:
        clip.frames, clip.frame_times, clip.fps = sample_frames(path, num_frames, max_fps, max_side, info)
    if audio and info.has_audio:
        clip.audio = load_audio(path, max_audio_seconds)
        clip.duration = max(clip.duration, len(clip.audio) / SAMPLE_RATE)
    if not clip.has_video and not clip.has_audio:
        raise MediaError(f"{path}: nothing usable to decode (no video frames, no audio)")
    return clip
