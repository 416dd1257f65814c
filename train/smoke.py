"""`make smoke-train`: 2-process DeepSpeed ZeRO-2 training of the tiny model on generated clips,
killed after its first checkpoint and resumed; prints both runs' losses.

    python train/smoke.py            (from the repository root; about two minutes on CPU)
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RUNS = Path("runs/smoke")
CONFIG = "train/configs/smoke_tiny.yaml"


def launch(*extra: str) -> subprocess.Popen:
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, OMP_NUM_THREADS="1", PATH=f"{bin_dir}:{os.environ['PATH']}")
    cmd = [str(bin_dir / "deepspeed"), "--num_gpus", "2", "--master_port", "29517", "train/train.py",
           "--config", CONFIG, *extra]
    print("$", " ".join(cmd[1:]), flush=True)
    return subprocess.Popen(cmd, env=env, start_new_session=True)


def losses(run: Path) -> dict[int, float]:
    from affectllm.training.run_log import read_metrics  # a kill may leave a torn last line; a step's last record wins

    return {r["step"]: r["loss"] for r in read_metrics(run)}


def main() -> int:
    from affectllm.tiny import init_tiny
    from affectllm.training.smoke_data import write_smoke_manifest

    if not (RUNS / "tiny" / "affectllm.yaml").exists():
        init_tiny(RUNS / "tiny")
    write_smoke_manifest(RUNS / "data", num_samples=32)
    run = RUNS / "run"
    subprocess.run(["rm", "-rf", str(run)], check=True)

    proc = launch()
    latest = run / "checkpoints" / "latest"
    while not latest.exists() and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is not None:
        print("the run ended before its first checkpoint", file=sys.stderr)
        return 1
    os.killpg(proc.pid, signal.SIGKILL)  # a hard kill, as a preempted node would see it
    proc.wait()
    interrupted = losses(run)
    print(f"\nkilled after checkpoint {latest.read_text()}; resuming\n", flush=True)
    if launch("--resume").wait() != 0:
        return 1
    resumed = losses(run)
    print("\nstep  loss (interrupted run)  loss (after resume)")
    for step in sorted(resumed):
        before = f"{interrupted[step]:.4f}" if step in interrupted else "-"
        print(f"{step:4d}  {before:>22}  {resumed[step]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
