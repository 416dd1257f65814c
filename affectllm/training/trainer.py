"""The SFT training loop: one entry for `affectllm train`, `deepspeed train/train.py` and `torchrun`.

``train`` sets a run up (run folder, model, data, the step strategy of
:mod:`affectllm.training.steps`: DeepSpeed ZeRO 2/3 or plain torch/DDP), loops over
optimizer steps and finishes (last checkpoint, final/, eval loss). Either engine: the
same data order, the same checkpoints, exact resume.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from affectllm.config.schema import Config, config_to_dict
from affectllm.model.conversation import RenderedConversation
from affectllm.core.distributed import Rank, mean_across_ranks, sum_across_ranks
from affectllm.core.errors import ConfigError
from affectllm.model.affect_model import AffectModel
from affectllm.model.processor import IGNORE_INDEX
from affectllm.training.batches import MicroBatches, to_device
from affectllm.training.dataset import ManifestDataset, TrainCollator, build_training_data, read_manifest
from affectllm.training.loss import AnswerLoss
from affectllm.training.optim import parameter_groups
from affectllm.training.run_folder import BEST_DIR, open_run, save_final, training_questions, training_record
from affectllm.training.run_log import RunLogger
from affectllm.training.sampler import ShardSampler
from affectllm.training.state import TrainerState, load_training_checkpoint, save_training_checkpoint
from affectllm.training.run import build_model, open_feature_cache
from affectllm.training.steps import Steps, prepare_steps


def label_view(sample, tokenizer) -> str:
    """A prepared sample's text with the tokens that train in [[ ]] (placeholder runs shortened)."""
    text = RenderedConversation(sample.input_ids, [t != IGNORE_INDEX for t in sample.labels]).debug_view(tokenizer)
    for token in set(re.findall(r"<\|affect_\w+\|>", text)):
        text = re.sub(f"(?:{re.escape(token)}){{2,}}", lambda m: f"{token}×{len(m.group(0)) // len(token)}", text)
    return text


@dataclass
class SftRun:
    """Everything one SFT run holds between set-up, the loop and the finish."""

    cfg: Config
    info: Rank
    run_dir: Path
    ckpt: Path | None
    skipped: list[tuple[Path, str]]
    model: AffectModel
    training_data: Any
    data: MicroBatches
    loss_module: AnswerLoss
    steps: Steps
    state: TrainerState
    log: RunLogger
    total_steps: int
    run_record: dict
    evaluator: Any = None
    losses: dict[int, float] = field(default_factory=dict)
    evals: dict[int, dict] = field(default_factory=dict)


def train(cfg: Config, resume: str | bool = False) -> dict[str, Any]:
    """Run training as configured. ``resume``: False (fresh; refuses a used output_dir), True (newest
    checkpoint in train.output_dir), or a checkpoint folder. Returns a summary (losses, paths, counts).
    ``train.stage: grpo`` runs the reinforcement stage (``affectllm.training.grpo``)."""
    if cfg.train.stage == "grpo":
        from affectllm.training.grpo.loop import train_grpo

        return train_grpo(cfg, resume)
    run = setup(cfg, resume)
    batches = run.data.iterate(run.state.epoch, run.state.epoch_position)
    while run.state.step < run.total_steps:
        train_step(run, batches)
    batches.close()  # shut DataLoader workers down before saving
    return finish(run)


