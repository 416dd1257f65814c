"""What a run leaves beside its checkpoints: resolved config, environment, per-step metrics.

Only rank 0 draws the progress bar and writes metrics.jsonl and the ``train.report_to``
reporters (TensorBoard events, wandb; ``affectllm.training.reporters``);
with ``train.log_sample_ids`` every rank records which samples it trained on.

metrics.jsonl is append-only (``affectllm.core.append_log``): one fsynced line per step, a
line torn by a kill is cut when the run resumes, and nothing else is ever rewritten.
A resumed run redoes the steps after its checkpoint and appends them again; the last
record of a step is the one that counts (``read_metrics``).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

from affectllm.core.append_log import LogAppender, read_log
from affectllm.config.schema import Config, save_config
from affectllm.core.distributed import Rank
from affectllm.training.reporters import Reporters, check_reporters

METRICS_FILE = "metrics.jsonl"


def environment() -> dict[str, Any]:
    import importlib.metadata as md

    import torch

    versions = {}
    for pkg in ("torch", "transformers", "peft", "accelerate", "deepspeed", "affectllm"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {"python": sys.version.split()[0], "platform": platform.platform(), "host": socket.gethostname(),
            "packages": versions, "cuda": torch.version.cuda, "gpus": gpus, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "argv": sys.argv,
            "launcher_env": {k: os.environ[k] for k in ("WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR")
                             if k in os.environ},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S")}


def write_run_info(run_dir: Path, cfg: Config, info: Rank) -> None:
    """Resolved config and environment, written by rank 0 when the run starts."""
    if not info.is_main:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(cfg, run_dir / "config.yaml")
    env = dict(environment(), world_size=info.world_size)
    (run_dir / "environment.json").write_text(json.dumps(env, indent=1))


def read_metrics(run_dir: str | Path) -> list[dict]:
    """metrics.jsonl records, one per optimizer step in step order (a step's last record wins)."""
    latest: dict[int, dict] = {}
    for rec in read_log(Path(run_dir) / METRICS_FILE, "step", METRICS_FILE):
        latest[rec["step"]] = rec
    return [latest[step] for step in sorted(latest)]


class RunLogger:
    def __init__(self, run_dir: Path, cfg: Config, info: Rank, total_steps: int, start_step: int):
        from tqdm.auto import tqdm

        self.info = info
        self.run_dir = run_dir
        self.log_every = max(1, cfg.train.log_every)
        self.bar = tqdm(total=total_steps, initial=start_step, desc="training", unit="step",
                        disable=not info.is_main, dynamic_ncols=True)
        self.reporters = None
        self.samples_file = None
        self.metrics: LogAppender | None = None
        check_reporters(cfg.train)
        if info.is_main:
            read_log(run_dir / METRICS_FILE, "step", METRICS_FILE, repair=True)  # cut a line torn by a kill
            self.metrics = LogAppender(run_dir / METRICS_FILE, "step")
            self.reporters = Reporters(cfg, run_dir, start_step)
            for note in self.reporters.notes:
                self.bar.write(note)
        if cfg.train.log_sample_ids:
            folder = run_dir / "samples"
            folder.mkdir(parents=True, exist_ok=True)
            self.samples_file = open(folder / f"rank_{info.rank:05d}.jsonl", "a", encoding="utf-8")

    def sample_ids(self, step: int, ids: list[str]) -> None:
        if self.samples_file is not None:
            import torch.distributed as dist

            rank = dist.get_rank() if dist.is_initialized() else 0
            world = dist.get_world_size() if dist.is_initialized() else 1
            self.samples_file.write(json.dumps({"step": step, "rank": rank, "world_size": world, "ids": ids}) + "\n")
            self.samples_file.flush()

    def step(self, record: dict[str, Any]) -> None:
        """One optimizer step's metrics (already averaged over ranks)."""
        if not self.info.is_main:
            return
        step = record["step"]
        self.metrics.write(record)
        scalars = {f"train/{key}" if key != "eval_loss" else "eval/loss": record[key]
                   for key in ("loss", "lr", "grad_norm", "tokens_per_s", "samples_per_s", "eval_loss")
                   if record.get(key) is not None}
        scalars.update({f"eval/{key}": value for key, value in (record.get("eval") or {}).items()
                        if isinstance(value, (int, float)) and not isinstance(value, bool)})
        self.scalars(scalars, step)
        self.bar.update(step - self.bar.n)
        if step % self.log_every == 0 or step == self.bar.total:
            self.bar.set_postfix(loss=f"{record['loss']:.4f}", lr=f"{record['lr']:.2e}",
                                 tok_s=f"{record['tokens_per_s']:.0f}", smp_s=f"{record['samples_per_s']:.2f}")

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Named scalars of ``step`` to the ``train.report_to`` reporters (rank 0; elsewhere nothing)."""
        if self.reporters is not None:
            self.reporters.scalars(values, step)

    def write(self, text: str) -> None:
        if self.info.is_main:
            self.bar.write(text)

    def close(self) -> None:
        self.bar.close()
        if self.metrics is not None:
            self.metrics.close()
        if self.reporters is not None:
            self.reporters.close()
        if self.samples_file is not None:
            self.samples_file.close()
