"""The training loop: one entry for `affectllm train`, `deepspeed train/train.py` and `torchrun`.

With ``train.deepspeed`` set, the model runs inside a DeepSpeed engine (ZeRO 2/3,
optional CPU offload) with a client torch AdamW, so nothing is JIT-compiled;
otherwise plain torch (DistributedDataParallel when several processes are
launched). Either way: the same data order, the same checkpoints, exact resume.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import torch

from affectllm.checkpoint import FUSION_FILE, load_trained_weights, write_training_record
from affectllm.config import Config, config_to_dict, train_sources
from affectllm.errors import AffectLLMError, ConfigError
from affectllm.model import AffectModel
from affectllm.processor import IGNORE_INDEX
from affectllm.training.dataset import ManifestDataset, TrainCollator, build_training_data, read_manifest
from affectllm.distributed import (Rank, barrier, join_training_group, mean_across_ranks,
                                            sum_across_ranks)
from affectllm.training.feature_cache import INDEX_FILE, FeatureCache, cache_signature
from affectllm.training.loss import AnswerLoss
from affectllm.training.optim import build_optimizer, build_scheduler, parameter_groups
from affectllm.training.run_log import RunLogger, write_run_info
from affectllm.training.sampler import ShardSampler
from affectllm.training.state import (TrainerState, checkpoint_problem, find_checkpoint, fsync_tree,
                                      load_training_checkpoint, replace_dir,
                                      save_model_weights, save_training_checkpoint)

FINAL_DIR = "final"
BEST_DIR = "best"


def default_cache_dir(manifest: str | Path) -> Path:
    """Where `affectllm cache-features` writes by default and training looks when data.feature_cache is unset."""
    manifest = Path(manifest)
    return manifest.parent / f"{manifest.stem}.features"


def open_feature_cache(cfg: Config, model, manifest: Path) -> FeatureCache | None:
    folder = Path(cfg.data.feature_cache) if cfg.data.feature_cache else default_cache_dir(manifest)
    if not cfg.data.feature_cache and (cfg.model.train_encoders or not (folder / INDEX_FILE).exists()):
        return None  # nothing found beside the manifest, or trained encoders that a cache cannot follow
    if cfg.model.train_encoders:
        raise ConfigError("data.feature_cache is set but model.train_encoders is true; cached features "
                          "cannot follow trained encoders — drop one of the two")
    return FeatureCache.open(folder, cache_signature(dict(model.encoders), cfg.data.media, cfg.model.max_text_tokens))


def build_model(cfg: Config) -> AffectModel:
    """A fresh model whose ``cfg.train.stage`` parts train, started from ``train.init_from`` when set."""
    torch.manual_seed(cfg.train.seed)  # every rank builds the same fresh fusion / LoRA weights
    model = AffectModel.from_config(cfg)
    if cfg.train.init_from:
        start = Path(cfg.train.init_from)
        if not (start / FUSION_FILE).is_file():
            raise ConfigError(f"train.init_from: {start} is not an affectllm checkpoint (no {FUSION_FILE})")
        load_trained_weights(model, start)
    model.train()
    return model


class MicroBatches:
    """Endless micro-batches for this rank, epoch after epoch, from any saved position.

    Each epoch stops after a whole number of optimizer steps, so every rank does the
    same number of steps and the position after a step is exact."""

    def __init__(self, dataset, collator: TrainCollator, sampler: ShardSampler, cfg: Config):
        self.dataset, self.collator, self.sampler, self.cfg = dataset, collator, sampler, cfg
        t = cfg.train
        self.steps_per_epoch = sampler.per_rank // (t.micro_batch_size * t.grad_accum)
        self.samples_per_epoch = self.steps_per_epoch * t.micro_batch_size * t.grad_accum

    def iterate(self, epoch: int, position: int) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """Yields (epoch, position after this batch, batch)."""
        from torch.utils.data import DataLoader

        mbs = self.cfg.train.micro_batch_size
        workers = self.cfg.data.num_workers
        while True:
            if position >= self.samples_per_epoch:
                epoch, position = epoch + 1, 0
            self.sampler.set_position(epoch, position)
            loader = DataLoader(self.dataset, batch_size=mbs, sampler=self.sampler, collate_fn=self.collator,
                                num_workers=workers, prefetch_factor=4 if workers else None,
                                # own generator: worker seeding must not draw from the global RNG
                                generator=torch.Generator().manual_seed(self.cfg.train.seed + epoch))
            for batch in loader:
                position += mbs
                yield epoch, position, batch
                if position >= self.samples_per_epoch:
                    break


def label_view(sample, tokenizer) -> str:
    """A prepared sample's text with the tokens that train in [[ ]] (placeholder runs shortened)."""
    from affectllm.conversation import RenderedConversation
    from affectllm.processor import IGNORE_INDEX

    text = RenderedConversation(sample.input_ids, [t != IGNORE_INDEX for t in sample.labels]).debug_view(tokenizer)
    for token in set(re.findall(r"<\|affect_\w+\|>", text)):
        text = re.sub(f"(?:{re.escape(token)}){{2,}}", lambda m: f"{token}×{len(m.group(0)) // len(token)}", text)
    return text


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    if device.type == "cpu":
        return batch
    out = dict(batch)
    for key in ("input_ids", "attention_mask", "labels"):
        out[key] = batch[key].to(device, non_blocking=True)
    out["media_inputs"] = {m: {k: v.to(device, non_blocking=True) for k, v in inputs.items()}
                           for m, inputs in batch["media_inputs"].items()}
    return out


