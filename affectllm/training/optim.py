"""Optimizer over the trainable groups (fusion and LoRA may take different learning rates) and the LR schedule."""

from __future__ import annotations

import math

import torch

from affectllm.config.schema import TrainConfig


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


class WarmupDecaySchedule(torch.optim.lr_scheduler.LambdaLR):
    """:func:`lr_multiplier` over ``total_steps``, with the length it was built for in its saved state.

    A resumed run may ask for another length (a larger ``train.max_steps``). The restored optimizer then
    holds the learning rate of the old schedule, which for a finished cosine run is 0, while the step
    counter continues on the new one; :meth:`continue_after_resume` makes the current step's rate the new
    schedule's, so the run decays from there to 0 at the new end, warm-up not repeated."""

    def __init__(self, optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int, kind: str):
        self.total_steps, self.warmup_steps, self.kind = total_steps, warmup_steps, kind
        self.saved_total_steps: int | None = None
        super().__init__(optimizer, lambda step: lr_multiplier(step, self.total_steps, self.warmup_steps, self.kind))

    def state_dict(self) -> dict:
        # LambdaLR saves every attribute; the length stays in it, where this run's length came from does not
        return {k: v for k, v in super().state_dict().items() if k != "saved_total_steps"}

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        # this run's length, warm-up and kind stand; a checkpoint from before the length was saved has
        # none, and its rate is then checked against the schedule instead
        self.saved_total_steps = state.pop("total_steps", None)
        for key in ("warmup_steps", "kind", "saved_total_steps"):
            state.pop(key, None)
        super().load_state_dict(state)

    def continue_after_resume(self) -> str | None:
        """Set the rate of the current step from this schedule (call once the optimizer and this state are
        restored); a line saying what changed when the checkpoint's schedule differed, else None."""
        step = self.last_epoch
        rates = [base * lr_multiplier(step, self.total_steps, self.warmup_steps, self.kind) for base in self.base_lrs]
        restored = [group["lr"] for group in self.optimizer.param_groups]
        changed = self.saved_total_steps not in (None, self.total_steps) or any(
            not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12) for a, b in zip(rates, restored))
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lr = rates
        if not changed:
            return None
        before = f"ran to step {self.saved_total_steps}" if self.saved_total_steps else "was built for another length"
        return (f"the checkpoint's {self.kind} schedule {before}; rebuilt for {self.total_steps} steps: lr "
                f"{restored[0]:.3g} -> {rates[0]:.3g} at step {step}, reaching 0 at step {self.total_steps}"
                if self.kind != "constant" else f"the {self.kind} schedule continues at lr {rates[0]:.3g}")


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int) -> WarmupDecaySchedule:
    return WarmupDecaySchedule(optimizer, total_steps, cfg.warmup_steps, cfg.lr_scheduler)
