"""One training run, whatever the stage (SFT, GRPO): what it opens, holds and closes.

A stage (``affectllm.training.trainer`` for SFT, ``affectllm.training.grpo.loop``) supplies its collator,
its loss and its step; this module does the rest the same way for both: the run folder and the checkpoint
to resume (``run_folder``), the model as configured and the feature cache its encoders read instead of
decoding media, the data order (``ShardSampler`` over ``MicroBatches``), the step strategy
(``steps``: DeepSpeed ZeRO 2/3 or torch/DDP), the restored state, the log, the checkpoints when due,
and the finish (the last checkpoint, ``final/``, the summary both stages return).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from affectllm.checkpoint.layout import FUSION_FILE, load_trained_weights
from affectllm.config.schema import Config
from affectllm.core.distributed import Rank
from affectllm.core.errors import ConfigError
from affectllm.model.affect_model import AffectModel
from affectllm.training.batches import MicroBatches
from affectllm.training.dataset import build_training_data
from affectllm.training.feature_cache import INDEX_FILE, FeatureCache, cache_signature
from affectllm.training.optim import parameter_groups
from affectllm.training.run_folder import open_run, save_final, training_record
from affectllm.training.run_log import RunLogger
from affectllm.training.sampler import ShardSampler
from affectllm.training.state import TrainerState, load_training_checkpoint, save_training_checkpoint
from affectllm.training.steps import Steps, prepare_steps


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


@dataclass
class Opened:
    """A run before its engine: the folder, the checkpoint to resume (or None), the model and the data."""

    cfg: Config
    info: Rank
    run_dir: Path
    ckpt: Path | None
    skipped: list[tuple[Path, str]]
    model: AffectModel
    training_data: Any

    def open_cache(self, manifest: Path) -> FeatureCache | None:
        return open_feature_cache(self.cfg, self.model, manifest)


@dataclass
class Run(Opened):
    """Everything a run holds between set-up, the loop and the finish; a stage's run adds its own fields."""

    data: MicroBatches
    loss_module: torch.nn.Module
    steps: Steps
    state: TrainerState
    total_steps: int
    log: RunLogger | None  # opened by begin()
    losses: dict[int, float] = field(default_factory=dict)
    evals: dict[int, dict] = field(default_factory=dict)


def open_training(cfg: Config, resume: str | bool, generation: bool = False) -> Opened:
    """The run folder (``resume`` as in ``affectllm.training.trainer.train``), the model built from
    ``train.seed``, and the training data with its feature caches (``generation``: prompts without answers)."""
    sources, info, run_dir, ckpt, skipped = open_run(cfg, resume)
    model = build_model(cfg)
    opened = Opened(cfg, info, run_dir, ckpt, skipped, model, None)
    opened.training_data = build_training_data(sources, model.processor, opened.open_cache, generation=generation)
    return opened


def start_run(opened: Opened, collator, loss_module: torch.nn.Module, unit: str = "samples",
              step_name: str = "optimizer step", steps_per_batch: int = 1, kind: type[Run] = Run, **stage) -> Run:
    """The engine of an opened run: ``collator`` batches the data in the seeded order of every rank,
    ``loss_module`` is what the step strategy minimises; :func:`begin` then restores a checkpoint. ``unit`` /
    ``step_name`` name a sample and what consumes one batch (for the too-little-data error);
    ``steps_per_batch``: optimizer steps each batch serves (GRPO's updates per rollout). ``kind`` and
    ``stage``: the stage's Run class and its own fields."""
    cfg, info, t = opened.cfg, opened.info, opened.cfg.train
    dataset = opened.training_data.dataset
    sampler = ShardSampler(len(dataset), info.rank, info.world_size, t.seed, mixture=opened.training_data.mixture)
    data = MicroBatches(dataset, collator, sampler, cfg)
    if data.steps_per_epoch == 0:
        raise ConfigError(f"{opened.training_data.sources[0]['path']}: {len(dataset)} {unit} are fewer than one "
                          f"{step_name} needs (micro_batch_size {t.micro_batch_size} × grad_accum {t.grad_accum} × "
                          f"{info.world_size} processes)")
    total_steps = (t.max_steps if t.max_steps > 0
                   else max(1, math.ceil(t.epochs * data.steps_per_epoch * steps_per_batch)))
    steps = prepare_steps(cfg, info, opened.model, loss_module, parameter_groups(opened.model, t), total_steps)
    state = TrainerState(step=0, epoch=0, epoch_position=0, world_size=info.world_size)
    return kind(**{f.name: getattr(opened, f.name) for f in fields(Opened)}, data=data, loss_module=loss_module,
                steps=steps, state=state, total_steps=total_steps, log=None, **stage)


def begin(run: Run) -> None:
    """Restore the checkpoint being resumed (weights, optimizer, schedule, data position, every RNG) and open
    the log. Whatever draws random numbers while a run is set up comes before this, so a resumed run
    continues the uninterrupted one exactly."""
    if run.ckpt is not None:
        run.state = load_training_checkpoint(run.ckpt, run.model, run.steps, run.info)
    run.log = RunLogger(run.run_dir, run.cfg, run.info, run.total_steps, run.state.step)


def engine_name(cfg: Config) -> str:
    """How the run's processes train, for its first log line."""
    return f"DeepSpeed {Path(cfg.train.deepspeed).stem}" if cfg.train.deepspeed else "torch"


def due(run: Run, every: int) -> bool:
    """Whether an every-``every``-steps task runs after this step (the last step always counts)."""
    return run.state.step == run.total_steps or bool(every and run.state.step % every == 0)


def save_when_due(run: Run) -> None:
    """A training checkpoint every ``train.save_every`` steps (the finish saves the last one)."""
    t, state = run.cfg.train, run.state
    if t.save_every > 0 and state.step % t.save_every == 0 and state.step < run.total_steps:
        save_training_checkpoint(run.run_dir, state, run.model, run.steps, run.info, t.keep_checkpoints)


def save_last(run: Run, record: dict) -> Path:
    """The last training checkpoint and ``final/`` with its training record (``record`` plus the run's
    counts and the last evaluation); the final folder."""
    state = run.state
    save_training_checkpoint(run.run_dir, state, run.model, run.steps, run.info, run.cfg.train.keep_checkpoints)
    return save_final(run.run_dir, run.model, run.steps, run.info,
                      training_record(record, state, run.evals.get(state.step)))


def close(run: Run, final: Path, dropped_note: str, done: str) -> dict[str, Any]:
    """Log what was replaced (``dropped_note`` after the count) and ``done``, close the log; the summary
    both stages return (a stage adds its own keys)."""
    state = run.state
    if state.dropped:
        run.log.write(f"{state.dropped} {dropped_note}; run `affectllm recipe check` on the manifest to list them")
    run.log.write(f"{done}, final checkpoint {final}")
    run.log.close()
    return {"run_dir": str(run.run_dir), "final": str(final), "steps": state.step, "losses": run.losses,
            "evals": run.evals, "samples_seen": state.samples_seen, "dropped": state.dropped,
            "is_main": run.info.is_main, "resumed_from": str(run.ckpt) if run.ckpt else None,
            "skipped_checkpoints": [(str(folder), reason) for folder, reason in run.skipped]}
