"""Where a run's per-step scalars go besides metrics.jsonl: ``train.report_to`` lists ``tensorboard``
(events in OUTPUT_DIR/tensorboard/, the default), ``wandb`` (Weights & Biases, offline unless
``WANDB_MODE`` says otherwise: runs sync later with ``wandb sync``, nothing needs the network), or
``none``. wandb is never required: asked for and not installed, the run stops with one line before
the first step. ``train.tensorboard`` is the older switch for the first; it still turns it on or off.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from affectllm.config.schema import Config, TrainConfig, config_to_dict
from affectllm.core.errors import ConfigError

REPORTERS = ("tensorboard", "wandb", "none")
TENSORBOARD_DIR = "tensorboard"
WANDB_ID_FILE = "wandb_run_id"  # in OUTPUT_DIR: a resumed run logs into the same wandb run


def report_targets(t: TrainConfig) -> list[str]:
    """The reporters ``train.report_to`` asks for, with ``train.tensorboard`` (when set) turning TensorBoard on
    or off; ``none`` alone means metrics.jsonl only."""
    asked = [t.report_to] if isinstance(t.report_to, str) else list(t.report_to)
    if "none" in asked and len(asked) > 1:
        raise ConfigError(f"config key 'train.report_to' lists none beside {', '.join(a for a in asked if a != 'none')}; "
                          "give none alone, or only the reporters to use")
    targets = [a for a in dict.fromkeys(asked) if a != "none"]
    if t.tensorboard is False and "tensorboard" in targets:
        targets.remove("tensorboard")
    elif t.tensorboard and "tensorboard" not in targets:
        targets.insert(0, "tensorboard")
    return targets


def check_reporters(t: TrainConfig) -> None:
    """Stop before training when a reporter asked for is not installed (every rank calls it, so all stop)."""
    import importlib.util

    targets = report_targets(t)
    if "wandb" in targets and importlib.util.find_spec("wandb") is None:
        raise ConfigError("train.report_to lists wandb, which is not installed; pip install wandb, or drop wandb "
                          "from train.report_to (metrics.jsonl and TensorBoard need nothing more)")


class Reporters:
    """The reporters of one run on rank 0: ``scalars(values, step)`` to each, ``close()`` at the end.
    ``notes`` says what could not be opened (TensorBoard missing is a note, not an error)."""

    def __init__(self, cfg: Config, run_dir: Path, start_step: int):
        self.tensorboard = self.wandb = None
        self.notes: list[str] = []
        targets = report_targets(cfg.train)
        if "tensorboard" in targets:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tensorboard = SummaryWriter(str(run_dir / TENSORBOARD_DIR), purge_step=start_step + 1)
            except ImportError:
                self.notes.append("tensorboard is not installed; metrics go to metrics.jsonl only")
        if "wandb" in targets:
            self.wandb = _start_wandb(cfg, run_dir)

    def scalars(self, values: dict[str, float], step: int) -> None:
        if self.tensorboard is not None:
            for key, value in values.items():
                self.tensorboard.add_scalar(key, value, step)
        if self.wandb is not None and values:
            self.wandb.log(values, step=step)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
        if self.wandb is not None:
            self.wandb.finish()


def _start_wandb(cfg: Config, run_dir: Path) -> Any:
    import wandb

    # offline unless the user chose a mode: a run never waits on the network or a login
    os.environ.setdefault("WANDB_MODE", "offline")
    id_file = run_dir / WANDB_ID_FILE
    run_id = id_file.read_text().strip() if id_file.is_file() else None
    run = wandb.init(project=os.environ.get("WANDB_PROJECT", "affectllm"), name=run_dir.name, dir=str(run_dir),
                     id=run_id, resume="allow", config=config_to_dict(cfg))
    if run_id is None and getattr(run, "id", None):
        id_file.write_text(str(run.id))
    return run
