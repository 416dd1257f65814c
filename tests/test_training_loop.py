"""The research loop inside `affectllm train`: the task metric during training, the best checkpoint
kept by it, and several manifests mixed by weight. One short real training run of the tiny model
on a text task (the emotion word hidden in the subtitle is the answer) serves every test here."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from affectllm.config.schema import load_config

CUES = {"happy": "happy", "sad": "sad", "angry": "angry", "surprised": "surprised"}
FILLER = "the a speaker character person face voice tone says what because seems appears shows evidence".split()
QUESTION = "Which emotions does the character show?"


def write_manifest(path: Path, n: int, seed: int, prefix: str) -> Path:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        cue = list(CUES)[i % len(CUES)]
        words = rng.sample(FILLER, 2)
        words.insert(rng.randrange(3), cue)
        label = CUES[cue]
        lines.append({"id": f"{prefix}{i}", "subtitle": " ".join(words), "label": label, "emotions": [label],
                      "messages": [{"role": "user", "content": QUESTION},
                                   {"role": "assistant", "content": label}]})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


STEPS, EVAL_EVERY = 48, 12


@pytest.fixture(scope="module")
def run(tiny_checkpoint, tmp_path_factory):
    """48 steps on two manifests mixed 1:3 (48 and 16 samples), generating on 24 held-out samples every 12 steps."""
    from affectllm.training.trainer import train

    d = tmp_path_factory.mktemp("loop")
    a = write_manifest(d / "a.jsonl", 48, seed=0, prefix="a")
    b = write_manifest(d / "b.jsonl", 16, seed=1, prefix="b")
    held_out = write_manifest(d / "dev.jsonl", 24, seed=2, prefix="dev")
    cfg = load_config(tiny_checkpoint / "affectllm.yaml", [
        f"data.train=[{{path: {a}, weight: 1}}, {{path: {b}, weight: 3}}]", "data.num_workers=0",
        "model.audio_encoder=", "model.vision_encoder=", "model.prompt=affectgpt_hybrid",
        f"train.output_dir={d / 'run'}", f"train.max_steps={STEPS}", "train.micro_batch_size=8", "train.lr=1e-2",
        "train.fusion_lr=1e-2", "train.warmup_steps=2", "train.save_every=0", "train.tensorboard=false",
        "train.log_sample_ids=true", f"train.eval_manifest={held_out}", f"train.eval_every={EVAL_EVERY}",
        "train.eval_max_new_tokens=12", "train.seed=0"])
    summary = train(cfg)
    return cfg, summary, Path(cfg.train.output_dir), held_out


def test_task_metric_is_logged_during_training_and_rises(run):
    from affectllm.training.run_log import read_metrics

    _, summary, run_dir, _ = run
    metrics = read_metrics(run_dir)
    evals = {m["step"]: m["eval"] for m in metrics if "eval" in m}
    assert sorted(evals) == list(range(EVAL_EVERY, STEPS + 1, EVAL_EVERY))
    for scores in evals.values():
        assert scores["task"] == "closed" and scores["metric"] == "waf" and scores["samples"] == 24
        assert scores["score"] == scores["waf"] and 0.0 <= scores["acc"] <= 1.0
    # the model learns the cue words (chance on four balanced classes is 0.25), and the metric shows it
    assert evals[STEPS]["acc"] >= 0.5, evals
    assert max(e["score"] for e in evals.values()) > evals[EVAL_EVERY]["score"] + 0.2
    assert summary["evals"] == evals


def test_best_checkpoint_is_the_best_logged_step_and_scores_the_same_again(run, tiny_checkpoint):
    from affectllm.pretrained import AffectLLM
    from affectllm.training.generation_eval import GenerationEval
    from affectllm.core.distributed import Rank
    from affectllm.training.run_log import read_metrics

    cfg, summary, run_dir, _ = run
    evals = {m["step"]: m["eval"]["score"] for m in read_metrics(run_dir) if "eval" in m}
    best_step = max(evals, key=lambda s: (evals[s], -s))  # the first step that reached the top score
    record = json.loads((run_dir / "best" / "training.json").read_text())
    assert record["step"] == best_step == summary["best"]["step"]
    assert record["eval"]["score"] == evals[best_step] == summary["best"]["score"]
    assert [s["per_epoch"] for s in record["data"]] == [16, 48]  # 64 samples a epoch, weights 1:3
    # the saved best model answers the held-out set exactly as it did during training
    model = AffectLLM.from_checkpoint(run_dir / "best", trusted=[tiny_checkpoint])
    again = GenerationEval(cfg, Rank())(model)
    assert again["score"] == pytest.approx(evals[best_step])


def test_mixing_weights_are_honoured(run):
    _, _, run_dir, _ = run
    steps = [json.loads(line) for line in (run_dir / "samples" / "rank_00000.jsonl").read_text().splitlines()]
    first_epoch = [sid for rec in steps[:8] for sid in rec["ids"]]  # 8 steps × 8 = one 64-sample epoch
    counts = Counter(sid[0] for sid in first_epoch)
    assert counts == {"a": 16, "b": 48}  # 1:3 although manifest a holds three times as many samples
    # the under-weighted manifest shows new samples each epoch; the over-weighted one repeats only after a pass
    assert len({sid for sid in first_epoch if sid[0] == "a"}) == 16
    assert Counter(Counter(sid for sid in first_epoch if sid[0] == "b").values()) == {3: 16}
    second_epoch = [sid for rec in steps[8:16] for sid in rec["ids"]]
    a_seen = {sid for sid in first_epoch + second_epoch if sid[0] == "a"}
    assert len(a_seen) == 32


def test_eval_manifest_without_gold_is_one_clear_error(tiny_checkpoint, tmp_path):
    from affectllm.core.errors import ConfigError
    from affectllm.training.trainer import train

    train_set = write_manifest(tmp_path / "t.jsonl", 8, seed=0, prefix="t")
    bare = tmp_path / "bare.jsonl"
    bare.write_text(json.dumps({"id": "x", "messages": [{"role": "user", "content": "hi"}]}) + "\n")
    cfg = load_config(tiny_checkpoint / "affectllm.yaml", [f"data.train={train_set}", f"train.eval_manifest={bare}",
                                        f"train.output_dir={tmp_path / 'run'}", "train.max_steps=1"])
    with pytest.raises(ConfigError, match=r"train.eval_manifest: the samples of .*bare.jsonl carry no gold label"):
        train(cfg)
    cfg.data.train = str(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match=r"'data.train': manifest .*missing.jsonl not found"):
        train(cfg)
