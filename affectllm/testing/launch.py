"""Training runs started as a user starts them and stopped as a preempted node would be: ``deepspeed`` with
CPU processes (or ``affectllm train``) in a process group of their own, killed with SIGKILL right after a
checkpoint. ``train/smoke.py`` and the launch tests share these helpers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from affectllm.core.distributed import free_port
from affectllm.training.run_log import read_metrics
from affectllm.training.state import CHECKPOINTS_DIR, LATEST


class RunFailed(RuntimeError):
    """A launched run exited badly, ended too early or took too long; the message ends with its log."""


def launch_env(cpu: bool = True) -> dict[str, str]:
    """The environment of a launch: one thread per process, no hub, this Python's ``bin`` first on PATH (the
    ``deepspeed`` launcher starts its ranks by name); ``cpu``: DeepSpeed on the CPU even where a GPU is."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", PATH=f"{bin_dir}:{os.environ['PATH']}")
    if cpu:
        env["DS_ACCELERATOR"] = "cpu"
    return env


def deepspeed_launcher(processes: int = 2) -> list[str]:
    """``deepspeed --num_gpus N --master_port PORT`` with a port free now (never a fixed one: runs side by side)."""
    return [str(Path(sys.executable).parent / "deepspeed"), "--num_gpus", str(processes),
            "--master_port", str(free_port())]


def affectllm_train() -> list[str]:
    """``affectllm train`` with this Python (one process, no launcher)."""
    return [sys.executable, "-m", "affectllm", "train"]


def start(cmd: list[str], log: Path | None = None, cwd: str | Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``cmd`` in its own process group (a kill reaches every rank), output to ``log`` (else inherited)."""
    out: IO | None = open(log, "w") if log is not None else None
    return subprocess.Popen(cmd, cwd=cwd, env=env or launch_env(), stdout=out,
                            stderr=subprocess.STDOUT if out else None, start_new_session=True)


def _tail(log: Path | None) -> str:
    return ("\n" + log.read_text()[-3000:]) if log is not None and log.exists() else ""


def finish(proc: subprocess.Popen, log: Path | None = None, timeout: float = 400) -> None:
    """Wait for a run; RunFailed (with the log's end) when it fails or outlasts ``timeout`` seconds (then killed)."""
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise RunFailed(f"{' '.join(map(str, proc.args))}: still running after {timeout:.0f} s{_tail(log)}") from None
    if rc != 0:
        raise RunFailed(f"{' '.join(map(str, proc.args))}: exit code {rc}{_tail(log)}")


def kill_after_checkpoint(proc: subprocess.Popen, run_dir: Path, log: Path | None = None,
                          timeout: float = 300) -> str:
    """SIGKILL the run's process group as soon as its first checkpoint is complete (``checkpoints/latest``
    exists); returns that checkpoint's name. RunFailed when the run ends or ``timeout`` passes first."""
    latest = Path(run_dir) / CHECKPOINTS_DIR / LATEST
    deadline = time.time() + timeout
    while not latest.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if not latest.exists():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise RunFailed(f"{run_dir}: no checkpoint before the run ended or {timeout:.0f} s passed{_tail(log)}")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return latest.read_text()


def metrics_by_step(run_dir: Path) -> dict[int, dict]:
    """Each step's metrics record (a kill may leave a torn last line; a re-run step's last record wins)."""
    return {r["step"]: r for r in read_metrics(run_dir)}


def losses(run_dir: Path) -> dict[int, float]:
    return {step: r["loss"] for step, r in metrics_by_step(run_dir).items()}


def sample_ids(run_dir: Path) -> dict[tuple[int, int], list[str]]:
    """{(rank, step): the sample ids that rank trained on at that step} from ``train.log_sample_ids``
    (steps logged again after a resume replace the killed run's)."""
    seen: dict[tuple[int, int], list[str]] = {}
    for path in sorted((Path(run_dir) / "samples").glob("rank_*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by the kill
            seen[(record["rank"], record["step"])] = record["ids"]
    return seen
