"""GRPO under the real launchers: `affectllm train` killed with SIGKILL after a checkpoint and resumed, and one
2-process `deepspeed` ZeRO-3 run over gloo.

The resumed run must sample the same completions as an uninterrupted one — the
sampling RNG travels in the checkpoint — so rewards, completion lengths and
losses agree step for step.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from affectllm.testing.launch import (affectllm_train, deepspeed_launcher, finish, kill_after_checkpoint,
                                       metrics_by_step, sample_ids, start)

REPO = Path(__file__).resolve().parents[1]
STEPS, SAVE_EVERY = 4, 2
pytestmark = pytest.mark.slow


def _overrides(setup: dict, out: Path) -> list[str]:
    base = setup["tiny"] / "base"
    return [f"model.llm={base / 'llm'}", f"model.audio_encoder={base / 'audio'}",
            f"model.vision_encoder={base / 'vision'}", f"model.text_encoder={base / 'text'}",
            f"data.train={setup['manifest']}", f"train.output_dir={out}", "train.stage=grpo",
            f"train.max_steps={STEPS}", f"train.save_every={SAVE_EVERY}", "train.micro_batch_size=2",
            "train.log_sample_ids=true", "data.num_workers=0", "train.grpo.group_size=4",
            "train.grpo.max_new_tokens=8", "train.grpo.rewards.label_hit=0"]


def _single(setup: dict, out: Path, log: Path, resume: bool = False) -> subprocess.Popen:
    cmd = affectllm_train() + ["train/configs/smoke_tiny.yaml", *_overrides(setup, out), "train.deepspeed=null"]
    return start(cmd + (["--resume"] if resume else []), log, cwd=REPO)


@pytest.fixture(scope="module")
def setup(tiny_checkpoint, tmp_path_factory):
    from affectllm.testing.smoke_data import write_smoke_manifest

    data = tmp_path_factory.mktemp("grpo_launch_data")
    manifest = write_smoke_manifest(data, num_samples=8)
    for sample_line in [manifest]:  # MER-style gold: each clip's emotion is also its basic label
        lines = [json.loads(x) for x in sample_line.read_text().splitlines()]
        sample_line.write_text("".join(json.dumps({**x, "label": x["emotions"][0]}) + "\n" for x in lines))
    return {"tiny": tiny_checkpoint, "manifest": manifest, "tmp": tmp_path_factory.mktemp("grpo_runs")}


def test_killed_grpo_run_resumes_to_the_same_rewards_and_losses(setup):
    tmp = setup["tmp"]
    reference_log = tmp / "uninterrupted.log"
    finish(_single(setup, tmp / "uninterrupted", reference_log), reference_log)
    reference = metrics_by_step(tmp / "uninterrupted")
    assert sorted(reference) == list(range(1, STEPS + 1))
    closing = json.loads(reference_log.read_text().strip().splitlines()[-1])  # the CLI's one-line summary
    assert closing["steps"] == STEPS and closing["last_reward"] == pytest.approx(reference[STEPS]["reward"])
    assert all({"wheel_f1", "format", "label_hit"} <= set(r["rewards"]) for r in reference.values())

    out, log = tmp / "killed", tmp / "killed.log"
    latest = kill_after_checkpoint(_single(setup, out, log), out, log)
    assert not (out / "final").exists(), "the run finished before it could be killed"
    assert latest == f"step_{SAVE_EVERY:07d}"

    log = tmp / "resumed.log"
    finish(_single(setup, out, log, resume=True), log)
    assert f"resuming after step {SAVE_EVERY}" in log.read_text()
    resumed = metrics_by_step(out)
    assert sorted(resumed) == list(range(1, STEPS + 1))
    # the resumed run prompted with the very samples the uninterrupted one took at every step
    assert sample_ids(out) == sample_ids(tmp / "uninterrupted") and len(sample_ids(out)) == STEPS
    for step in range(1, STEPS + 1):
        a, b = resumed[step], reference[step]
        # the same completions were sampled: identical rewards and lengths, the same loss
        assert (a["rewards"], a["reward"], a["completion_tokens"]) == (b["rewards"], b["reward"], b["completion_tokens"])
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-7), (step, a, b)
        assert a["kl"] == pytest.approx(b["kl"], rel=1e-4, abs=1e-8)
    # the sampling really varies from step to step (a resume that replayed one state would not)
    assert len({json.dumps(r["rewards"]) + str(r["completion_tokens"]) for r in reference.values()}) > 1


def test_two_rank_deepspeed_zero3_grpo(setup):
    from affectllm.pretrained import AffectLLM

    out, log = setup["tmp"] / "zero3", setup["tmp"] / "zero3.log"
    cmd = deepspeed_launcher(2) + ["train/train.py", "--config", "train/configs/smoke_tiny.yaml", *_overrides(setup, out),
           "train.deepspeed=train/ds/zero3.json", "train.max_steps=2", "train.save_every=0",
           f"train.eval_manifest={setup['manifest']}", "train.eval_batch_size=2"]
    finish(start(cmd, log, cwd=REPO), log)
    per_rank = {}
    for rank in (0, 1):
        lines = [json.loads(x) for x in (out / "samples" / f"rank_{rank:05d}.jsonl").read_text().splitlines()]
        assert {(r["rank"], r["world_size"]) for r in lines} == {(rank, 2)}  # real ranks from the process group
        per_rank[rank] = {i for r in lines for i in r["ids"]}
    assert not per_rank[0] & per_rank[1]  # each rank sampled for its own prompts
    steps = metrics_by_step(out)
    assert sorted(steps) == [1, 2] and all(r["completion_tokens"] > 0 for r in steps.values())
    # held-out rewards at the start and the end, every prompt scored once across the two ranks
    from affectllm.training.grpo.reward_eval import read_evals

    assert [e["step"] for e in read_evals(out)] == [0, 2]
    assert "held-out rewards over 8 prompts" in log.read_text()
    model = AffectLLM.from_checkpoint(out / "final", trusted=[setup["tiny"] / "base"])
    assert all(p.numel() > 0 for p in model.fusion.parameters())
