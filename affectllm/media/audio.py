"""Audio track → 16 kHz mono float32, via ffmpeg (handles every container decord does and more)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from affectllm.core.errors import MediaError
from affectllm.core.media_constants import SAMPLE_RATE
from affectllm.media.probe import check_file, decoder_reason, ffmpeg_input


def load_audio(path: str | Path, max_seconds: float | None = None) -> np.ndarray:
    """Decode the first audio stream of ``path``.

    Returns (samples,) float32 in [-1, 1] at SAMPLE_RATE. Raises MediaError when the
    file has no audio stream or cannot be decoded.
    """
    p = check_file(path)
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise MediaError("ffmpeg not found: install ffmpeg (e.g. `apt-get install ffmpeg`, or `make install`)")
    cmd = [exe, "-nostdin", "-v", "error", *ffmpeg_input(p), "-vn", "-map", "0:a:0", "-ac", "1",
           "-ar", str(SAMPLE_RATE)]
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.3f}"]
    cmd += ["-f", "f32le", "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        if "matches no streams" in stderr:
            raise MediaError(f"{p}: no audio stream")
        raise MediaError(f"{p}: cannot decode audio ({decoder_reason(stderr, p)})")
    wav = np.frombuffer(proc.stdout, dtype=np.float32).copy()
    if wav.size == 0:
        raise MediaError(f"{p}: audio stream is empty")
    return wav
