"""The GRPO training loop: ``train.stage: grpo``, run by the same ``affectllm train`` launcher as SFT.

Each optimizer step takes ``train.grad_accum`` micro-batches of
``train.micro_batch_size`` prompts per process, samples ``train.grpo.group_size``
completions for each (``rollout``), and minimises the clipped GRPO objective
(``objective``) on them; with ``updates_per_rollout`` μ > 1 the same completions
serve μ consecutive optimizer steps (the policy ratio then moves away from 1
and clipping matters). Everything else is the SFT trainer's: the DeepSpeed
ZeRO-2/3 or torch/DDP engine, the data order, atomic checkpoints and exact
resume (the sampling RNG is part of every checkpoint's RNG state), the metrics
log, the final checkpoint.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from affectllm.config import Config, config_to_dict
from affectllm.errors import ConfigError
from affectllm.training.dataset import build_training_data
from affectllm.distributed import sum_across_ranks
from affectllm.training.grpo.objective import GRPOLoss
from affectllm.training.grpo.reward_eval import RewardEval, append_eval, render
from affectllm.training.grpo.rollout import Rollout, rollout
from affectllm.training.grpo.setup import (PromptCollator, check_settings, disable_dropout, gold_samples,
                                           load_reference, reward_context)
from affectllm.training.optim import parameter_groups
from affectllm.training.run_log import RunLogger
from affectllm.training.sampler import ShardSampler
from affectllm.training.state import TrainerState, load_training_checkpoint, save_training_checkpoint
from affectllm.training.trainer import (MicroBatches, _save_final, _to_device, _training_record, build_model,
                                        micro_step, open_feature_cache, open_run, optimizer_step, prepare_engine)


def train_grpo(cfg: Config, resume: str | bool = False) -> dict[str, Any]:
    """Run the GRPO stage as configured (``resume`` as in ``affectllm.training.trainer.train``).

    Returns a summary: per step ``losses`` and ``rewards`` (mean weighted reward), ``evals`` (held-out mean rewards
    by step), paths and counts."""
    check_settings(cfg)
    t, s = cfg.train, cfg.train.grpo
    sources, info, run_dir, ckpt, skipped = open_run(cfg, resume)
    model = build_model(cfg)
    disable_dropout(model)
    open_cache = lambda manifest: open_feature_cache(cfg, model, manifest)  # noqa: E731
    training_data = build_training_data(sources, model.processor, open_cache, generation=True)
    gold = gold_samples(training_data.dataset)
    ctx, weights = reward_context(cfg, gold, model)
    sampler = ShardSampler(len(training_data.dataset), info.rank, info.world_size, t.seed,
                           mixture=training_data.mixture)
    data = MicroBatches(training_data.dataset, PromptCollator(model.processor, gold), sampler, cfg)
    if data.steps_per_epoch == 0:
        raise ConfigError(f"{sources[0].path}: {len(training_data.dataset)} prompts are fewer than one rollout needs "
                          f"(micro_batch_size {t.micro_batch_size} × grad_accum {t.grad_accum} × {info.world_size} "
                          "processes)")
    steps_per_epoch = data.steps_per_epoch * s.updates_per_rollout
    total_steps = t.max_steps if t.max_steps > 0 else max(1, math.ceil(t.epochs * steps_per_epoch))

    groups = parameter_groups(model, t)
    loss_module = GRPOLoss(model, s)
    engine, ddp, optimizer, scheduler, device = prepare_engine(cfg, info, model, loss_module, groups, total_steps)
    reference = load_reference(cfg, device) if s.reference else None
    state = TrainerState(step=0, epoch=0, epoch_position=0, world_size=info.world_size)
    if ckpt is not None:
        state = load_training_checkpoint(ckpt, model, engine, optimizer, scheduler, info)
    if state.step % s.updates_per_rollout:
        raise ConfigError(f"{ckpt}: saved after step {state.step}, inside a rollout of train.grpo.updates_per_rollout="
                          f"{s.updates_per_rollout} steps; resume with the updates_per_rollout it was trained with")
    evaluator = RewardEval(cfg, info, model, ctx, list(weights), open_cache) if t.eval_manifest else None
    log = RunLogger(run_dir, cfg, info, total_steps, state.step)
    log.write(f"GRPO on {training_data.describe()} on {info.world_size} process(es) "
              f"({'DeepSpeed ' + Path(t.deepspeed).stem if t.deepspeed else 'torch'}): {t.micro_batch_size} × "
              f"{t.grad_accum} prompts × {s.group_size} completions per rollout, {steps_per_epoch} steps/epoch, "
              f"{total_steps} steps; rewards " + ", ".join(f"{k}×{v:g}" for k, v in weights.items())
              + ("" if not s.kl_beta else f"; KL β {s.kl_beta:g} to "
                 + (f"{s.reference}" if reference is not None else "the model without its adapter"))
              + (f", resuming after step {state.step} from {ckpt}" if ckpt else "")
              + (f"; held-out rewards on {evaluator.description}" if evaluator else ""))

    forward = engine if engine is not None else (ddp or loss_module)
    on_model = engine if engine is not None else loss_module  # runs fn(model) inside the wrapper's forward
    trainable = [p for g in groups for p in g["params"]]
    synced = bool(engine is not None and engine.zero_optimization_stage() == 3 and info.sharded)
    evals: dict[int, dict] = {}
    if evaluator is not None and state.step == 0:
        evals[0] = _evaluate(evaluator, on_model, model, device, 0, run_dir, info, log)
    batches = data.iterate(state.epoch, state.epoch_position)
    losses: dict[int, float] = {}
    rewards: dict[int, float] = {}
    run_record = {"stage": "grpo", "data": training_data.sources, "config": config_to_dict(cfg)}
    while state.step < total_steps:
        started = time.perf_counter()
        rollouts: list[Rollout] = []
        dropped = 0
        for _ in range(t.grad_accum):
            epoch, position, batch = next(batches)
            dropped += len(batch["dropped"])
            batch = _to_device(batch, device)
            rollouts.append(on_model(lambda m: rollout(m, batch, batch["gold"], s, ctx, weights, reference, synced)))
        state.epoch, state.epoch_position = epoch, position
        rollout_s = time.perf_counter() - started
        for update in range(s.updates_per_rollout):
            if state.step >= total_steps:
                break
            update_started = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            losses_here, kl, clipped = [], 0.0, 0.0
            for micro, r in enumerate(rollouts):
                loss = micro_step(engine, ddp, forward, r.batch, last=micro == len(rollouts) - 1,
                                  grad_accum=t.grad_accum)
                losses_here.append(loss.detach().float().item())
                kl += loss_module.stats.kl * r.completion_tokens
                clipped += loss_module.stats.clip_fraction * r.completion_tokens
            grad_norm = optimizer_step(engine, optimizer, scheduler, trainable, t.max_grad_norm)
            state.step += 1
            elapsed = time.perf_counter() - update_started + (rollout_s if update == 0 else 0.0)
            record = _step_record(state, epoch, rollouts, losses_here, kl, clipped, lr, grad_norm, elapsed,
                                  rollout_s if update == 0 else 0.0, dropped if update == 0 else 0)
            losses[state.step], rewards[state.step] = record["loss"], record["reward"]
            log.sample_ids(state.step, [sid for r in rollouts for sid in r.ids])
            if evaluator is not None and (state.step == total_steps or (t.eval_every and state.step % t.eval_every == 0)):
                record["eval"] = evals[state.step] = _evaluate(evaluator, on_model, model, device, state.step,
                                                               run_dir, info, log)
            log.step(record)
            _log_rewards(log, record)
            if t.save_every > 0 and state.step % t.save_every == 0 and state.step < total_steps:
                save_training_checkpoint(run_dir, state, model, engine, optimizer, scheduler, info, t.keep_checkpoints)
    batches.close()

    save_training_checkpoint(run_dir, state, model, engine, optimizer, scheduler, info, t.keep_checkpoints)
    final = _save_final(run_dir, model, engine, info, _training_record(run_record, state, evals.get(state.step)))
    if state.dropped:
        log.write(f"{state.dropped} unusable prompts were replaced (broken media or a bad sample); run "
                  "`affectllm recipe check` on the manifest to list them")
    log.write(f"done: {state.step} GRPO steps, final checkpoint {final}")
    log.close()
    return {"run_dir": str(run_dir), "final": str(final), "steps": state.step, "losses": losses, "rewards": rewards,
            "evals": evals, "samples_seen": state.samples_seen, "dropped": state.dropped, "is_main": info.is_main,
            "resumed_from": str(ckpt) if ckpt else None,
            "skipped_checkpoints": [(str(folder), reason) for folder, reason in skipped]}


def _step_record(state: TrainerState, epoch: int, rollouts: list[Rollout], losses: list[float], kl: float,
                 clipped: float, lr: float, grad_norm: float | None, elapsed: float, rollout_s: float,
                 dropped: int) -> dict:
    """One metrics.jsonl record: means over every completion of the step on all ranks (rewards over the
    completions each applies to), token-weighted KL and clip fraction. The first update of a rollout
    (``rollout_s`` > 0) counts its prompts, tokens and replaced samples."""
    names = list(rollouts[0].rewards)
    totals = torch.cat([r.total for r in rollouts])
    tokens = sum(r.completion_tokens for r in rollouts)
    local = [sum(losses) / len(losses), 1.0, float(totals.sum()), float((totals ** 2).sum()), float(len(totals)),
             float(tokens), kl, clipped, float(sum(c.finished for r in rollouts for c in r.completions)),
             float(sum(len(r.ids) for r in rollouts)), float(dropped)]
    for name in names:
        values = [v for r in rollouts for v in r.rewards[name] if v is not None]
        local += [sum(values), sum(v * v for v in values), float(len(values))]
    g = sum_across_ranks(local)
    loss, ranks, r_sum, r_sq, n, tokens, kl, clipped, finished, prompts, dropped = g[:11]
    if rollout_s:
        state.samples_seen += int(prompts)
        state.tokens_seen += int(tokens)
        state.dropped += int(dropped)
    record = {"step": state.step, "epoch": epoch, "loss": loss / ranks, "lr": lr, "grad_norm": grad_norm,
              "tokens_per_s": tokens / elapsed, "samples_per_s": n / elapsed,
              "reward": r_sum / n, "reward_std": _std(r_sum, r_sq, n), "rewards": {}, "rewards_std": {},
              "kl": kl / max(tokens, 1), "clip_fraction": clipped / max(tokens, 1),
              "completion_tokens": tokens / n, "finished": finished / n, "rollout_s": rollout_s,
              "dropped": state.dropped}
    for k, name in enumerate(names):
        total, sq, count = g[11 + 3 * k: 14 + 3 * k]
        if count:
            record["rewards"][name] = total / count
            record["rewards_std"][name] = _std(total, sq, count)
    return record


def _std(total: float, squares: float, count: float) -> float:
    """Population standard deviation from a sum and a sum of squares."""
    return math.sqrt(max(squares / count - (total / count) ** 2, 0.0)) if count else 0.0


def _log_rewards(log: RunLogger, record: dict) -> None:
    """The GRPO scalars RunLogger does not know about, in TensorBoard."""
    if log.writer is None:
        return
    step = record["step"]
    for key in ("reward", "reward_std", "kl", "clip_fraction", "completion_tokens", "finished"):
        log.writer.add_scalar(f"grpo/{key}", record[key], step)
    for name, value in record["rewards"].items():
        log.writer.add_scalar(f"grpo/reward_{name}", value, step)
        log.writer.add_scalar(f"grpo/reward_{name}_std", record["rewards_std"][name], step)


def _evaluate(evaluator: RewardEval, on_model, model, device, step: int, run_dir: Path, info, log: RunLogger) -> dict:
    means, shown = evaluator(on_model, model, device)
    log.write(render(step, means, shown, len(evaluator.samples)))
    if info.is_main:
        append_eval(run_dir, step, means, shown)
    return means
