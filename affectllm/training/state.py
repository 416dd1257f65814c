"""Training checkpoints: written atomically, found again on resume.

    OUTPUT_DIR/checkpoints/step_0000040/
        affectllm.yaml adapter/ fusion.safetensors tokenizer/   an inference checkpoint (AffectLLM.from_checkpoint)
        optimizer.pt                     plain torch: optimizer + scheduler state (tensors only)
        deepspeed/                       DeepSpeed: its own sharded optimizer, scheduler, trainable weights
        rng/rank_00000.json ...          every rank's Python / NumPy / torch RNG states
        trainer_state.json               step, data position, world size — written last
    OUTPUT_DIR/checkpoints/latest        name of the newest complete checkpoint

Everything is written into ``.tmp-step_...`` first and renamed when complete; the
``latest`` pointer is replaced after the rename. A run killed mid-save leaves a
``.tmp-`` folder that resume ignores and the next save removes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectllm.errors import AffectLLMError
from affectllm.training.distributed import DistInfo, barrier

CHECKPOINTS_DIR = "checkpoints"
LATEST = "latest"
STATE_FILE = "trainer_state.json"
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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) if not isinstance(data, str) else data)
    os.replace(tmp, path)


def _gathered(model, engine):
    """Context in which trainable and fusion weights are whole on every rank (ZeRO-3 partitions them)."""
    import contextlib

    if engine is None or engine.zero_optimization_stage() != 3:
        return contextlib.nullcontext()
    import deepspeed

    params = [p for p in model.parameters() if p.requires_grad] + list(model.fusion.parameters())
    return deepspeed.zero.GatheredParameters(list({id(p): p for p in params}.values()), modifier_rank=None)


def save_model_weights(model, engine, out: Path, info: DistInfo) -> None:
    """The inference checkpoint part (rank 0 writes; every rank joins a ZeRO-3 gather)."""
    with _gathered(model, engine):
        if info.is_main:
            model.save_checkpoint(out)


def save_training_checkpoint(run_dir: Path, state: TrainerState, model, engine, optimizer, scheduler,
                             info: DistInfo, keep: int) -> Path:
    """Write a complete checkpoint for ``state.step``; returns its folder. Every rank must call it."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    name = checkpoint_name(state.step)
    tmp, final = root / f".tmp-{name}", root / name
    if info.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "rng").mkdir(parents=True)
    barrier()
    if engine is not None:
        engine.save_checkpoint(str(tmp / DEEPSPEED_DIR), tag=DEEPSPEED_TAG, save_latest=False,
                               exclude_frozen_parameters=True)
    elif info.is_main:
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / OPTIMIZER_FILE)
    save_model_weights(model, engine, tmp, info)
    (tmp / "rng" / f"rank_{info.rank:05d}.json").write_text(json.dumps(rng_state()))
    barrier()
    if info.is_main:
        _write_json_atomic(tmp / STATE_FILE, asdict(state))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _write_json_atomic(root / LATEST, name)
        _prune(root, keep)
    barrier()
    return final


def _prune(root: Path, keep: int) -> None:
    if keep <= 0:
        return
    done = sorted(p for p in root.glob("step_*") if (p / STATE_FILE).exists())
    for old in done[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------ resume

def find_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint: ``latest`` if it names one, else the highest complete step folder."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    pointer = root / LATEST
    if pointer.is_file():
        named = root / pointer.read_text().strip()
        if (named / STATE_FILE).is_file():
            return named
    done = sorted(p for p in root.glob("step_*") if (p / STATE_FILE).is_file())
    return done[-1] if done else None


def load_training_checkpoint(ckpt: Path, model, engine, optimizer, scheduler, info: DistInfo) -> TrainerState:
    """Restore weights, optimizer, scheduler and this rank's RNG from ``ckpt``; returns the trainer state."""
    state = TrainerState(**json.loads((ckpt / STATE_FILE).read_text()))
    if state.world_size != info.world_size:
        raise AffectLLMError(f"{ckpt} was written by {state.world_size} processes; resume with the same number "
                             f"(got {info.world_size}) or start a new output_dir with train.init_from={ckpt}")
    if engine is not None:
        path, _ = engine.load_checkpoint(str(ckpt / DEEPSPEED_DIR), tag=DEEPSPEED_TAG, load_module_strict=False,
                                         load_optimizer_states=True, load_lr_scheduler_states=True)
        if path is None:
            raise AffectLLMError(f"{ckpt}: DeepSpeed could not load its state from {ckpt / DEEPSPEED_DIR}")
        _check_restored(model, engine, ckpt)
    else:
        load_trainable_weights(model, ckpt)
        saved = torch.load(ckpt / OPTIMIZER_FILE, map_location="cpu", weights_only=True)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
    rng_file = ckpt / "rng" / f"rank_{info.rank:05d}.json"
    set_rng_state(json.loads(rng_file.read_text()))
    return state


def _check_restored(model, engine, ckpt: Path) -> None:
    """DeepSpeed skips module keys it does not recognise; make sure the fusion weights really came back."""
    from safetensors.torch import load_file

    from affectllm.checkpoint import FUSION_FILE

    saved = load_file(ckpt / FUSION_FILE)
    with _gathered(model, engine):
        current = {k: v.detach().cpu() for k, v in model.fusion.state_dict().items()}
    stale = [k for k, v in saved.items() if k not in current or not torch.equal(current[k].to(v.dtype), v)]
    if stale:
        raise AffectLLMError(f"{ckpt}: the DeepSpeed state does not restore this model's weights ({stale[0]} differs); "
                             "was the checkpoint written by another affectllm version or model config?")


def load_trainable_weights(model, ckpt: Path) -> None:
    """Fusion weights and the LoRA adapter of an inference checkpoint into a freshly built model."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    from affectllm.checkpoint import ADAPTER_DIR, ENCODERS_FILE, FUSION_FILE

    model.fusion.load_state_dict(load_file(ckpt / FUSION_FILE))
    adapter = ckpt / ADAPTER_DIR / "adapter_model.safetensors"
    if adapter.is_file() and hasattr(model.llm, "peft_config"):
        result = set_peft_model_state_dict(model.llm, load_file(adapter))
        if getattr(result, "unexpected_keys", None):
            raise AffectLLMError(f"{ckpt}: adapter weights do not fit this model ({result.unexpected_keys[:3]}); "
                                 "model.lora settings differ from the checkpoint's")
    if (ckpt / ENCODERS_FILE).is_file() and model.cfg.model.train_encoders:
        model.encoders.load_state_dict(load_file(ckpt / ENCODERS_FILE))
