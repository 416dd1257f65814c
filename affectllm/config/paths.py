"""Where the paths of a config point: model paths (local folders, bundled models, hub ids) and data paths,
resolved against the YAML's folder, then the working directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from affectllm.core.errors import ConfigError
from affectllm.config.model_sources import bundled_model_dir, ensure_hub_model, is_bundled, looks_like_hub_id

if TYPE_CHECKING:
    from affectllm.config.schema import Config

MODEL_PATH_KEYS = ("llm", "audio_encoder", "vision_encoder", "text_encoder")


MODEL_PATH_KEYS = ("llm", "audio_encoder", "vision_encoder", "text_encoder")


def resolve_model_path(value: str, base: Path, key: str, check: bool = True) -> str:
    """A local directory (relative to ``base`` or the working directory), a bundled model
    (``bundled:NAME``) or a hub id, downloaded into the local cache when online; see
    :mod:`affectllm.config.model_sources`."""
    if is_bundled(value):
        return str(bundled_model_dir(value, f"model.{key}"))
    p = Path(os.path.expanduser(value))
    for candidate in ([p] if p.is_absolute() else [base / p, Path.cwd() / p]):
        if candidate.exists():
            return str(candidate.resolve())
    if not check:
        return value
    if looks_like_hub_id(value):
        return ensure_hub_model(value, f"model.{key}")
    raise ConfigError(f"config key 'model.{key}': '{value}' is neither a local directory nor a hub id "
                      f"(relative paths are tried from {base} and {Path.cwd()})")


def resolve_paths(cfg: Config, base: Path, check: bool = True) -> None:
    for key in MODEL_PATH_KEYS:
        value = getattr(cfg.model, key)
        if value:
            setattr(cfg.model, key, resolve_model_path(value, base, key, check))
    if check and not cfg.model.llm:
        raise ConfigError("config key 'model.llm' is required (a local causal LM directory or hub id)")


def resolve_user_path(value: str, base: Path) -> str:
    """A file or folder the user named: relative paths are tried from ``base`` (the YAML's folder), then
    the working directory; a path found in neither is returned as written (its consumer says it is missing)."""
    p = Path(os.path.expanduser(value))
    for candidate in ([p] if p.is_absolute() else [base / p, Path.cwd() / p]):
        if candidate.exists():
            return str(candidate.resolve())
    return value


def resolve_data_paths(cfg: Config, base: Path) -> None:
    """Data, feature-cache, evaluation and DeepSpeed paths resolve like model paths (YAML folder, then the
    working directory); a ZeRO JSON not found there may name one shipped with affectllm (``zero2``)."""
    from affectllm.config.shipped import shipped_file

    if isinstance(cfg.data.train, list):
        for source in cfg.data.train:
            source.path = resolve_user_path(source.path, base)
    elif cfg.data.train:
        cfg.data.train = resolve_user_path(cfg.data.train, base)
    for section, key in (("data", "eval"), ("data", "feature_cache"), ("train", "eval_manifest"),
                         ("train", "eval_wheel_dir"), ("train", "init_from"), ("train.grpo", "reference"),
                         ("train.grpo", "cues"), ("train.grpo", "wheel_dir")):
        owner = cfg
        for part in section.split("."):
            owner = getattr(owner, part)
        value = getattr(owner, key)
        if value:
            setattr(owner, key, resolve_user_path(value, base))
    ds = cfg.train.deepspeed
    if ds:
        resolved = resolve_user_path(ds, base)
        shipped = shipped_file(ds, "ds", ".json") if not Path(resolved).exists() else None
        cfg.train.deepspeed = str(shipped) if shipped else resolved
