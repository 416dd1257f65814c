"""ZeRO json files from `train/ds/` with their "auto" fields filled from the YAML.

Batch sizes, clipping and precision live once, in the training YAML; the json
says only how to shard. train_batch_size = micro_batch_size × grad_accum × world.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from affectllm.config.schema import Config
from affectllm.core.errors import ConfigError


def _fill(node: Any, values: dict[str, Any], path: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, values, f"{path}.{k}" if path else k) for k, v in node.items()}
    if node == "auto":
        if path not in values:
            raise ConfigError(f"DeepSpeed config field '{path}' is \"auto\" but affectllm does not fill it; "
                              "give it a value")
        return values[path]
    return node


def deepspeed_config(cfg: Config, world_size: int) -> dict[str, Any]:
    """Read ``cfg.train.deepspeed`` and fill every "auto" from the training config."""
    path = Path(cfg.train.deepspeed)
    if not path.is_file():
        raise ConfigError(f"train.deepspeed: {path} not found (use train/ds/zero2.json, zero3.json or "
                          "zero3_offload.json, or null for plain torch)")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"train.deepspeed: {path} is not valid JSON ({err.msg})") from None
    if "optimizer" in raw or "scheduler" in raw:
        raise ConfigError(f"train.deepspeed: {path} sets an optimizer/scheduler; affectllm builds them "
                          "from train.lr / train.lr_scheduler, remove those sections")
    t = cfg.train
    values = {
        "train_micro_batch_size_per_gpu": t.micro_batch_size,
        "gradient_accumulation_steps": t.grad_accum,
        "train_batch_size": t.micro_batch_size * t.grad_accum * world_size,
        "gradient_clipping": t.max_grad_norm,
        "bf16.enabled": cfg.model.dtype == "bfloat16",
        "fp16.enabled": cfg.model.dtype == "float16",
        "steps_per_print": max(t.log_every, 1) * 100,
    }
    filled = _fill(raw, values)
    filled["zero_allow_untested_optimizer"] = True  # torch AdamW as client optimizer (no fused_adam JIT)
    return filled


def offloads_optimizer(ds_config: dict[str, Any]) -> bool:
    zero = ds_config.get("zero_optimization", {})
    return zero.get("offload_optimizer", {}).get("device", "none") == "cpu"
