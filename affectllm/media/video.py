"""Uniform frame sampling with decord."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affectllm.core.errors import MediaError
from affectllm.core.media_constants import DEFAULT_MAX_SIDE, DEFAULT_NUM_FRAMES
from affectllm.media.probe import IMAGE_FORMATS, MediaInfo, probe_media


def frame_indices(total_frames: int, fps: float, num_frames: int, max_fps: float | None = None) -> np.ndarray:
    """Indices of up to ``num_frames`` frames spread uniformly over the video.

    Each index is the centre of one of ``n`` equal segments. ``max_fps`` caps the
    count at duration × max_fps (at least one frame), so a 1-second clip is not
    sampled 8 times at max_fps=2.
    """
    if total_frames <= 0:
        return np.zeros(0, dtype=np.int64)
    n = min(num_frames, total_frames)
    if max_fps and fps > 0:
        n = max(1, min(n, int(total_frames / fps * max_fps)))
    edges = np.linspace(0, total_frames, n + 1)
    return np.clip(((edges[:-1] + edges[1:]) / 2).astype(np.int64), 0, total_frames - 1)


def _scaled_size(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    # even sizes keep every decoder happy
    return max(2, int(round(height * scale / 2)) * 2), max(2, int(round(width * scale / 2)) * 2)


def sample_frames(path: str | Path, num_frames: int = DEFAULT_NUM_FRAMES, max_fps: float | None = None,
                  max_side: int | None = DEFAULT_MAX_SIDE,
                  info: MediaInfo | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Decode uniformly spaced frames.

    Returns (frames (F, H, W, 3) uint8 RGB, times (F,) seconds, fps). Raises MediaError
    when the file has no decodable video stream. decord takes no demuxer options, so the file
    is probed first (``info``: the probe already made), which refuses playlists and lists.
    """
    import decord

    if info is None:
        info = probe_media(path)
    p = str(path)
    try:
        probe_reader = decord.VideoReader(p, num_threads=1)
        height, width = probe_reader[0].shape[:2] if len(probe_reader) else (0, 0)
        total, fps = len(probe_reader), float(probe_reader.get_avg_fps() or 0.0)
        h, w = _scaled_size(height, width, max_side)
        reader = probe_reader if (h, w) == (height, width) else decord.VideoReader(p, width=w, height=h, num_threads=1)
        idx = frame_indices(total, fps, num_frames, max_fps)
        if idx.size == 0:
            raise MediaError(f"{p}: video stream has no frames")
        frames = reader.get_batch(idx.tolist()).asnumpy()
    except MediaError:
        raise
    except Exception as err:  # decord raises DECORDError / RuntimeError with multi-line messages
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise MediaError(f"{p}: cannot decode video frames ({first})") from None
    times = idx / fps if fps > 0 else np.zeros(len(idx))
    return frames, times.astype(np.float64), fps


def load_image(path: str | Path, max_side: int | None = DEFAULT_MAX_SIDE) -> np.ndarray:
    """A still image as a one-frame video: (1, H, W, 3) uint8 RGB."""
    from PIL import Image

    try:
        with Image.open(path, formats=IMAGE_FORMATS) as im:
            im = im.convert("RGB")
            if max_side and max(im.size) > max_side:
                im.thumbnail((max_side, max_side))
            return np.asarray(im)[None]
    except Exception as err:
        raise MediaError(f"{path}: cannot decode image ({type(err).__name__})") from None
