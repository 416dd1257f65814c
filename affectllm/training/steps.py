"""How one training step runs: a step strategy per engine, so the SFT and GRPO loops never branch on it.

* :class:`TorchSteps`: plain torch, DistributedDataParallel when several processes run; the loop
  clips, steps and schedules after the last micro-batch; optimizer and scheduler state go to
  ``optimizer.pt`` (tensors only).
* :class:`DeepSpeedSteps`: a DeepSpeed engine (ZeRO 2/3, optional CPU offload) around a client torch
  AdamW, so nothing is JIT-compiled; the engine steps at the accumulation boundary itself and saves
  its own sharded state under ``deepspeed/``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

import torch

from affectllm.checkpoint.layout import FUSION_FILE, load_trained_weights, read_weights
from affectllm.config.schema import Config
from affectllm.core.distributed import Rank
from affectllm.core.errors import AffectLLMError
from affectllm.training.optim import build_optimizer, build_scheduler
from affectllm.training.stage_loss import InForward
from affectllm.training.state import DEEPSPEED_DIR, DEEPSPEED_TAG, OPTIMIZER_FILE


class Steps:
    """What the loops use: ``micro_step``, ``optimizer_step``, ``with_weights``, ``gathered``, ``save_state`` /
    ``load_state``, the ``device`` batches go to and the ``lr`` of the next step."""

    engine: Any = None  # the DeepSpeed engine, when there is one
    zero3 = False  # weights partitioned across ranks (generation must keep every rank stepping)
    optimizer: torch.optim.Optimizer
    device: torch.device
    schedule_note: str | None = None  # set by load_state when the resumed run's schedule differs from the saved one

    @property
    def lr(self) -> float:
        """The learning rate the next step uses (the scheduler moves it after the step)."""
        return self.optimizer.param_groups[0]["lr"]


class TorchSteps(Steps):
    """Plain torch (DDP over several processes): ``loss_module`` is the module that returns a batch's loss."""

    def __init__(self, cfg: Config, info: Rank, model, loss_module, groups: list[dict], total_steps: int):
        self.device = info.device
        model.to(self.device)
        self.optimizer = build_optimizer(groups)
        self.scheduler = build_scheduler(self.optimizer, cfg.train, total_steps)
        self.trainable = [p for g in groups for p in g["params"]]
        self.loss_module = loss_module
        self.ddp = None
        if info.sharded:
            from torch.nn.parallel import DistributedDataParallel

            # a sample without one modality leaves that pooling branch unused
            self.ddp = DistributedDataParallel(loss_module, find_unused_parameters=True,
                                               device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.forward = self.ddp or loss_module

    def with_weights(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(model)`` where every weight is usable (generation: GRPO's rollouts); see ``stage_loss``."""
        return self.loss_module(InForward(fn))

    def micro_step(self, batch: dict[str, Any], last: bool, grad_accum: int) -> torch.Tensor:
        """Forward and backward of one micro-batch; gradients sync across ranks only on the ``last`` of a step."""
        with self.ddp.no_sync() if self.ddp is not None and not last else contextlib.nullcontext():
            loss = self.forward(batch)
            (loss / grad_accum).backward()
        return loss

    def optimizer_step(self, max_grad_norm: float) -> float | None:
        """Clip, step and schedule after the last micro-batch of a step; the gradient norm before clipping."""
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.trainable, max_grad_norm)) if max_grad_norm > 0 else None
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return grad_norm

    def gathered(self, model) -> contextlib.AbstractContextManager:
        """Context in which the trained weights are whole on every rank (always, without ZeRO-3)."""
        return contextlib.nullcontext()

    def save_state(self, folder: Path, info: Rank) -> None:
        if info.is_main:
            torch.save({"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()},
                       folder / OPTIMIZER_FILE)

    def load_state(self, ckpt: Path, model) -> None:
        load_trained_weights(model, ckpt)
        saved = torch.load(ckpt / OPTIMIZER_FILE, map_location="cpu", weights_only=True)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.schedule_note = self.scheduler.continue_after_resume()


class DeepSpeedSteps(Steps):
    """A DeepSpeed engine around ``loss_module`` (``train.deepspeed`` names its ZeRO config)."""

    def __init__(self, cfg: Config, info: Rank, model, loss_module, groups: list[dict], total_steps: int):
        import deepspeed

        from affectllm.training.deepspeed_config import deepspeed_config, offloads_optimizer

        ds_config = deepspeed_config(cfg, info.world_size)
        optimizer = build_optimizer(groups, cpu_offload=offloads_optimizer(ds_config))
        scheduler = build_scheduler(optimizer, cfg.train, total_steps)
        self.engine, self.optimizer, _, self.scheduler = deepspeed.initialize(
            model=loss_module, optimizer=optimizer, lr_scheduler=scheduler, config=ds_config)
        self.device = self.engine.device
        self.forward = self.engine  # a batch's loss through the engine (evaluation)
        self.zero3 = self.engine.zero_optimization_stage() == 3

    def with_weights(self, fn: Callable[[Any], Any]) -> Any:
        return self.engine(InForward(fn))  # inside the engine's forward: ZeRO-3 gathers the weights for the call

    def micro_step(self, batch: dict[str, Any], last: bool, grad_accum: int) -> torch.Tensor:
        loss = self.engine(batch)
        self.engine.backward(loss)
        self.engine.step()  # DeepSpeed steps its optimizer itself at the accumulation boundary
        return loss

    def optimizer_step(self, max_grad_norm: float) -> float | None:
        grad_norm = self.engine.get_global_grad_norm()  # the engine clipped and stepped already
        return float(grad_norm) if grad_norm is not None else None

    def gathered(self, model) -> contextlib.AbstractContextManager:
        if not self.zero3:
            return contextlib.nullcontext()
        import deepspeed

        params = [p for p in model.parameters() if p.requires_grad] + list(model.fusion.parameters())
        return deepspeed.zero.GatheredParameters(list({id(p): p for p in params}.values()), modifier_rank=None)

    def save_state(self, folder: Path, info: Rank) -> None:
        self.engine.save_checkpoint(str(folder / DEEPSPEED_DIR), tag=DEEPSPEED_TAG, save_latest=False,
                                    exclude_frozen_parameters=True)

    def load_state(self, ckpt: Path, model) -> None:
        path, _ = self.engine.load_checkpoint(str(ckpt / DEEPSPEED_DIR), tag=DEEPSPEED_TAG, load_module_strict=False,
                                              load_optimizer_states=True, load_lr_scheduler_states=True)
        if path is None:
            raise AffectLLMError(f"{ckpt}: DeepSpeed could not load its state from {ckpt / DEEPSPEED_DIR}")
        self._check_restored(model, ckpt)
        self.schedule_note = self.scheduler.continue_after_resume()

    def _check_restored(self, model, ckpt: Path) -> None:
        """DeepSpeed skips module keys it does not recognise; make sure the fusion weights really came back."""
        saved = read_weights(ckpt / FUSION_FILE)
        with self.gathered(model):
            current = {k: v.detach().cpu() for k, v in model.fusion.state_dict().items()}
        stale = [k for k, v in saved.items() if k not in current or not torch.equal(current[k].to(v.dtype), v)]
        if stale:
            raise AffectLLMError(f"{ckpt}: the DeepSpeed state does not restore this model's weights ({stale[0]} "
                                 "differs); was the checkpoint written by another affectllm version or model config?")


def prepare_steps(cfg: Config, info: Rank, model, loss_module, groups: list[dict], total_steps: int) -> Steps:
    """The step strategy ``cfg`` asks for: DeepSpeed with ``train.deepspeed``, else plain torch."""
    kind = DeepSpeedSteps if cfg.train.deepspeed else TorchSteps
    return kind(cfg, info, model, loss_module, groups, total_steps)