def train(cfg: Config, resume: str | bool = False) -> dict[str, Any]:
    """Run training as configured. ``resume``: False (fresh; refuses a used output_dir), True (newest
    checkpoint in train.output_dir), or a checkpoint folder. Returns a summary (losses, paths, counts).
    ``train.stage: grpo`` runs the reinforcement stage (``affectllm.training.grpo``)."""
    if cfg.train.stage == "grpo":
        from affectllm.training.grpo.loop import train_grpo

        return train_grpo(cfg, resume)
    sources, info, run_dir, ckpt, skipped = open_run(cfg, resume)
    use_ds = bool(cfg.train.deepspeed)
    model = build_model(cfg)
    training_data = build_training_data(sources, model.processor,
                                        lambda manifest: open_feature_cache(cfg, model, manifest))
    dataset = training_data.dataset
    sampler = ShardSampler(len(dataset), info.rank, info.world_size, cfg.train.seed, mixture=training_data.mixture)
    data = MicroBatches(dataset, TrainCollator(model.processor), sampler, cfg)
    evaluator = None
    if cfg.train.eval_manifest:
        from affectllm.training.generation_eval import GenerationEval

        evaluator = GenerationEval(cfg, info)
    t = cfg.train
    if data.steps_per_epoch == 0:
        raise ConfigError(f"{sources[0].path}: {len(dataset)} samples are fewer than one optimizer step needs "
                          f"(micro_batch_size {t.micro_batch_size} × grad_accum {t.grad_accum} × {info.world_size} "
                          "processes)")
    total_steps = t.max_steps if t.max_steps > 0 else max(1, math.ceil(t.epochs * data.steps_per_epoch))

    groups = parameter_groups(model, t)
    loss_module = AnswerLoss(model, packing=cfg.data.packing)
    engine, ddp, optimizer, scheduler, device = prepare_engine(cfg, info, model, loss_module, groups, total_steps)
    state = TrainerState(step=0, epoch=0, epoch_position=0, world_size=info.world_size)
    if ckpt is not None:
        state = load_training_checkpoint(ckpt, model, engine, optimizer, scheduler, info)
    log = RunLogger(run_dir, cfg, info, total_steps, state.step)
    log.write(f"training {training_data.describe()} on {info.world_size} process(es) "
              f"({'DeepSpeed ' + Path(t.deepspeed).stem if use_ds else 'torch'}), {data.steps_per_epoch} steps/epoch, "
              f"{total_steps} steps" + (f", resuming after step {state.step} from {ckpt}" if ckpt else "")
              + "".join(f", feature cache {s['feature_cache']}" for s in training_data.sources if s["feature_cache"])
              + (f"; evaluating on {evaluator.description} every {t.eval_every or total_steps} steps" if evaluator
                 else ""))

    if info.is_main and ckpt is None:
        log.write("first sample, trained tokens in [[ ]]:\n" + label_view(dataset[0].sample, model.tokenizer))
    forward = engine if engine is not None else (ddp or loss_module)
    trainable = [p for g in groups for p in g["params"]]
    batches = data.iterate(state.epoch, state.epoch_position)
    losses: dict[int, float] = {}
    evals: dict[int, dict] = {}
    run_record = {"data": training_data.sources, "config": config_to_dict(cfg)}
    while state.step < total_steps:
        started = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]  # what this step uses; the scheduler moves it after the step
        loss_sum, vad_sum, tokens, n_samples, dropped, cached, ids = 0.0, 0.0, 0, 0, 0, 0, []
        for micro in range(t.grad_accum):
            epoch, position, batch = next(batches)
            ids += batch["ids"]
            batch = _to_device(batch, device)
            loss = micro_step(engine, ddp, forward, batch, last=micro == t.grad_accum - 1, grad_accum=t.grad_accum)
            loss_sum += loss.detach().float().item()
            vad_sum += loss_module.parts.get("vad", 0.0)
            tokens += batch["num_tokens"]
            n_samples += len(batch["ids"])
            dropped += len(batch["dropped"])
            cached += batch["cached"]
        grad_norm = optimizer_step(engine, optimizer, scheduler, trainable, t.max_grad_norm)
        state.step += 1
        state.epoch, state.epoch_position = epoch, position
        (mean_loss,) = mean_across_ranks([loss_sum / t.grad_accum])
        g_tokens, g_samples, g_dropped, g_cached = sum_across_ranks([tokens, n_samples, dropped, cached])
        state.samples_seen += int(g_samples)
        state.tokens_seen += int(g_tokens)
        state.dropped += int(g_dropped)
        elapsed = time.perf_counter() - started
        losses[state.step] = mean_loss
        log.sample_ids(state.step, ids)
        record = {"step": state.step, "epoch": epoch, "loss": mean_loss, "lr": lr, "grad_norm": grad_norm,
                  "tokens_per_s": g_tokens / elapsed, "samples_per_s": g_samples / elapsed,
                  "cached_samples": int(g_cached), "dropped": state.dropped}
        if model.dimensional_head is not None:  # the (1 - CCC) part of the loss, summed over dimensions
            (record["vad_loss"],) = mean_across_ranks([vad_sum / t.grad_accum])
        if evaluator is not None and (state.step == total_steps or (t.eval_every and state.step % t.eval_every == 0)):
            record["eval"] = evals[state.step] = _evaluate_and_keep_best(evaluator, model, engine, state, run_dir,
                                                                         info, log, run_record)
        log.step(record)
        if t.save_every > 0 and state.step % t.save_every == 0 and state.step < total_steps:
            save_training_checkpoint(run_dir, state, model, engine, optimizer, scheduler, info, t.keep_checkpoints)
    batches.close()  # shut DataLoader workers down before saving

    save_training_checkpoint(run_dir, state, model, engine, optimizer, scheduler, info, t.keep_checkpoints)
    final = _save_final(run_dir, model, engine, info, _training_record(run_record, state, evals.get(state.step)))
    summary = {"run_dir": str(run_dir), "final": str(final), "steps": state.step, "losses": losses,
               "evals": evals, "best": ({"step": state.best_step, "score": state.best_score,
                                         "checkpoint": str(run_dir / BEST_DIR)} if state.best_step else None),
               "samples_seen": state.samples_seen, "dropped": state.dropped, "is_main": info.is_main,
               "resumed_from": str(ckpt) if ckpt else None,
               "skipped_checkpoints": [(str(folder), reason) for folder, reason in skipped]}
    if cfg.data.eval:
        summary["eval_loss"] = evaluate_loss(forward, model, cfg, info, device)
        log.write(f"eval loss {summary['eval_loss']:.4f}")
    if state.dropped:
        log.write(f"{state.dropped} unusable samples were replaced (too long for data.max_length or broken media); "
                  "run `affectllm recipe check` on the manifest to list them")
    log.write(f"done: {state.step} steps, final checkpoint {final}")
    log.close()
    return summary


