"""`make smoke-train`: 2-process DeepSpeed ZeRO-2 training of the tiny model on generated clips,
killed after its first checkpoint and resumed; prints both runs' losses.

    python train/smoke.py            (from the repository root; about two minutes on CPU)
"""

import shutil
import sys
from pathlib import Path

from affectllm.testing.launch import RunFailed, deepspeed_launcher, finish, kill_after_checkpoint, launch_env, losses
from affectllm.testing.launch import start as start_run

RUNS = Path("runs/smoke")
CONFIG = "train/configs/smoke_tiny.yaml"


def launch(*extra: str):
    cmd = deepspeed_launcher(2) + ["train/train.py", "--config", CONFIG, *extra]
    print("$", " ".join(cmd[1:]), flush=True)
    return start_run(cmd, env=launch_env(cpu=False))  # DeepSpeed picks the accelerator it finds


def main() -> int:
    from affectllm.checkpoint.tiny import init_tiny
    from affectllm.testing.smoke_data import write_smoke_manifest

    if not (RUNS / "tiny" / "affectllm.yaml").exists():
        init_tiny(RUNS / "tiny")
    write_smoke_manifest(RUNS / "data", num_samples=32)
    run = RUNS / "run"
    shutil.rmtree(run, ignore_errors=True)
    try:
        latest = kill_after_checkpoint(launch(), run)  # a hard kill, as a preempted node would see it
        interrupted = losses(run)
        print(f"\nkilled after checkpoint {latest}; resuming\n", flush=True)
        finish(launch("--resume"), timeout=1800)
    except RunFailed as err:
        print(err, file=sys.stderr)
        return 1
    resumed = losses(run)
    print("\nstep  loss (interrupted run)  loss (after resume)")
    for step in sorted(resumed):
        before = f"{interrupted[step]:.4f}" if step in interrupted else "-"
        print(f"{step:4d}  {before:>22}  {resumed[step]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
