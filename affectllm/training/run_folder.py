"""A run folder: checked manifests, the process group, the checkpoint to resume, the final and best checkpoints.

    OUTPUT_DIR/checkpoints/   training checkpoints (``affectllm.training.state``)
    OUTPUT_DIR/final/         the inference checkpoint after the last step, with its training.json
    OUTPUT_DIR/best/          the best in-loop evaluation so far (``train.eval_manifest``)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from affectllm.checkpoint.layout import write_training_record
from affectllm.config.schema import Config, train_sources
from affectllm.core.distributed import Rank, barrier, join_training_group
from affectllm.core.errors import AffectLLMError, ConfigError
from affectllm.training.run_log import write_run_info
from affectllm.core.durable import fsync_tree, replace_dir
from affectllm.training.state import TrainerState, checkpoint_problem, find_checkpoint, save_model_weights

FINAL_DIR = "final"
BEST_DIR = "best"


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
    ckpt, skipped = resume_checkpoint(run_dir, resume)
    if info.is_main:
        for folder, reason in skipped:
            print(f"affectllm train: skipping checkpoint {folder}: {reason}", file=sys.stderr, flush=True)
    write_run_info(run_dir, cfg, info)
    barrier()
    return sources, info, run_dir, ckpt, skipped


def resume_checkpoint(run_dir: Path, resume: str | bool) -> tuple[Path | None, list[tuple[Path, str]]]:
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


def save_final(run_dir: Path, model, steps, info: Rank, record: dict, name: str = FINAL_DIR) -> Path:
    """An inference checkpoint ``run_dir/name`` with its ``training.json``, replacing the previous one atomically."""
    final, tmp = run_dir / name, run_dir / f".tmp-{name}"
    if info.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
    barrier()
    save_model_weights(model, steps, tmp, info)
    if info.is_main:
        write_training_record(tmp, record)
        fsync_tree(tmp)
        replace_dir(tmp, final)  # the previous final stays until the new one is in place
    barrier()
    return final


def training_record(run_record: dict, state: TrainerState, evaluation: dict | None) -> dict:
    """What ``training.json`` says about a checkpoint: data, recipe, how far it trained, its scores."""
    return {**run_record, "step": state.step, "samples_seen": state.samples_seen, "tokens_seen": state.tokens_seen,
            "eval": evaluation, "best": {"step": state.best_step, "score": state.best_score}
            if state.best_step else None}


def training_questions(training_data, tokenizer) -> dict:
    """What the training manifests ask and how long their answers are (``affectllm.model.questions``), for
    ``training.json``: the checkpoint is asked the same question at inference."""
    from affectllm.model.questions import summarize_questions

    parts = getattr(training_data.dataset, "datasets", [training_data.dataset])  # a ConcatDataset of manifests
    return summarize_questions((s for part in parts for s in part.samples), tokenizer)