def open_run(cfg: Config, resume: str | bool) -> tuple[list, Rank, Path, Path | None, list[tuple[Path, str]]]:
    """Check the training manifests, join the process group, find the checkpoint to resume (reporting the newer
    folders passed over) and write the run's config and environment. Returns (sources, info, run_dir, checkpoint,
    skipped)."""
    sources = train_sources(cfg)
    if not sources:
        raise ConfigError("config key 'data.train' is required: a training manifest JSONL (or a list of "
                          "{path, weight})")
    for key, source in [(f"data.train{'' if len(sources) == 1 else f'[{i}]'}", s) for i, s in enumerate(sources)]:
        if not Path(source.path).is_file():
            raise ConfigError(f"config key '{key}': manifest {source.path} not found (relative paths are tried from "
                              "the config's folder, then the working directory)")
    info = join_training_group(bool(cfg.train.deepspeed))
    run_dir = Path(cfg.train.output_dir)
    ckpt, skipped = _resume_checkpoint(run_dir, resume)
    if info.is_main:
        for folder, reason in skipped:
            print(f"affectllm train: skipping checkpoint {folder}: {reason}", file=sys.stderr, flush=True)
    write_run_info(run_dir, cfg, info)
    barrier()
    return sources, info, run_dir, ckpt, skipped