def setup(cfg: Config, resume: str | bool) -> SftRun:
    """Open the run folder, build the model, data and step strategy, restore a checkpoint when resuming."""
    sources, info, run_dir, ckpt, skipped = open_run(cfg, resume)
    model = build_model(cfg)
    training_data = build_training_data(sources, model.processor,
                                        lambda manifest: open_feature_cache(cfg, model, manifest))
    dataset = training_data.dataset
    sampler = ShardSampler(len(dataset), info.rank, info.world_size, cfg.train.seed, mixture=training_data.mixture)
    data = MicroBatches(dataset, TrainCollator(model.processor), sampler, cfg)
    t = cfg.train
    if data.steps_per_epoch == 0:
        raise ConfigError(f"{sources[0].path}: {len(dataset)} samples are fewer than one optimizer step needs "
                          f"(micro_batch_size {t.micro_batch_size} × grad_accum {t.grad_accum} × {info.world_size} "
                          "processes)")
    total_steps = t.max_steps if t.max_steps > 0 else max(1, math.ceil(t.epochs * data.steps_per_epoch))
    loss_module = AnswerLoss(model, packing=cfg.data.packing)
    steps = prepare_steps(cfg, info, model, loss_module, parameter_groups(model, t), total_steps)
    state = TrainerState(step=0, epoch=0, epoch_position=0, world_size=info.world_size)
    if ckpt is not None:
        state = load_training_checkpoint(ckpt, model, steps, info)
    evaluator = None
    if t.eval_manifest:
        from affectllm.training.generation_eval import GenerationEval

        evaluator = GenerationEval(cfg, info)
    run = SftRun(cfg, info, run_dir, ckpt, skipped, model, training_data, data, loss_module, steps, state,
                 RunLogger(run_dir, cfg, info, total_steps, state.step), total_steps,
                 {"data": training_data.sources, "config": config_to_dict(cfg),
                  "questions": training_questions(training_data, model.tokenizer)}, evaluator)
    run.log.write(_describe(run))
    if info.is_main and ckpt is None:
        run.log.write("first sample, trained tokens in [[ ]]:\n" + label_view(dataset[0].sample, model.tokenizer))
    return run


def _describe(run: SftRun) -> str:
    t = run.cfg.train
    return (f"training {run.training_data.describe()} on {run.info.world_size} process(es) "
            f"({'DeepSpeed ' + Path(t.deepspeed).stem if t.deepspeed else 'torch'}), {run.data.steps_per_epoch} "
            f"steps/epoch, {run.total_steps} steps"
            + (f", resuming after step {run.state.step} from {run.ckpt}" if run.ckpt else "")
            + "".join(f", feature cache {s['feature_cache']}" for s in run.training_data.sources if s["feature_cache"])
            + (f"; evaluating on {run.evaluator.description} every {t.eval_every or run.total_steps} steps"
               if run.evaluator else ""))


def train_step(run: SftRun, batches) -> None:
    """One optimizer step over ``train.grad_accum`` micro-batches: metrics logged, evaluation and checkpoint when due."""
    t, state = run.cfg.train, run.state
    started = time.perf_counter()
    lr = run.steps.lr
    loss_sum, vad_sum, tokens, n_samples, dropped, cached, ids = 0.0, 0.0, 0, 0, 0, 0, []
    for micro in range(t.grad_accum):
        epoch, position, batch = next(batches)
        ids += batch["ids"]
        batch = to_device(batch, run.steps.device)
        loss = run.steps.micro_step(batch, last=micro == t.grad_accum - 1, grad_accum=t.grad_accum)
        loss_sum += loss.detach().float().item()
        vad_sum += run.loss_module.parts.get("vad", 0.0)
        tokens += batch["num_tokens"]
        n_samples += len(batch["ids"])
        dropped += len(batch["dropped"])
        cached += batch["cached"]
    grad_norm = run.steps.optimizer_step(t.max_grad_norm)
    state.step += 1
    state.epoch, state.epoch_position = epoch, position
    (mean_loss,) = mean_across_ranks([loss_sum / t.grad_accum])
    g_tokens, g_samples, g_dropped, g_cached = sum_across_ranks([tokens, n_samples, dropped, cached])
    state.samples_seen += int(g_samples)
    state.tokens_seen += int(g_tokens)
    state.dropped += int(g_dropped)
    elapsed = time.perf_counter() - started
    run.losses[state.step] = mean_loss
    run.log.sample_ids(state.step, ids)
    record = {"step": state.step, "epoch": epoch, "loss": mean_loss, "lr": lr, "grad_norm": grad_norm,
              "tokens_per_s": g_tokens / elapsed, "samples_per_s": g_samples / elapsed,
              "cached_samples": int(g_cached), "dropped": state.dropped}
    if run.model.dimensional_head is not None:  # the (1 - CCC) part of the loss, summed over dimensions
        (record["vad_loss"],) = mean_across_ranks([vad_sum / t.grad_accum])
    if run.evaluator is not None and (state.step == run.total_steps or (t.eval_every and state.step % t.eval_every == 0)):
        record["eval"] = run.evals[state.step] = evaluate_and_keep_best(run)
    run.log.step(record)
    if t.save_every > 0 and state.step % t.save_every == 0 and state.step < run.total_steps:
        save_training_checkpoint(run.run_dir, state, run.model, run.steps, run.info, t.keep_checkpoints)


