"""Training checkpoints: written atomically, found again on resume.

    OUTPUT_DIR/checkpoints/step_0000040/
        affectllm.yaml adapter/ fusion.safetensors tokenizer/   an inference checkpoint (affectllm.checkpoint.layout)
        optimizer.pt                     plain torch: optimizer + scheduler state (tensors only)
        deepspeed/                       DeepSpeed: its own sharded optimizer, scheduler, trainable weights
        rng/rank_00000.json ...          every rank's Python / NumPy / torch RNG states
        trainer_state.json               step, data position, world size
        checkpoint_complete.json         written last: the size and SHA-256 of every file above, signed
                                         with this user's resume key (``resume_trust``)
    OUTPUT_DIR/checkpoints/latest        name of the newest complete checkpoint (for people; resume checks)

Everything is written into ``.tmp-step_...``, fsynced (files, then folders), and only
then gets its completion marker, itself fsynced, before the folder is renamed into
place. A checkpoint is complete when its marker exists and every file it lists has
the recorded size; ``--resume`` takes the newest complete one and reports each newer
folder it skipped and why (no marker: the save was interrupted; a file missing or
truncated since). Before its state loads, the chosen checkpoint must carry this user's
signature and every file must still hash as saved (``affectllm.training.resume_trust``):
resume folders are trusted input, since DeepSpeed's state is pickled. Re-saving a step moves the old folder aside before the rename and
deletes it only afterwards, and pruning only ever removes checkpoints older than a
complete one, so the only good copy is never deleted.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectllm.core.durable import OLD_PREFIX, fsync_tree, replace_dir, write_atomic
from affectllm.checkpoint.layout import save_checkpoint
from affectllm.core.distributed import Rank, barrier
from affectllm.core.errors import AffectLLMError

CHECKPOINTS_DIR = "checkpoints"
LATEST = "latest"
STATE_FILE = "trainer_state.json"
COMPLETE_FILE = "checkpoint_complete.json"
OPTIMIZER_FILE = "optimizer.pt"
DEEPSPEED_DIR = "deepspeed"
DEEPSPEED_TAG = "state"


@dataclass
class TrainerState:
    step: int  # optimizer steps done
    epoch: int  # epoch the next micro-batch comes from
    epoch_position: int  # samples this rank already consumed in that epoch
    world_size: int
    samples_seen: int = 0  # over all ranks
    tokens_seen: int = 0
    dropped: int = 0
    best_score: float | None = None  # main metric of the best in-loop evaluation so far (train.eval_manifest)
    best_step: int | None = None


def checkpoint_name(step: int) -> str:
    return f"step_{step:07d}"


# ------------------------------------------------------------------ RNG

def rng_state() -> dict[str, Any]:
    py = random.getstate()
    np_state = np.random.get_state()
    state = {"python": [py[0], list(py[1]), py[2]],
             "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
             "torch": torch.get_rng_state().tolist()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state().tolist()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    npst = state["numpy"]
    np.random.set_state((npst[0], np.array(npst[1], dtype=np.uint32), npst[2], npst[3], npst[4]))
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(torch.tensor(state["cuda"], dtype=torch.uint8))


# ------------------------------------------------------------------ save

def _write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=1) if not isinstance(data, str) else data)


def _file_sizes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def mark_complete(folder: Path, step: int) -> None:
    """Sync everything in ``folder``, then write its completion marker (sizes, hashes, signature) last."""
    from affectllm.training.resume_trust import sign_state

    fsync_tree(folder)
    sizes = _file_sizes(folder)
    _write_json_atomic(folder / COMPLETE_FILE, {"step": step, "files": sizes, **sign_state(folder, step, list(sizes))})


def save_model_weights(model, steps, out: Path, info: Rank) -> None:
    """The inference checkpoint part (rank 0 writes; every rank joins a ZeRO-3 gather). ``steps``: the run's
    step strategy (``affectllm.training.steps``)."""
    with steps.gathered(model):
        if info.is_main:
            save_checkpoint(model, out)


def save_training_checkpoint(run_dir: Path, state: TrainerState, model, steps, info: Rank, keep: int) -> Path:
    """Write a complete checkpoint for ``state.step``; returns its folder. Every rank must call it."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    name = checkpoint_name(state.step)
    tmp, final = root / f".tmp-{name}", root / name
    if info.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "rng").mkdir(parents=True)
    barrier()
    steps.save_state(tmp, info)
    save_model_weights(model, steps, tmp, info)
    write_atomic(tmp / "rng" / f"rank_{info.rank:05d}.json", json.dumps(rng_state()))
    barrier()
    if info.is_main:
        _write_json_atomic(tmp / STATE_FILE, asdict(state))
        mark_complete(tmp, state.step)
        replace_dir(tmp, final)
        _write_json_atomic(root / LATEST, name)
        _prune(root, keep, newest=final)
    barrier()
    return final


