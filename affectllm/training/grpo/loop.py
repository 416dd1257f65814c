"""The GRPO training loop: ``train.stage: grpo``, run by the same ``affectllm train`` launcher as SFT.

Each optimizer step takes ``train.grad_accum`` micro-batches of
``train.micro_batch_size`` prompts per process, samples ``train.grpo.group_size``
completions for each (``rollout``), and minimises the clipped GRPO objective
(``objective``) on them; with ``updates_per_rollout`` μ > 1 the same completions
serve μ consecutive optimizer steps (the policy ratio then moves away from 1
and clipping matters). Everything else is the run's (``affectllm.training.run``), as
for SFT: the DeepSpeed ZeRO-2/3 or torch/DDP engine, the data order, atomic checkpoints
and exact resume (the sampling RNG is part of every checkpoint's RNG state), the
metrics log, the final checkpoint.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from affectllm.config.schema import Config, config_to_dict
from affectllm.core.errors import ConfigError
from affectllm.core.distributed import reduce_metrics
from affectllm.training.batches import to_device
from affectllm.training.grpo.objective import GRPOLoss
from affectllm.training.grpo.reward_eval import RewardEval, append_eval, render
from affectllm.training.grpo.rewards import RewardContext
from affectllm.training.grpo.rollout import Rollout, rollout
from affectllm.training.grpo.setup import (PromptCollator, check_settings, disable_dropout, gold_samples,
                                           load_reference, reward_context)
from affectllm.training.run import Run, begin, close, due, engine_name, open_training, save_last, save_when_due, start_run
from affectllm.training.run_folder import training_questions
from affectllm.training.run_log import RunLogger
from affectllm.training.state import TrainerState


@dataclass
class GrpoRun(Run):
    """A GRPO run: the common run, the rewards and what they read, the reference, the held-out evaluator."""

    ctx: RewardContext | None = None
    weights: dict[str, float] = field(default_factory=dict)
    reference: Any = None
    evaluator: RewardEval | None = None
    rewards: dict[int, float] = field(default_factory=dict)


def train_grpo(cfg: Config, resume: str | bool = False) -> dict[str, Any]:
    """Run the GRPO stage as configured (``resume`` as in ``affectllm.training.trainer.train``).

    Returns a summary: per step ``losses`` and ``rewards`` (mean weighted reward), ``evals`` (held-out mean rewards
    by step), paths and counts."""
    run = setup_grpo(cfg, resume)
    if run.evaluator is not None and run.state.step == 0:
        run.evals[0] = _evaluate(run, 0)
    batches = run.data.iterate(run.state.epoch, run.state.epoch_position)
    while run.state.step < run.total_steps:
        grpo_rollout_steps(run, batches)
    batches.close()
    return finish_grpo(run)


def setup_grpo(cfg: Config, resume: str | bool) -> GrpoRun:
    """Run folder, model, prompts with their gold, rewards, step strategy, reference; a checkpoint when resuming."""
    check_settings(cfg)
    s = cfg.train.grpo
    opened = open_training(cfg, resume, generation=True)
    model = opened.model
    disable_dropout(model)
    gold = gold_samples(opened.training_data.dataset)
    ctx, weights = reward_context(cfg, gold, model)
    run = start_run(opened, PromptCollator(model.processor, gold), GRPOLoss(model, s), unit="prompts",
                    step_name="rollout", steps_per_batch=s.updates_per_rollout, kind=GrpoRun, ctx=ctx,
                    weights=weights)
    run.reference = load_reference(cfg, run.steps.device) if s.reference else None
    begin(run)
    if run.state.step % s.updates_per_rollout:
        raise ConfigError(f"{run.ckpt}: saved after step {run.state.step}, inside a rollout of "
                          f"train.grpo.updates_per_rollout={s.updates_per_rollout} steps; resume with the "
                          "updates_per_rollout it was trained with")
    if cfg.train.eval_manifest:
        run.evaluator = RewardEval(cfg, run.info, model, ctx, list(weights), opened.open_cache)
    run.log.write(_describe(run))
    return run


def _describe(run: GrpoRun) -> str:
    t, s = run.cfg.train, run.cfg.train.grpo
    return (f"GRPO on {run.training_data.describe()} on {run.info.world_size} process(es) "
            f"({engine_name(run.cfg)}): {t.micro_batch_size} × "
            f"{t.grad_accum} prompts × {s.group_size} completions per rollout, "
            f"{run.data.steps_per_epoch * s.updates_per_rollout} steps/epoch, {run.total_steps} steps; rewards "
            + ", ".join(f"{k}×{v:g}" for k, v in run.weights.items())
            + ("" if not s.kl_beta else f"; KL β {s.kl_beta:g} to "
               + (f"{s.reference}" if run.reference is not None else "the model without its adapter"))
            + (f", resuming after step {run.state.step} from {run.ckpt}" if run.ckpt else "")
            + (f"; held-out rewards on {run.evaluator.description}" if run.evaluator else ""))


def grpo_rollout_steps(run: GrpoRun, batches) -> None:
    """Sample completions for ``train.grad_accum`` micro-batches of prompts, then take ``updates_per_rollout``
    optimizer steps on them (fewer when the run ends first)."""
    t, s, state, steps = run.cfg.train, run.cfg.train.grpo, run.state, run.steps
    synced = steps.zero3 and run.info.sharded
    started = time.perf_counter()
    rollouts: list[Rollout] = []
    dropped = 0
    for _ in range(t.grad_accum):
        epoch, position, batch = next(batches)
        dropped += len(batch["dropped"])
        batch = to_device(batch, steps.device)
        rollouts.append(steps.with_weights(lambda m: rollout(m, batch, batch["gold"], s, run.ctx, run.weights,
                                                         run.reference, synced)))
    state.epoch, state.epoch_position = epoch, position
    rollout_s = time.perf_counter() - started
    for update in range(s.updates_per_rollout):
        if state.step >= run.total_steps:
            break
        update_started = time.perf_counter()
        lr = steps.lr
        losses_here, kl, clipped = [], 0.0, 0.0
        for micro, r in enumerate(rollouts):
            loss = steps.micro_step(r.batch, last=micro == len(rollouts) - 1, grad_accum=t.grad_accum)
            losses_here.append(loss.detach().float().item())
            kl += run.loss_module.stats.kl * r.completion_tokens
            clipped += run.loss_module.stats.clip_fraction * r.completion_tokens
        grad_norm = steps.optimizer_step(t.max_grad_norm)
        state.step += 1
        first = update == 0  # the rollout's time, prompts and replaced samples count once
        elapsed = time.perf_counter() - update_started + (rollout_s if first else 0.0)
        record = _step_record(state, epoch, rollouts, losses_here, kl, clipped, lr, grad_norm, elapsed,
                              rollout_s if first else 0.0, dropped if first else 0)
        run.losses[state.step], run.rewards[state.step] = record["loss"], record["reward"]
        run.log.sample_ids(state.step, [sid for r in rollouts for sid in r.ids])
        if run.evaluator is not None and due(run, t.eval_every):
            record["eval"] = run.evals[state.step] = _evaluate(run, state.step)
        run.log.step(record)
        _log_rewards(run.log, record)
        save_when_due(run)


def finish_grpo(run: GrpoRun) -> dict[str, Any]:
    """The last training checkpoint and final/; the run's summary."""
    final = save_last(run, {"stage": "grpo", "data": run.training_data.sources, "config": config_to_dict(run.cfg),
                            "questions": training_questions(run.training_data, run.model.tokenizer)})
    return close(run, final, "unusable prompts were replaced (broken media or a bad sample)",
                 f"done: {run.state.step} GRPO steps") | {"rewards": run.rewards}


