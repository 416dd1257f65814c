"""Typed configuration: model, data and training settings, YAML in and out, validated early.

A config is plain data. Loading rejects unknown keys and wrong types with one line
that names the key (and suggests the closest known one); `key=value` overrides use
the same dotted names as the YAML (`train.lr=1e-4`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from affectllm.config.coercion import apply_overrides, from_dict
from affectllm.config.paths import resolve_data_paths, resolve_paths
from affectllm.core.errors import ConfigError
from affectllm.core.media_constants import DEFAULT_MAX_SIDE, DEFAULT_NUM_FRAMES, MAX_AUDIO_SECONDS


@dataclass
class LoraSettings:
    enabled: bool = True
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    # "all-linear" = every linear projection of the LLM except the output head
    target_modules: str | list[str] = "all-linear"


@dataclass
class VadHeadSettings:
    """A regression head for dimensional ratings (``affectllm.fusion.vad_head``), trained with the LM loss:
    ``loss = lm + loss_weight · Σ_d (1 − CCC_d)`` over the dimensions a micro-batch rates."""

    dims: list[str] = field(default_factory=lambda: ["valence", "arousal", "dominance"])
    # fused: the pre-fusion's fused tokens (needs model.prefusion); llm_last: the LLM's last hidden state at the
    # answer marker, the position from which the model ends its answer
    source: Literal["fused", "llm_last"] = "fused"
    loss_weight: float = 1.0  # λ, per dimension
    hidden: int = 256  # width of the head's hidden layer


@dataclass
class ModelConfig:
    llm: str = ""  # local directory or hub id of any transformers causal LM
    audio_encoder: str | None = None  # Whisper checkpoint; None disables audio
    vision_encoder: str | None = None  # CLIP / SigLIP / ViT / DINOv2 checkpoint; None disables video
    text_encoder: str | None = None  # BERT-family checkpoint over the subtitle; None disables it
    train_encoders: bool = False  # encoders are frozen (and run under no_grad) unless this is set
    pooling: Literal["attention", "qformer"] = "qformer"
    num_queries: int = 4  # tokens per modality for the Q-Former (attention pooling emits 1)
    prefusion: Literal["none", "mix", "cross"] = "mix"
    num_fused_tokens: int = 2  # K fused tokens emitted by the pre-fusion
    fusion_dim: int = 512
    fusion_heads: int = 8
    lora: LoraSettings = field(default_factory=LoraSettings)
    gradient_checkpointing: bool = False
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    prompt: str = "emer"  # chain-of-thought template used to ask and to parse answers
    max_text_tokens: int = 128  # subtitle tokens fed to the text encoder
    vad_head: VadHeadSettings | None = None  # valence/arousal/dominance head; null = none
    # the clips of a sample's context turns go through the encoders and pre-fusion as <ctx_*> tokens
    context_media: bool = False


@dataclass
class MediaSettings:
    num_frames: int = DEFAULT_NUM_FRAMES
    max_fps: float | None = None
    max_side: int = DEFAULT_MAX_SIDE
    max_audio_seconds: float = MAX_AUDIO_SECONDS


@dataclass
class TrainSource:
    """One training manifest of a mixture and its share of each epoch (weights are normalised)."""

    path: str = ""
    weight: float = 1.0


@dataclass
class DataConfig:
    # a manifest JSONL, or several mixed by weight: [{path: a.jsonl, weight: 3}, {path: b.jsonl, weight: 1}]
    train: str | list[TrainSource] | None = None
    eval: str | None = None  # manifest whose loss is reported at the end
    max_length: int = 1024  # tokens; truncation never cuts a media placeholder
    num_workers: int = 2
    packing: bool = False
    feature_cache: str | None = None  # folder written by `affectllm cache-features`
    media: MediaSettings = field(default_factory=MediaSettings)


@dataclass
class RewardWeights:
    """Weight of each GRPO reward (``affectllm.training.grpo.rewards``): null = not computed, 0 = computed and
    logged but not trained on, > 0 = part of the reward."""

    wheel_f1: float | None = 1.0  # emotion-wheel F1 of the answer's emotions against the sample's "emotions"
    label_hit: float | None = None  # the sample's "label" is among the answer's emotions
    format: float | None = 0.5  # the answer follows model.prompt's template, ended, within format_max_tokens
    grounded: float | None = None  # share of cited cues found in the sample's cues (train.grpo.cues)
    vad: float | None = None  # closeness of predicted valence/arousal (needs a dimensional head)


@dataclass
class GRPOSettings:
    """The reinforcement stage (``train.stage: grpo``); see ``affectllm.training.grpo``."""

    group_size: int = 8  # G completions sampled per prompt; advantages are normalised within the group
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = no top-k cut
    max_new_tokens: int = 256
    clip_eps: float = 0.2  # the policy ratio is clipped to [1 - clip_eps, 1 + clip_eps]
    kl_beta: float = 0.04  # weight of the KL to the reference policy; 0 skips the reference pass
    updates_per_rollout: int = 1  # optimizer steps on each batch of sampled completions
    scale_rewards: bool = True  # divide group-centred rewards by the group's standard deviation
    loss_aggregation: Literal["sequence", "token"] = "sequence"  # mean per completion, then over completions; or per token
    rewards: RewardWeights = field(default_factory=RewardWeights)
    format_max_tokens: int | None = None  # a longer completion fails the format reward (default: max_new_tokens)
    wheel_dir: str | None = None  # MER-UniBench wheel files: official mode for wheel_f1 and label_hit
    level: Literal["family", "word"] = "family"  # default mode (no wheel_dir): our vocabulary's families or words
    cues: str | None = None  # result records (`affectllm caption` output) whose cues ground the `grounded` reward
    reference: str | None = None  # reference checkpoint; default: this model with its LoRA adapter disabled
    log_completions: int = 3  # rendered completions written to the log per evaluation


@dataclass
class TrainConfig:
    output_dir: str = "runs/affectllm"
    stage: Literal["align", "sft", "grpo"] = "sft"  # align: only fusion/projector; sft: + LoRA; grpo: RL
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    micro_batch_size: int = 1  # per process
    grad_accum: int = 1
    lr: float = 2e-4
    fusion_lr: float | None = None  # defaults to lr
    weight_decay: float = 0.0
    warmup_steps: int = 0
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    max_grad_norm: float = 1.0
    seed: int = 42
    save_every: int = 500  # optimizer steps between checkpoints; 0 = only at the end
    keep_checkpoints: int = 2
    log_every: int = 10
    deepspeed: str | None = None  # ZeRO json (train/ds/...) or None for plain torch
    # per-step scalars besides metrics.jsonl: tensorboard, wandb (offline unless WANDB_MODE is set), or none
    report_to: list[Literal["tensorboard", "wandb", "none"]] | Literal["tensorboard", "wandb", "none"] = field(
        default_factory=lambda: ["tensorboard"])
    tensorboard: bool | None = None  # older switch for TensorBoard: false takes it out of report_to, true adds it
    init_from: str | None = None  # checkpoint whose fusion/adapter weights start this run (stage 2 from stage 1)
    log_sample_ids: bool = False  # each rank writes the sample ids of every step to OUTPUT_DIR/samples/
    grpo: GRPOSettings = field(default_factory=GRPOSettings)  # used when stage is grpo
    # generation on a held-out manifest, scored with the task metric; the best step is kept in OUTPUT_DIR/best
    eval_manifest: str | None = None
    eval_every: int = 0  # optimizer steps between evaluations; 0 = only after the last step
    eval_task: Literal["auto", "closed", "basic", "ov", "sentiment"] = "auto"  # auto: closed with labels, else ov
    eval_wheel_dir: str | None = None  # MER-UniBench wheel files: official hit rate / F1
    eval_max_new_tokens: int = 64
    eval_batch_size: int = 16
    eval_limit: int = 0  # score only the first N samples of eval_manifest; 0 = all


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


# ---------------------------------------------------------------- (de)serialisation

def config_from_dict(data: dict | None, cls: type = Config) -> Any:
    """Build ``cls`` from nested dicts, rejecting unknown keys and wrong types."""
    return from_dict(cls, data or {})


def config_to_dict(cfg: Any) -> dict:
    return dataclasses.asdict(cfg)


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None,
                check_paths: bool = True, resolve_model_paths: bool = True) -> Config:
    """Read a YAML config the user passed (a bare model section is accepted too), apply overrides, validate.

    Relative model paths are resolved against the YAML's folder first, then the
    working directory; see :func:`resolve_model_path`. ``resolve_model_paths=False``
    leaves them as written: a checkpoint's config resolves its paths inside the
    checkpoint instead (``affectllm.checkpoint.layout``).
    """
    data: dict = {}
    base = Path.cwd()
    if path is not None:
        p = Path(path)
        if p.is_dir():  # checkpoint folders are opened by affectllm.checkpoint (config_file, load_checkpoint_config)
            raise ConfigError(f"{p}: a folder, not a config file; give the YAML (a checkpoint's is affectllm.yaml)")
        if not p.exists():
            from affectllm.config.shipped import shipped_configs, shipped_file

            p = shipped_file(str(path), "configs", ".yaml") or p
        if not p.exists():
            raise ConfigError(f"{p}: config file not found (configs shipped with affectllm: "
                              f"{', '.join(shipped_configs())})")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{p}: not valid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: top level must be a mapping of sections (model, data, train)")
        base = p.resolve().parent
    apply_overrides(data, overrides or [])
    cfg = config_from_dict(data)
    if resolve_model_paths:
        resolve_paths(cfg, base, check=check_paths)
        resolve_data_paths(cfg, base)
    validate(cfg)
    return cfg


def save_config(cfg: Config, path: str | os.PathLike) -> None:
    Path(path).write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))


def train_sources(cfg: Config) -> list[TrainSource]:
    """``data.train`` as a list of weighted manifests (a single path is one source of weight 1)."""
    train = cfg.data.train
    if not train:
        return []
    return [TrainSource(train)] if isinstance(train, str) else list(train)


def validate(cfg: Config) -> None:
    from affectllm.reasoning.prompts import is_template_name

    m = cfg.model
    if not is_template_name(m.prompt):
        # a config may come with someone else's checkpoint: it names a template, it never points at a file
        raise ConfigError(f"config key 'model.prompt' must be a template name such as 'emer', not a path "
                          f"(got {m.prompt!r}); a template file is passed on the command line with --prompt FILE")
    for i, source in enumerate(train_sources(cfg)):
        if not source.path:
            raise ConfigError(f"config key 'data.train[{i}].path' is empty; give the manifest JSONL")
        if not (source.weight > 0 and math.isfinite(source.weight)):
            raise ConfigError(f"config key 'data.train[{i}].weight' must be a positive number, got {source.weight}")
    for key in ("eval_every", "eval_limit"):
        if getattr(cfg.train, key) < 0:
            raise ConfigError(f"config key 'train.{key}' must be 0 or more, got {getattr(cfg.train, key)}")
    positive = {"model.num_queries": m.num_queries, "model.fusion_dim": m.fusion_dim,
                "model.fusion_heads": m.fusion_heads, "model.lora.r": m.lora.r,
                "data.max_length": cfg.data.max_length, "data.media.num_frames": cfg.data.media.num_frames,
                "train.micro_batch_size": cfg.train.micro_batch_size, "train.grad_accum": cfg.train.grad_accum,
                "train.eval_max_new_tokens": cfg.train.eval_max_new_tokens,
                "train.eval_batch_size": cfg.train.eval_batch_size}
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"config key '{key}' must be positive, got {value}")
    if m.fusion_dim % m.fusion_heads:
        raise ConfigError(f"config key 'model.fusion_dim' ({m.fusion_dim}) must be divisible by "
                          f"'model.fusion_heads' ({m.fusion_heads})")
    if m.prefusion != "none" and m.num_fused_tokens <= 0:
        raise ConfigError("config key 'model.num_fused_tokens' must be positive when model.prefusion is not 'none'")
    if not (m.audio_encoder or m.vision_encoder or m.text_encoder) and m.prefusion != "none":
        raise ConfigError("model.prefusion needs at least one encoder (audio_encoder, vision_encoder or text_encoder)")
    if m.vad_head is not None:
        validate_vad_head(m)


def validate_vad_head(m: ModelConfig) -> None:
    from affectllm.core.dimensions import VAD_DIMENSIONS

    head = m.vad_head
    if not head.dims:
        raise ConfigError("config key 'model.vad_head.dims' is empty; list the dimensions to rate, e.g. "
                          "[valence, arousal]")
    for dim in head.dims:
        if dim not in VAD_DIMENSIONS:
            raise ConfigError(f"config key 'model.vad_head.dims' has unknown dimension {dim!r}; use "
                              f"{', '.join(VAD_DIMENSIONS)}")
    if len(set(head.dims)) != len(head.dims):
        raise ConfigError(f"config key 'model.vad_head.dims' names a dimension twice: {head.dims}")
    if not (head.loss_weight >= 0 and math.isfinite(head.loss_weight)):
        raise ConfigError(f"config key 'model.vad_head.loss_weight' must be 0 or more, got {head.loss_weight}")
    if head.hidden <= 0:
        raise ConfigError(f"config key 'model.vad_head.hidden' must be positive, got {head.hidden}")
    if head.source == "fused" and m.prefusion == "none":
        raise ConfigError("model.vad_head.source fused reads the pre-fusion's fused tokens but model.prefusion is "
                          "none; set model.prefusion to mix or cross, or model.vad_head.source=llm_last")
