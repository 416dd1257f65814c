"""The learning-rate schedule across a resume: a run continued with a larger `train.max_steps` decays from
where it stands to 0 at the new end, instead of training at the finished schedule's rate of 0 and then
jumping back up the old curve."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from affectllm.config.schema import load_config
from affectllm.training.optim import WarmupDecaySchedule, lr_multiplier


def _run_config(tiny_checkpoint: Path, manifest: Path, run: Path, max_steps: int):
    return load_config(tiny_checkpoint / "affectllm.yaml", [
        f"data.train={manifest}", "data.num_workers=0", f"train.output_dir={run}", f"train.max_steps={max_steps}",
        "train.save_every=2", "train.deepspeed=null", "train.micro_batch_size=1", "train.lr=1e-2",
        "train.warmup_steps=2", "train.lr_scheduler=cosine", "train.tensorboard=false", "train.log_every=1",
        "model.audio_encoder=", "model.vision_encoder=", "model.prefusion=none"])


def test_resume_with_more_steps_decays_from_the_current_step_to_the_new_end(tiny_checkpoint, tmp_path, capsys):
    from affectllm.training.run_log import read_metrics
    from affectllm.testing.smoke_data import write_smoke_manifest
    from affectllm.training.trainer import train

    manifest = write_smoke_manifest(tmp_path / "data", num_samples=4)
    train(_run_config(tiny_checkpoint, manifest, tmp_path / "run", 4))
    first = {r["step"]: r["lr"] for r in read_metrics(tmp_path / "run")}
    train(_run_config(tiny_checkpoint, manifest, tmp_path / "run", 10), resume=True)
    printed = capsys.readouterr().out
    assert "the checkpoint's cosine schedule ran to step 4; rebuilt for 10 steps" in printed
    lrs = {r["step"]: r["lr"] for r in read_metrics(tmp_path / "run")}
    assert all(lrs[s] == pytest.approx(first[s]) for s in first)  # the first run's record is kept
    resumed = [lrs[s] for s in range(5, 11)]
    assert all(lr > 0 for lr in resumed)
    assert all(a >= b for a, b in zip(resumed, resumed[1:]))  # never rising, warm-up not repeated
    assert resumed == pytest.approx([1e-2 * lr_multiplier(s, 10, 2, "cosine") for s in range(4, 10)])
    assert lr_multiplier(10, 10, 2, "cosine") == 0.0  # the step after the last would train at 0


def test_saved_schedule_keeps_this_runs_length_and_says_when_it_changed():
    param = torch.nn.Parameter(torch.zeros(2))
    old_opt = torch.optim.AdamW([param], lr=1.0)
    old = WarmupDecaySchedule(old_opt, total_steps=4, warmup_steps=0, kind="cosine")
    for _ in range(4):
        old_opt.step()
        old.step()
    assert old_opt.param_groups[0]["lr"] == pytest.approx(0.0)
    new_opt = torch.optim.AdamW([param], lr=1.0)
    new = WarmupDecaySchedule(new_opt, total_steps=8, warmup_steps=0, kind="cosine")
    new_opt.load_state_dict(old_opt.state_dict())
    new.load_state_dict(old.state_dict())
    assert new.total_steps == 8 and "ran to step 4; rebuilt for 8 steps" in new.continue_after_resume()
    assert new_opt.param_groups[0]["lr"] == pytest.approx(0.5)  # cosine half-way through 8 steps
    same = WarmupDecaySchedule(torch.optim.AdamW([param], lr=1.0), total_steps=4, warmup_steps=0, kind="cosine")
    same.optimizer.load_state_dict(old_opt.state_dict())
    same.load_state_dict(old.state_dict())
    assert same.continue_after_resume() is None