def _step_record(state: TrainerState, epoch: int, rollouts: list[Rollout], losses: list[float], kl: float,
                 clipped: float, lr: float, grad_norm: float | None, elapsed: float, rollout_s: float,
                 dropped: int) -> dict:
    """One metrics.jsonl record: means over every completion of the step on all ranks (rewards over the
    completions each applies to), token-weighted KL and clip fraction. The first update of a rollout
    (``rollout_s`` > 0) counts its prompts, tokens and replaced samples."""
    names = list(rollouts[0].rewards)
    totals = torch.cat([r.total for r in rollouts])
    local = {"loss": sum(losses) / len(losses), "ranks": 1.0, "reward_sum": float(totals.sum()),
             "reward_squares": float((totals ** 2).sum()), "completions": float(len(totals)),
             "tokens": float(sum(r.completion_tokens for r in rollouts)), "kl": kl, "clipped": clipped,
             "finished": float(sum(c.finished for r in rollouts for c in r.completions)),
             "prompts": float(sum(len(r.ids) for r in rollouts)), "dropped": float(dropped)}
    for name in names:
        values = [v for r in rollouts for v in r.rewards[name] if v is not None]
        local.update({f"{name}/sum": sum(values), f"{name}/squares": sum(v * v for v in values),
                      f"{name}/count": float(len(values))})
    g = reduce_metrics(local)
    n, tokens = g["completions"], g["tokens"]
    if rollout_s:
        state.samples_seen += int(g["prompts"])
        state.tokens_seen += int(tokens)
        state.dropped += int(g["dropped"])
    record = {"step": state.step, "epoch": epoch, "loss": g["loss"] / g["ranks"], "lr": lr, "grad_norm": grad_norm,
              "tokens_per_s": tokens / elapsed, "samples_per_s": n / elapsed,
              "reward": g["reward_sum"] / n, "reward_std": _std(g["reward_sum"], g["reward_squares"], n),
              "rewards": {}, "rewards_std": {},
              "kl": g["kl"] / max(tokens, 1), "clip_fraction": g["clipped"] / max(tokens, 1),
              "completion_tokens": tokens / n, "finished": g["finished"] / n, "rollout_s": rollout_s,
              "dropped": state.dropped}
    for name in names:
        total, sq, count = g[f"{name}/sum"], g[f"{name}/squares"], g[f"{name}/count"]
        if count:
            record["rewards"][name] = total / count
            record["rewards_std"][name] = _std(total, sq, count)
    return record


def _std(total: float, squares: float, count: float) -> float:
    """Population standard deviation from a sum and a sum of squares."""
    return math.sqrt(max(squares / count - (total / count) ** 2, 0.0)) if count else 0.0


def _log_rewards(log: RunLogger, record: dict) -> None:
    """The GRPO scalars RunLogger does not know about, to the run's reporters (TensorBoard, wandb)."""
    scalars = {f"grpo/{key}": record[key]
               for key in ("reward", "reward_std", "kl", "clip_fraction", "completion_tokens", "finished")}
    for name, value in record["rewards"].items():
        scalars[f"grpo/reward_{name}"] = value
        scalars[f"grpo/reward_{name}_std"] = record["rewards_std"][name]
    log.scalars(scalars, record["step"])


def _evaluate(run: GrpoRun, step: int) -> dict:
    means, shown = run.evaluator(run.steps.with_weights, run.model, run.steps.device)
    run.log.write(render(step, means, shown, len(run.evaluator.samples)))
    if run.info.is_main:
        append_eval(run.run_dir, step, means, shown)
    return means