def _step_of(folder: Path) -> int:
    try:
        return int(folder.name.rsplit("step_", 1)[1])
    except (IndexError, ValueError):
        return -1


def _prune(root: Path, keep: int, newest: Path) -> None:
    """Drop what ``newest`` (just marked complete) supersedes: complete checkpoints beyond the ``keep``
    newest, folders of older steps that never completed, and copies moved aside."""
    complete = sorted((p for p in root.glob("step_*") if checkpoint_problem(p) is None), key=_step_of)
    doomed = complete[:-keep] if keep > 0 else []
    doomed += [p for p in root.glob("step_*") if p not in complete and _step_of(p) < _step_of(newest)]
    doomed += list(root.glob(f"{OLD_PREFIX}step_*"))
    for old in doomed:
        if old != newest:
            shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------ resume

def checkpoint_problem(ckpt: Path) -> str | None:
    """Why ``ckpt`` is not a complete checkpoint, or None when it is (see the module docstring)."""
    marker = Path(ckpt) / COMPLETE_FILE
    if not marker.is_file():
        return f"no {COMPLETE_FILE} (its save was interrupted)"
    try:
        files = json.loads(marker.read_text())["files"]
    except (ValueError, KeyError, TypeError, OSError):
        return f"{COMPLETE_FILE} is unreadable"
    for rel, size in files.items():
        path = Path(ckpt) / rel
        if not path.is_file():
            return f"{rel} is missing"
        if path.stat().st_size != size:
            return f"{rel} has {path.stat().st_size} bytes, {size} when it was saved"
    try:
        TrainerState(**json.loads((Path(ckpt) / STATE_FILE).read_text()))
    except (ValueError, TypeError, OSError):
        return f"{STATE_FILE} is unreadable"
    return None


def find_checkpoint(run_dir: Path, skipped: list[tuple[Path, str]] | None = None) -> Path | None:
    """The newest complete checkpoint under ``run_dir``; newer folders passed over are appended to
    ``skipped`` as (folder, reason). A copy moved aside by an interrupted re-save counts too."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    folders = [p for p in [*root.glob("step_*"), *root.glob(f"{OLD_PREFIX}step_*")] if p.is_dir()]
    for folder in sorted(folders, key=lambda p: (_step_of(p), not p.name.startswith(OLD_PREFIX)), reverse=True):
        problem = checkpoint_problem(folder)
        if problem is None:
            return folder
        if skipped is not None:
            skipped.append((folder, problem))
    return None


def load_training_checkpoint(ckpt: Path, model, steps, info: Rank) -> TrainerState:
    """Restore weights, optimizer, scheduler (``steps.load_state``) and this rank's RNG from ``ckpt``; returns the
    trainer state."""
    problem = checkpoint_problem(ckpt)
    if problem is not None:
        raise AffectLLMError(f"{ckpt}: not a complete checkpoint ({problem}); resume from another one")
    _refuse_untrusted(ckpt, info)
    state = TrainerState(**json.loads((ckpt / STATE_FILE).read_text()))
    if state.world_size != info.world_size:
        raise AffectLLMError(f"{ckpt} was written by {state.world_size} processes; resume with the same number "
                             f"(got {info.world_size}) or start a new output_dir with train.init_from={ckpt}")
    steps.load_state(ckpt, model)
    if steps.schedule_note and info.is_main:
        print(f"resuming {ckpt}: {steps.schedule_note}", flush=True)
    rng_file = ckpt / "rng" / f"rank_{info.rank:05d}.json"
    set_rng_state(json.loads(rng_file.read_text()))
    return state


def _refuse_untrusted(ckpt: Path, info: Rank) -> None:
    """Stop every rank, before anything is unpickled, unless this user's runs wrote ``ckpt``'s state unchanged.
    The main rank checks (other nodes need not hold the key) and tells the others."""
    from affectllm.training.resume_trust import untrusted_reason

    reason = untrusted_reason(ckpt, json.loads((ckpt / COMPLETE_FILE).read_text())) if info.is_main else None
    if info.world_size > 1:
        import torch.distributed as dist

        verdict = [reason]
        dist.broadcast_object_list(verdict, src=0)
        reason = verdict[0]
    if reason is not None:
        raise AffectLLMError(f"{ckpt}: not resumed: {reason}; resume loads pickled optimizer state, so only "
                             "checkpoints your own runs wrote resume — to continue from its weights, start a new "
                             f"output_dir with train.init_from={ckpt}")
