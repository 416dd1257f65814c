"""Optimizer over the trainable groups (fusion and LoRA may take different learning rates) and the LR schedule."""

from __future__ import annotations

import math

import torch

from affectllm.config import TrainConfig


def parameter_groups(model, cfg: TrainConfig) -> list[dict]:
    """AdamW groups: fusion at ``fusion_lr`` (default ``lr``), LoRA and trained encoders at ``lr``.
    Biases and norms take no weight decay."""
    groups = []
    for name, params in model.trainable_parameter_groups().items():
        lr = cfg.fusion_lr if (name == "fusion" and cfg.fusion_lr is not None) else cfg.lr
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        for ps, wd in ((decay, cfg.weight_decay), (no_decay, 0.0)):
            if ps:
                groups.append({"params": ps, "lr": lr, "weight_decay": wd, "name": f"{name}{'' if wd else '_no_decay'}"})
    if not groups:
        raise RuntimeError("nothing to train: every parameter is frozen")
    return groups


def build_optimizer(groups: list[dict], cpu_offload: bool = False) -> torch.optim.Optimizer:
    if cpu_offload:  # ZeRO-Offload steps the optimizer on the CPU with DeepSpeed's vectorised Adam
        from deepspeed.ops.adam import DeepSpeedCPUAdam

        return DeepSpeedCPUAdam(groups, adamw_mode=True)
    # the fused CUDA kernel steps all LoRA tensors in one launch instead of several per tensor
    on_cuda = all(p.is_cuda for g in groups for p in g["params"])
    return torch.optim.AdamW(groups, betas=(0.9, 0.999), eps=1e-8, fused=on_cuda or None)


def lr_multiplier(step: int, total_steps: int, warmup_steps: int, kind: str) -> float:
    """Linear warm-up to 1, then cosine / linear decay to 0 at ``total_steps`` (or constant)."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if kind == "constant":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    if kind == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int):
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_multiplier(step, total_steps, cfg.warmup_steps, cfg.lr_scheduler))
