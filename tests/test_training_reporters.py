"""`train.report_to`: TensorBoard by default and in every shipped config, wandb when asked (offline unless
WANDB_MODE says otherwise, never required: missing, it is one line before the first step), none for
metrics.jsonl alone; `train.tensorboard` still switches TensorBoard."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types

import pytest
import yaml

from affectllm.config.schema import TrainConfig, config_from_dict, load_config
from affectllm.core.errors import ConfigError
from affectllm.training.reporters import check_reporters, report_targets
from affectllm.config.shipped import SHIPPED_DIR


def test_shipped_configs_report_to_tensorboard_and_the_old_switch_still_works():
    for path in sorted((SHIPPED_DIR / "configs").glob("*.yaml")):
        cfg = config_from_dict(yaml.safe_load(path.read_text()))
        assert report_targets(cfg.train) == ["tensorboard"], path.name
    assert report_targets(TrainConfig()) == ["tensorboard"]
    assert report_targets(TrainConfig(tensorboard=False)) == []
    assert report_targets(TrainConfig(report_to=["wandb"], tensorboard=True)) == ["tensorboard", "wandb"]
    assert report_targets(TrainConfig(report_to="none")) == []
    with pytest.raises(ConfigError, match="lists none beside wandb"):
        report_targets(TrainConfig(report_to=["none", "wandb"]))
    with pytest.raises(ConfigError, match=r"'train.report_to\[0\]' must be one of tensorboard, wandb, none"):
        load_config(None, ["model.llm=x", "train.report_to=[mlflow]"], check_paths=False)


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed here")
def test_wandb_asked_for_and_missing_is_one_line():
    with pytest.raises(ConfigError, match=r"^train.report_to lists wandb, which is not installed; pip install wandb"):
        check_reporters(TrainConfig(report_to=["tensorboard", "wandb"]))


def _wandb_stand_in(calls: list) -> types.ModuleType:
    """What the run asks of the wandb package, recorded (the package itself is optional and not installed)."""
    import os

    class Run:
        id = "run123"

        def log(self, values, step):
            calls.append(("log", step, dict(values)))

        def finish(self):
            calls.append(("finish",))

    def init(**kwargs):
        calls.append(("init", os.environ.get("WANDB_MODE"), kwargs))
        return Run()

    module = types.ModuleType("wandb")
    module.__spec__ = importlib.machinery.ModuleSpec("wandb", None)
    module.init = init
    return module


def test_a_run_logs_to_tensorboard_and_wandb_offline(tiny_checkpoint, tmp_path, monkeypatch):
    from affectllm.testing.smoke_data import write_smoke_manifest
    from affectllm.training.trainer import train

    calls: list = []
    monkeypatch.setitem(sys.modules, "wandb", _wandb_stand_in(calls))
    monkeypatch.setenv("WANDB_MODE", "unset-by-the-test")
    monkeypatch.delenv("WANDB_MODE")  # restored (unset) after the test, whatever the run sets
    manifest = write_smoke_manifest(tmp_path / "data", num_samples=2)
    run = tmp_path / "run"
    cfg = load_config(tiny_checkpoint / "affectllm.yaml", [
        f"data.train={manifest}", "data.num_workers=0", f"train.output_dir={run}", "train.max_steps=2",
        "train.save_every=0", "train.deepspeed=null", "train.micro_batch_size=1", "train.report_to=[tensorboard, wandb]",
        "model.audio_encoder=", "model.vision_encoder=", "model.prefusion=none"])
    train(cfg)
    init = calls[0]
    assert init[0] == "init" and init[1] == "offline" and init[2]["dir"] == str(run)
    assert init[2]["config"]["train"]["report_to"] == ["tensorboard", "wandb"]
    logged = [c for c in calls if c[0] == "log"]
    assert [c[1] for c in logged] == [1, 2] and {"train/loss", "train/lr"} <= set(logged[0][2])
    assert calls[-1] == ("finish",) and (run / "wandb_run_id").read_text() == "run123"
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))


def test_grpo_rewards_reach_the_reporters(tiny_checkpoint, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from affectllm.training.trainer import train

    manifest = tmp_path / "prompts.jsonl"
    manifest.write_text("".join(
        '{"id": "p%d", "subtitle": "so %s", "label": "%s", "emotions": ["%s"], '
        '"messages": [{"role": "user", "content": "How does the speaker feel?"}]}\n' % (i, w, w, w)
        for i, w in enumerate(["happy", "sad", "happy", "sad"])))
    run = tmp_path / "grpo"
    cfg = load_config(tiny_checkpoint / "affectllm.yaml", [
        f"data.train={manifest}", "data.num_workers=0", f"train.output_dir={run}", "train.stage=grpo",
        "train.max_steps=1", "train.save_every=0", "train.deepspeed=null", "train.micro_batch_size=2",
        "train.grpo.group_size=2", "train.grpo.max_new_tokens=3", "model.audio_encoder=", "model.vision_encoder=",
        "model.prefusion=none"])
    train(cfg)
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert {"train/loss", "grpo/reward", "grpo/kl"} <= set(events.Tags()["scalars"])