def prepare_engine(cfg: Config, info: Rank, model, loss_module, groups: list[dict], total_steps: int):
    """Optimizer, schedule and the wrapper ``loss_module`` trains in: a DeepSpeed engine (``train.deepspeed``),
    DDP (several plain-torch processes) or nothing. Returns (engine, ddp, optimizer, scheduler, device)."""
    t = cfg.train
    engine = ddp = None
    if t.deepspeed:
        import deepspeed

        from affectllm.training.deepspeed_config import deepspeed_config, offloads_optimizer

        ds_config = deepspeed_config(cfg, info.world_size)
        optimizer = build_optimizer(groups, cpu_offload=offloads_optimizer(ds_config))
        scheduler = build_scheduler(optimizer, t, total_steps)
        engine, optimizer, _, scheduler = deepspeed.initialize(model=loss_module, optimizer=optimizer,
                                                               lr_scheduler=scheduler, config=ds_config)
        return engine, ddp, optimizer, scheduler, engine.device
    device = info.device
    model.to(device)
    optimizer = build_optimizer(groups)
    scheduler = build_scheduler(optimizer, t, total_steps)
    if info.sharded:
        from torch.nn.parallel import DistributedDataParallel

        # a sample without one modality leaves that pooling branch unused
        ddp = DistributedDataParallel(loss_module, device_ids=[device.index] if device.type == "cuda" else None,
                                      find_unused_parameters=True)
    return engine, ddp, optimizer, scheduler, device


def micro_step(engine, ddp, forward, batch: dict[str, Any], last: bool, grad_accum: int) -> torch.Tensor:
    """Forward and backward of one micro-batch; gradients sync across ranks only on the ``last`` of a step."""
    if engine is not None:
        loss = engine(batch)
        engine.backward(loss)
        engine.step()  # DeepSpeed steps its optimizer itself at the accumulation boundary
        return loss
    with ddp.no_sync() if ddp is not None and not last else contextlib.nullcontext():
        loss = forward(batch)
        (loss / grad_accum).backward()
    return loss


def optimizer_step(engine, optimizer, scheduler, trainable: list, max_grad_norm: float) -> float | None:
    """Clip, step and schedule after the last micro-batch of a step (DeepSpeed has already); the gradient norm."""
    if engine is not None:
        grad_norm = engine.get_global_grad_norm()
        return float(grad_norm) if grad_norm is not None else None
    grad_norm = float(torch.nn.utils.clip_grad_norm_(trainable, max_grad_norm)) if max_grad_norm > 0 else None
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return grad_norm


def _resume_checkpoint(run_dir: Path, resume: str | bool) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The checkpoint to resume from and the newer folders passed over, with the reason for each."""
    skipped: list[tuple[Path, str]] = []
    if resume is False or resume is None:
        if find_checkpoint(run_dir) is not None:
            raise AffectLLMError(f"{run_dir} already holds checkpoints; pass --resume to continue it or set "
                                 "train.output_dir to a new folder")
        return None, skipped
    if resume is True:
        found = find_checkpoint(run_dir, skipped)
        if found is None:
            why = "".join(f"; {folder.name}: {reason}" for folder, reason in skipped)
            raise AffectLLMError(f"--resume: no complete checkpoint under {run_dir}/checkpoints{why}; "
                                 "start without --resume")
        return found, skipped
    path = Path(resume)
    problem = checkpoint_problem(path)
    if problem is not None:
        raise AffectLLMError(f"--resume {path}: not a complete training checkpoint ({problem})")
    return path, skipped


def _save_final(run_dir: Path, model, engine, info: Rank, record: dict, name: str = FINAL_DIR) -> Path:
    """An inference checkpoint ``run_dir/name`` with its ``training.json``, replacing the previous one atomically."""
    final, tmp = run_dir / name, run_dir / f".tmp-{name}"
    if info.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
    barrier()
    save_model_weights(model, engine, tmp, info)
    if info.is_main:
        write_training_record(tmp, record)
        fsync_tree(tmp)
        replace_dir(tmp, final)  # the previous final stays until the new one is in place
    barrier()
    return final


def _training_record(run_record: dict, state: TrainerState, evaluation: dict | None) -> dict:
    """What ``training.json`` says about a checkpoint: data, recipe, how far it trained, its scores."""
    return {**run_record, "step": state.step, "samples_seen": state.samples_seen, "tokens_seen": state.tokens_seen,
            "eval": evaluation, "best": {"step": state.best_step, "score": state.best_score}
            if state.best_step else None}


def _evaluate_and_keep_best(evaluator, model, engine, state: TrainerState, run_dir: Path, info: Rank, log,
                            run_record: dict) -> dict:
    """Generate and score on the eval manifest; a new best score saves ``run_dir/best`` (every rank joins)."""
    scores = evaluator(model)
    improved = state.best_score is None or scores["score"] > state.best_score
    log.write(f"step {state.step}: eval {scores['task']} {scores['metric']} {scores['score']:.4f}"
              + (f" (best so far; saved to {run_dir / BEST_DIR})" if improved else
                 f" (best {state.best_score:.4f} at step {state.best_step})"))
    if improved:
        state.best_score, state.best_step = float(scores["score"]), state.step
        _save_final(run_dir, model, engine, info, _training_record(run_record, state, scores), BEST_DIR)
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
        total += forward(_to_device(batch, device)).float().item() * n
        count += n
    model.train(was_training)
    total, count = sum_across_ranks([total, count])
    return total / max(count, 1)