def finish(run: SftRun) -> dict[str, Any]:
    """The last training checkpoint, final/, the eval loss; the run's summary."""
    state, info, log = run.state, run.info, run.log
    save_training_checkpoint(run.run_dir, state, run.model, run.steps, info, run.cfg.train.keep_checkpoints)
    final = save_final(run.run_dir, run.model, run.steps, info,
                       training_record(run.run_record, state, run.evals.get(state.step)))
    summary = {"run_dir": str(run.run_dir), "final": str(final), "steps": state.step, "losses": run.losses,
               "evals": run.evals, "best": ({"step": state.best_step, "score": state.best_score,
                                             "checkpoint": str(run.run_dir / BEST_DIR)} if state.best_step else None),
               "samples_seen": state.samples_seen, "dropped": state.dropped, "is_main": info.is_main,
               "resumed_from": str(run.ckpt) if run.ckpt else None,
               "skipped_checkpoints": [(str(folder), reason) for folder, reason in run.skipped]}
    if run.cfg.data.eval:
        summary["eval_loss"] = evaluate_loss(run.steps.forward, run.model, run.cfg, info, run.steps.device)
        log.write(f"eval loss {summary['eval_loss']:.4f}")
    if state.dropped:
        log.write(f"{state.dropped} unusable samples were replaced (too long for data.max_length or broken media); "
                  "run `affectllm recipe check` on the manifest to list them")
    log.write(f"done: {state.step} steps, final checkpoint {final}")
    log.close()
    return summary


def evaluate_and_keep_best(run: "SftRun") -> dict:
    """Generate and score on the eval manifest; a new best score saves ``run_dir/best`` (every rank joins)."""
    state, run_dir = run.state, run.run_dir
    scores = run.evaluator(run.model)
    improved = state.best_score is None or scores["score"] > state.best_score
    run.log.write(f"step {state.step}: eval {scores['task']} {scores['metric']} {scores['score']:.4f}"
              + (f" (best so far; saved to {run_dir / BEST_DIR})" if improved else
                 f" (best {state.best_score:.4f} at step {state.best_step})"))
    if improved:
        state.best_score, state.best_step = float(scores["score"]), state.step
        save_final(run_dir, run.model, run.steps, run.info, training_record(run.run_record, state, scores), BEST_DIR)
    return scores


@torch.no_grad()
def evaluate_loss(forward, model, cfg: Config, info: Rank, device: torch.device) -> float:
    """Token-weighted loss over the eval manifest, sharded over ranks (padding repeats are counted once more)."""
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    manifest = Path(cfg.data.eval)
    dataset = ManifestDataset(read_manifest(manifest), manifest.parent, model.processor)
    sampler = ShardSampler(len(dataset), info.rank, info.world_size, shuffle=False)
    loader = DataLoader(dataset, batch_size=cfg.train.micro_batch_size, sampler=sampler,
                        collate_fn=TrainCollator(model.processor), num_workers=cfg.data.num_workers)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in tqdm(loader, desc="eval", disable=not info.is_main, leave=False):
        n = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
        total += forward(to_device(batch, device)).float().item() * n
        count += n
    model.train(was_training)
    total, count = sum_across_ranks([total, count])
    return total / max(count, 1)
