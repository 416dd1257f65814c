"""A trained head on disk: safetensors tensors plus a JSON description in the file's metadata, never a pickle.

The text head and the voice head are stored alike; each checks its own description after reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from affectllm.core.errors import AffectLLMError


def save_head(net: torch.nn.Module, path: str | Path, meta_key: str, meta: dict[str, Any]) -> Path:
    """Write ``net``'s weights with ``meta`` (JSON) under ``meta_key`` in the safetensors metadata."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
    save_file(tensors, str(path), metadata={meta_key: json.dumps(meta, sort_keys=True)})
    return path


def read_head(path: str | Path, meta_key: str, what: str, command: str) -> tuple[dict[str, torch.Tensor], Any]:
    """(tensors, description or None) of the head file at ``path`` (``what``: "text head"; ``command``: the one
    that trains such a head); a missing or unreadable file is one error naming it."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise AffectLLMError(f"{what} {path} does not exist; train one with `{command}` "
                             "or reinstall affectllm for the bundled head")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get(meta_key, "null") or "null")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, json.JSONDecodeError) as err:
        raise AffectLLMError(f"{what} {path}: not a readable safetensors head ({err}); retrain it") from None
    return tensors, meta


def load_weights(net: torch.nn.Module, tensors: dict[str, torch.Tensor], what: str) -> None:
    """Put a head file's tensors into ``net`` (left in eval mode); weights that do not fit are one error line."""
    try:
        net.load_state_dict(tensors)
    except RuntimeError as err:
        raise AffectLLMError(f"{what}: weights do not fit the described head ({str(err).splitlines()[0]}); "
                             "retrain it") from None
    net.eval()
