"""A checkpoint is one directory; loading it never unpickles.

    affectllm.yaml          resolved config (model paths relative to the checkpoint when inside it)
    adapter/                peft adapter: adapter_config.json + adapter_model.safetensors
    fusion.safetensors      pooling, pre-fusion and projector weights
    encoders.safetensors    only when encoders were trained
    tokenizer/              the LLM tokenizer with the placeholder tokens added
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

from affectllm.config import CHECKPOINT_CONFIG, MODEL_PATH_KEYS, load_config, save_config
from affectllm.errors import ConfigError

ADAPTER_DIR = "adapter"
TOKENIZER_DIR = "tokenizer"
FUSION_FILE = "fusion.safetensors"
ENCODERS_FILE = "encoders.safetensors"


def _portable(path: str, ckpt: Path) -> str:
    """Paths inside the checkpoint are stored relative to it, so the folder can move."""
    p = Path(path)
    if not p.exists():
        return path  # hub id
    try:
        return os.path.relpath(p.resolve(), ckpt.resolve()) if p.resolve().is_relative_to(ckpt.resolve()) else str(p.resolve())
    except ValueError:
        return str(p.resolve())


def save_checkpoint(model, path: str | Path, include_config: bool = True) -> Path:
    """Write ``model`` (an AffectLLM) to ``path``: config, adapter, fusion weights, tokenizer."""
    from safetensors.torch import save_file

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    if include_config:
        cfg = copy.deepcopy(model.cfg)
        for key in MODEL_PATH_KEYS:
            value = getattr(cfg.model, key)
            if value:
                setattr(cfg.model, key, _portable(value, out))
        save_config(cfg, out / CHECKPOINT_CONFIG)
    if hasattr(model.llm, "peft_config"):
        model.llm.save_pretrained(out / ADAPTER_DIR)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.fusion.state_dict().items()}, out / FUSION_FILE)
    if model.cfg.model.train_encoders:
        save_file({k: v.detach().contiguous().cpu() for k, v in model.encoders.state_dict().items()},
                  out / ENCODERS_FILE)
    model.tokenizer.save_pretrained(out / TOKENIZER_DIR)
    return out


def load_checkpoint(path: str | Path, trainable: bool = False, overrides: list[str] | None = None):
    """Rebuild an AffectLLM from a checkpoint directory (safetensors only, no pickle)."""
    from safetensors.torch import load_file

    from affectllm.model import AffectLLM

    ckpt = Path(path)
    if not (ckpt / CHECKPOINT_CONFIG).exists():
        raise ConfigError(f"{ckpt}: not an affectllm checkpoint (no {CHECKPOINT_CONFIG}); "
                          "make one with `affectllm init-tiny DIR` or by training")
    cfg = load_config(ckpt / CHECKPOINT_CONFIG, overrides)
    adapter = ckpt / ADAPTER_DIR
    tokenizer = ckpt / TOKENIZER_DIR
    model = AffectLLM.from_config(cfg, tokenizer_path=str(tokenizer) if tokenizer.exists() else None,
                                  adapter_path=str(adapter) if adapter.exists() else None, trainable=trainable)
    model.fusion.load_state_dict(load_file(ckpt / FUSION_FILE))
    if (ckpt / ENCODERS_FILE).exists():
        model.encoders.load_state_dict(load_file(ckpt / ENCODERS_FILE))
    if not trainable:
        model.requires_grad_(False)
        model.eval()
    return model
