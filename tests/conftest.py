"""Shared fixtures: one tiny random-init model, a handful of real generated media files and a real face clip
maker per session."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("DS_ACCELERATOR", "cpu")

REPO = Path(__file__).resolve().parents[1]
# The recipe and fault tests' fixtures (`media`, `clips`) live beside their helpers.
pytest_plugins = ["recipe_helpers", "fault_helpers"]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """`affectllm init-tiny` output: base models in DIR/base, the checkpoint in DIR."""
    from affectllm.checkpoint.tiny import init_tiny

    return init_tiny(tmp_path_factory.mktemp("tiny") / "tiny")


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint):
    from affectllm.pretrained import AffectLLM

    return AffectLLM.from_checkpoint(tiny_checkpoint)


@pytest.fixture(scope="session")
def media_files(tmp_path_factory) -> dict[str, Path]:
    """Real media made with ffmpeg / espeak-ng: a clip with a tone, a silent clip, audio only,
    an image, a face clip with speech, and broken files."""
    from affectllm.media.synthetic import write_broken_files, write_tone_audio, write_tone_clip

    d = tmp_path_factory.mktemp("media")
    files = {
        "av": write_tone_clip(d / "av.mp4", 440.0, "red", seconds=2.0),
        "silent": write_tone_clip(d / "silent.mp4", None, "blue", seconds=2.0),
        "audio": write_tone_audio(d / "tone.wav", 300.0, seconds=1.5),
    }
    from PIL import Image

    Image.new("RGB", (40, 30), (0, 200, 0)).save(d / "still.png")
    files["image"] = d / "still.png"
    files.update(write_broken_files(d / "bad", files["av"]))
    return files


@pytest.fixture(scope="session")
def face_photo(tmp_path_factory) -> Path:
    """A real smiling face: scikit-image's astronaut photograph (512x512 RGB, public domain), as a PNG."""
    skimage_data = pytest.importorskip("skimage.data")  # only the photograph needs scikit-image (a dev dependency)
    from PIL import Image

    path = tmp_path_factory.mktemp("face") / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(path)
    return path


@pytest.fixture(scope="session")
def face_clip(face_photo):
    """Makes real face clips with no system package beyond ffmpeg and espeak-ng:
    ``face_clip(path, speech_text=None, seconds=4.0, pitch=50, rate=160) -> Path``, the photograph held for
    ``seconds`` (240x240 frames) with espeak-ng speech as the audio track."""
    from affectllm.media.synthetic import write_face_clip

    return functools.partial(write_face_clip, face=face_photo)


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module: on a shared 2-core machine, small matmuls lose more to thread
    hand-offs than they gain (several times slower under load); results that matter do not depend on it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
