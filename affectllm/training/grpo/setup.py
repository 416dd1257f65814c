"""What a GRPO run checks and builds before its first rollout: settings, rewards, reference, prompts.

Every problem a user can cause (a bad setting, a reward the data cannot feed,
a reference checkpoint that does not load) is one line naming the key, before
the model is trained.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

from torch import nn

from affectllm.config.schema import Config, RewardWeights
from affectllm.core.errors import AffectLLMError, ConfigError
from affectllm.training.dataset import TrainCollator
from affectllm.training.grpo.rewards import GOLD_FIELDS, RewardContext


def check_settings(cfg: Config) -> None:
    """One ConfigError line per impossible ``train.grpo`` setting."""
    s, t = cfg.train.grpo, cfg.train
    if s.group_size < 2:
        raise ConfigError(f"config key 'train.grpo.group_size' must be at least 2 (advantages compare the completions "
                          f"of one prompt), got {s.group_size}")
    positive = {"temperature": s.temperature, "max_new_tokens": s.max_new_tokens, "clip_eps": s.clip_eps,
                "updates_per_rollout": s.updates_per_rollout}
    for key, value in positive.items():
        if not value > 0:
            raise ConfigError(f"config key 'train.grpo.{key}' must be positive, got {value}")
    if not 0 < s.top_p <= 1:
        raise ConfigError(f"config key 'train.grpo.top_p' must be in (0, 1], got {s.top_p}")
    for key in ("top_k", "kl_beta", "log_completions"):
        if getattr(s, key) < 0:
            raise ConfigError(f"config key 'train.grpo.{key}' must be 0 or more, got {getattr(s, key)}")
    if s.format_max_tokens is not None and s.format_max_tokens <= 0:
        raise ConfigError(f"config key 'train.grpo.format_max_tokens' must be positive, got {s.format_max_tokens}")
    if t.save_every % s.updates_per_rollout:
        raise ConfigError(f"config key 'train.save_every' ({t.save_every}) must be a multiple of "
                          f"train.grpo.updates_per_rollout ({s.updates_per_rollout}): checkpoints fall between rollouts")
    if not reward_weights(s.rewards):
        raise ConfigError("train.grpo.rewards: every reward is null; give at least one a weight (e.g. "
                          "train.grpo.rewards.wheel_f1=1)")
    if s.kl_beta and not s.reference and not cfg.model.lora.enabled:
        raise ConfigError("train.grpo.kl_beta needs a reference: with model.lora.enabled false there is no adapter to "
                          "disable; set train.grpo.reference to a checkpoint or train.grpo.kl_beta=0")


def reward_weights(weights: RewardWeights) -> dict[str, float]:
    """Reward name -> weight for every reward to compute (null weights are left out; 0 is logged only)."""
    return {f.name: float(getattr(weights, f.name)) for f in fields(weights) if getattr(weights, f.name) is not None}


def reward_context(cfg: Config, gold: Mapping[str, Mapping[str, Any]], model) -> tuple[RewardContext, dict[str, float]]:
    """The rewards of this run and what they read, after checking the training samples can feed each one."""
    from affectllm.emotions import default_vocabulary
    from affectllm.eval.grounding import flatten_cues
    from affectllm.eval.samples import read_jsonl
    from affectllm.eval.tasks import EvalOptions, label_space

    s = cfg.train.grpo
    weights = reward_weights(s.rewards)
    for name, keys in GOLD_FIELDS.items():
        if weights.get(name) and not any(sample.get(key) not in (None, "", [], {}) for sample in gold.values()
                                         for key in keys):
            raise ConfigError(f"train.grpo.rewards.{name}: no training sample has \"{keys[0]}\"; set the weight to "
                              "null or train on a manifest that carries it")
    if weights.get("vad") is not None and getattr(model, "dimensional_head", None) is None:
        raise ConfigError("train.grpo.rewards.vad needs a model with a dimensional (valence/arousal) head and this "
                          "model has none; set train.grpo.rewards.vad=null")
    if weights.get("vad") is not None and cfg.model.vad_head.source != "llm_last":
        raise ConfigError("train.grpo.rewards.vad needs model.vad_head.source llm_last: a head on the fused tokens "
                          "rates the prompt, the same for all completions of a group, so the reward would move no "
                          "advantage; set train.grpo.rewards.vad=null or train the head with source llm_last")
    cues: dict[str, str] = {}
    if s.cues:
        cues = {sid: flatten_cues(rec.get("cues") or {}) for sid, rec in read_jsonl(s.cues, "cue").items()}
    if weights.get("grounded") and not (cues or any(sample.get("cues") for sample in gold.values())):
        raise ConfigError("train.grpo.rewards.grounded needs the samples' cues: set train.grpo.cues to the output of "
                          "`affectllm caption MANIFEST --out cues.jsonl`, or give samples a \"cues\" field")
    space = label_space(EvalOptions(wheel_dir=s.wheel_dir, level=s.level), default_vocabulary())
    ctx = RewardContext(template=cfg.model.prompt, space=space,
                        format_max_tokens=s.format_max_tokens or s.max_new_tokens, cues=cues)
    return ctx, weights


def gold_samples(dataset) -> dict[str, dict]:
    """Sample id -> manifest sample for every training manifest; ids must be unique across them."""
    parts = getattr(dataset, "datasets", [dataset])  # a ConcatDataset of a mixture, or one ManifestDataset
    gold: dict[str, dict] = {}
    for part in parts:
        for sample in part.samples:
            sid = str(sample["id"])
            if sid in gold:
                raise AffectLLMError(f"sample id {sid!r} appears twice in the training data; GRPO scores answers "
                                     "against the gold fields of their sample, so give every sample its own id")
            gold[sid] = sample
    return gold


class PromptCollator(TrainCollator):
    """Left-padded prompt batches, each carrying its samples' gold fields (``batch["gold"]``, in row order)."""

    def __init__(self, processor, gold: Mapping[str, Mapping[str, Any]]):
        super().__init__(processor, padding_side="left")
        self.gold = gold

    def __call__(self, items) -> dict[str, Any]:
        batch = super().__call__(items)
        batch["gold"] = [self.gold[sid] for sid in batch["ids"]]
        return batch


def disable_dropout(model: nn.Module) -> None:
    """Dropout off everywhere (LoRA's included): the policy ratio must compare the same network that sampled."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0


def load_reference(cfg: Config, device) -> nn.Module:
    """The explicit reference policy (``train.grpo.reference``), frozen, on the run's base models."""
    from affectllm.checkpoint.layout import load_checkpoint
    from affectllm.config.paths import MODEL_PATH_KEYS
    from affectllm.model.affect_model import DTYPES

    path = Path(cfg.train.grpo.reference)
    if not path.is_dir():
        raise ConfigError(f"config key 'train.grpo.reference': {path} is not a checkpoint folder")
    # the reference scores the same tokens as the policy, so it runs on the run's own (trusted) base models
    base = {key: getattr(cfg.model, key) or "" for key in MODEL_PATH_KEYS}
    reference = load_checkpoint(path, base=base)  # frozen, in eval mode
    disable_dropout(reference)
    return reference.to(device=device, dtype=DTYPES[cfg.model.dtype]).eval()
