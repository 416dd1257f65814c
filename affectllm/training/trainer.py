"""The SFT stage: one entry for `affectllm train`, `deepspeed train/train.py` and `torchrun`.

``train`` runs SFT (or hands ``train.stage: grpo`` to ``affectllm.training.grpo.loop``). The run itself
(folder, model, data order, the DeepSpeed ZeRO 2/3 or torch/DDP step strategy, checkpoints, exact resume,
the finish) is ``affectllm.training.run``'s; this module adds what SFT alone has: the answer-token loss
and its step, generation evaluation with ``best/``, and the eval loss at the end.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from affectllm.config.schema import Config, config_to_dict
from affectllm.model.conversation import RenderedConversation
from affectllm.core.distributed import Rank, mean_across_ranks, sum_across_ranks
from affectllm.model.processor import IGNORE_INDEX
from affectllm.training.batches import to_device
from affectllm.training.dataset import ManifestDataset, TrainCollator, read_manifest
from affectllm.training.loss import AnswerLoss
from affectllm.training.run import (Run, begin, close, due, engine_name, open_training, save_last, save_when_due,
                                    start_run)
from affectllm.training.run_folder import BEST_DIR, save_final, training_questions, training_record
from affectllm.training.sampler import ShardSampler


def label_view(sample, tokenizer) -> str:
    """A prepared sample's text with the tokens that train in [[ ]] (placeholder runs shortened)."""
    text = RenderedConversation(sample.input_ids, [t != IGNORE_INDEX for t in sample.labels]).debug_view(tokenizer)
    for token in set(re.findall(r"<\|affect_\w+\|>", text)):
        text = re.sub(f"(?:{re.escape(token)}){{2,}}", lambda m: f"{token}×{len(m.group(0)) // len(token)}", text)
    return text


@dataclass
class SftRun(Run):
    """An SFT run: the common run, what its final/ records, and the generation evaluator if any."""

    run_record: dict = field(default_factory=dict)
    evaluator: Any = None


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
    opened = open_training(cfg, resume)
    model = opened.model
    run = start_run(opened, TrainCollator(model.processor), AnswerLoss(model, packing=cfg.data.packing), kind=SftRun)
    begin(run)
    run.run_record = {"data": run.training_data.sources, "config": config_to_dict(cfg),
                      "questions": training_questions(run.training_data, model.tokenizer)}
    if cfg.train.eval_manifest:
        from affectllm.training.generation_eval import GenerationEval

        run.evaluator = GenerationEval(cfg, run.info)
    run.log.write(_describe(run))
    if run.info.is_main and run.ckpt is None:
        run.log.write("first sample, trained tokens in [[ ]]:\n"
                      + label_view(run.training_data.dataset[0].sample, model.tokenizer))
    return run


def _describe(run: SftRun) -> str:
    t = run.cfg.train
    return (f"training {run.training_data.describe()} on {run.info.world_size} process(es) "
            f"({engine_name(run.cfg)}), {run.data.steps_per_epoch} "
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
    if run.evaluator is not None and due(run, t.eval_every):
        record["eval"] = run.evals[state.step] = evaluate_and_keep_best(run)
    run.log.step(record)
    save_when_due(run)


def finish(run: SftRun) -> dict[str, Any]:
    """The last training checkpoint, final/, the eval loss; the run's summary."""
    state = run.state
    final = save_last(run, run.run_record)
    summary = {"best": ({"step": state.best_step, "score": state.best_score,
                         "checkpoint": str(run.run_dir / BEST_DIR)} if state.best_step else None)}
    if run.cfg.data.eval:
        summary["eval_loss"] = evaluate_loss(run.steps.forward, run.model, run.cfg, run.info, run.steps.device)
        run.log.write(f"eval loss {summary['eval_loss']:.4f}")
    return close(run, final, "unusable samples were replaced (too long for data.max_length or broken media)",
                 f"done: {state.step} steps") | summary


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
