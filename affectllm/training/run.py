"""What every training stage (SFT, GRPO) starts from: the model as configured and the feature cache its
encoders read instead of decoding media."""

from __future__ import annotations

from pathlib import Path

import torch

from affectllm.checkpoint.layout import FUSION_FILE, load_trained_weights
from affectllm.config.schema import Config
from affectllm.core.errors import ConfigError
from affectllm.model.affect_model import AffectModel
from affectllm.training.feature_cache import INDEX_FILE, FeatureCache, cache_signature


def default_cache_dir(manifest: str | Path) -> Path:
    """Where `affectllm cache-features` writes by default and training looks when data.feature_cache is unset."""
    manifest = Path(manifest)
    return manifest.parent / f"{manifest.stem}.features"


def open_feature_cache(cfg: Config, model, manifest: Path) -> FeatureCache | None:
    folder = Path(cfg.data.feature_cache) if cfg.data.feature_cache else default_cache_dir(manifest)
    if not cfg.data.feature_cache and (cfg.model.train_encoders or not (folder / INDEX_FILE).exists()):
        return None  # nothing found beside the manifest, or trained encoders that a cache cannot follow
    if cfg.model.train_encoders:
        raise ConfigError("data.feature_cache is set but model.train_encoders is true; cached features "
                          "cannot follow trained encoders — drop one of the two")
    return FeatureCache.open(folder, cache_signature(dict(model.encoders), cfg.data.media, cfg.model.max_text_tokens))


def build_model(cfg: Config) -> AffectModel:
    """A fresh model whose ``cfg.train.stage`` parts train, started from ``train.init_from`` when set."""
    torch.manual_seed(cfg.train.seed)  # every rank builds the same fresh fusion / LoRA weights
    model = AffectModel.from_config(cfg)
    if cfg.train.init_from:
        start = Path(cfg.train.init_from)
        if not (start / FUSION_FILE).is_file():
            raise ConfigError(f"train.init_from: {start} is not an affectllm checkpoint (no {FUSION_FILE})")
        load_trained_weights(model, start)
    model.train()
    return model
