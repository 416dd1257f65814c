"""GRPO learns from verifiable rewards alone, through `affectllm train` (one CPU process, tiny models).

The task: a tone's pitch decides the emotion word (high → happy, low → sad). The
tiny random-init LLM starts from an untrained LoRA adapter and fusion, so its
greedy answers are byte soup that names no emotion (held-out ``label_hit`` 0).
Rewarded by ``label_hit`` it must first find the words, then tie them to the
pitch; the same run with the reward weighted 0 (computed, logged, never
trained on) must not improve. A second pair checks the format reward: starting
from a policy that uses the ``<think>…</think><answer>…</answer>`` layout for
about half of its answers, rewarding the format makes it the rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

QUESTION = "<audio>Which emotion is heard?"
WORD = {"high": "happy", "low": "sad"}
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def write_pitch_manifest(folder: Path, n: int, seed: int, answer=None, name: str = "prompts.jsonl") -> Path:
    """``n`` one-second tones as WAV files and a manifest of prompts with their gold ``label`` / ``emotions``.
    ``answer(index, word)`` adds an SFT target."""
    from affectllm.media.synthetic import tone, write_wav

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        pitch = "high" if i % 2 == 0 else "low"
        freq = rng.uniform(650, 900) if pitch == "high" else rng.uniform(180, 320)
        write_wav(folder / f"tone_{i:03d}.wav", tone(freq, 1.0, amplitude=rng.uniform(0.3, 0.7)))
        messages = [{"role": "user", "content": QUESTION}]
        if answer:
            messages.append({"role": "assistant", "content": answer(i, WORD[pitch])})
        lines.append({"id": f"{folder.name}_{i:03d}", "audios": [f"tone_{i:03d}.wav"], "messages": messages,
                      "label": WORD[pitch], "emotions": [WORD[pitch]]})
    manifest = folder / name
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return manifest


def base_config(tiny: Path, tmp: Path) -> dict:
    base = tiny / "base"
    return {
        "model": {"llm": str(base / "llm"), "audio_encoder": str(base / "audio"), "pooling": "attention",
                  "prefusion": "none", "fusion_dim": 64, "fusion_heads": 4,
                  "lora": {"r": 8, "alpha": 16, "dropout": 0.0}},
        "data": {"max_length": 256, "num_workers": 0, "media": {"max_audio_seconds": 5.0}},
        "train": {"micro_batch_size": 4, "lr": 1e-3, "lr_scheduler": "constant", "save_every": 0, "seed": 0,
                  "tensorboard": False, "log_every": 50, "eval_batch_size": 32},
    }


def write_config(data: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def pitch_data(tiny_checkpoint, tmp_path_factory):
    """Train and held-out prompts with their encoder features cached (`affectllm cache-features`)."""
    from affectllm.cli import main

    tmp = tmp_path_factory.mktemp("grpo_pitch")
    train = write_pitch_manifest(tmp / "train", 64, seed=1)
    held_out = write_pitch_manifest(tmp / "held_out", 32, seed=2)
    config = write_config(base_config(tiny_checkpoint, tmp), tmp / "base.yaml")
    for manifest in (train, held_out):
        assert main(["cache-features", str(manifest), "--config", str(config)]) == 0
    return {"tiny": tiny_checkpoint, "train": train, "held_out": held_out, "config": config, "tmp": tmp}


def run_grpo(data: dict, name: str, overrides: list[str]) -> tuple[dict, list[dict]]:
    from affectllm.config.schema import load_config
    from affectllm.training.grpo.reward_eval import read_evals
    from affectllm.training.trainer import train

    out = data["tmp"] / name
    cfg = load_config(data["config"], [f"data.train={data['train']}", f"train.eval_manifest={data['held_out']}",
                                       f"train.output_dir={out}", "train.stage=grpo", *overrides])
    summary = train(cfg)
    return summary, read_evals(out)


def step_rewards(run: Path, name: str) -> list[float]:
    """The mean ``name`` reward of the sampled completions, step by step (metrics.jsonl)."""
    from affectllm.training.run_log import read_metrics

    return [record["rewards"][name] for record in read_metrics(run)]


# held-out label_hit stays at 0.5 (one word for every tone) up to step ~150 and reaches 1.0 by step 175
LABEL_RUN = ["train.max_steps=225", "train.grpo.group_size=16", "train.grpo.max_new_tokens=3",
             "train.grpo.kl_beta=0.04", "train.grpo.rewards.wheel_f1=null", "train.grpo.rewards.format=null"]


def test_label_hit_reward_teaches_the_pitch_and_a_zeroed_reward_does_not(pitch_data):
    summary, evals = run_grpo(pitch_data, "label_hit", LABEL_RUN + ["train.grpo.rewards.label_hit=1"])
    start, end = evals[0]["rewards"]["label_hit"], evals[-1]["rewards"]["label_hit"]
    assert [e["step"] for e in evals] == [0, 225]
    assert start <= 0.1 and end >= 0.8, evals
    assert end >= start + 0.6
    # both families are needed: the held-out answers name the right one, not one word for every tone (label_hit
    # credits a word of the label's family: "lonely" for sad)
    from affectllm.emotions import default_vocabulary, extract_emotions

    vocab = default_vocabulary()
    answers = {c["id"]: c["completion"] for c in evals[-1]["completions"]}
    families = [{vocab.family(w) for w in extract_emotions(a) if vocab.normalize(w)} for a in answers.values()]
    assert len(answers) == 3 and any("sadness" in f for f in families) and any("joy" in f for f in families), answers

    _, control = run_grpo(pitch_data, "zeroed", LABEL_RUN + ["train.grpo.rewards.label_hit=0"])
    assert control[0]["rewards"]["label_hit"] == start  # same start: same seed, same untrained model
    assert control[-1]["rewards"]["label_hit"] <= start + 0.15, control


def test_format_reward_makes_the_template_the_rule(pitch_data):
    """An SFT warm start on a mix of think/answer and plain targets samples the layout now and then; GRPO on the
    format reward (KL to that SFT checkpoint, given as the explicit reference) makes it the rule; weighted 0
    (computed and logged only), it does not."""
    from affectllm.config.schema import load_config
    from affectllm.training.trainer import train

    def answer(i: int, word: str) -> str:
        return f"<think>a {'high' if word == 'happy' else 'low'} tone</think><answer>{word}</answer>" if i % 4 < 2 \
            else word

    sft_manifest = write_pitch_manifest(pitch_data["train"].parent, 64, seed=1, answer=answer, name="sft.jsonl")
    sft = pitch_data["tmp"] / "format_sft"
    train(load_config(pitch_data["config"], [f"data.train={sft_manifest}", f"train.output_dir={sft}",
                                             "train.max_steps=60", "train.micro_batch_size=8", "train.lr=3e-3",
                                             f"data.feature_cache={pitch_data['train'].with_suffix('.features')}",
                                             "model.prompt=think_answer"]))
    common = [f"train.init_from={sft / 'final'}", "model.prompt=think_answer", "train.max_steps=50",
              "train.grpo.group_size=8", "train.grpo.max_new_tokens=40", "train.grpo.kl_beta=0.04",
              f"train.grpo.reference={sft / 'final'}", "train.grpo.rewards.wheel_f1=null",
              "train.grpo.rewards.label_hit=0"]
    run_grpo(pitch_data, "format", common + ["train.grpo.rewards.format=1"])
    run_grpo(pitch_data, "format_zeroed", common + ["train.grpo.rewards.format=0"])
    rewarded = step_rewards(pitch_data["tmp"] / "format", "format")
    zeroed = step_rewards(pitch_data["tmp"] / "format_zeroed", "format")
    start = rewarded[0]  # step 1 is scored on completions sampled before any update: the SFT policy's share
    assert zeroed[0] == start and 0.05 <= start <= 0.6, (rewarded[:5], zeroed[:5])
    # a share of sampled answers (temperature 1) stays unfinished noise; the layout itself becomes the rule
    assert np.mean(rewarded[-10:]) >= max(0.7, start + 0.4), rewarded[-10:]
    assert np.mean(zeroed[-10:]) <= start + 0.15, zeroed[-10:]


def test_updates_per_rollout_reuse_the_answers_and_clip(pitch_data):
    """With μ = 2 each rollout serves two optimizer steps: the same answers (identical rewards), a ratio of 1
    on the first (nothing clipped) and, after a large step, clipped tokens on the second."""
    run_grpo(pitch_data, "two_updates", ["train.max_steps=6", "train.save_every=2", "train.lr=0.05",
                                         "train.grpo.updates_per_rollout=2", "train.grpo.group_size=8",
                                         "train.grpo.max_new_tokens=12", "train.grpo.rewards.wheel_f1=null",
                                         "train.grpo.rewards.label_hit=1", "train.eval_manifest=null"])
    from affectllm.training.run_log import read_metrics

    records = read_metrics(pitch_data["tmp"] / "two_updates")
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    for first, second in zip(records[0::2], records[1::2]):
        assert first["rewards"] == second["rewards"] and first["completion_tokens"] == second["completion_tokens"]
        assert first["rollout_s"] > 0 and second["rollout_s"] == 0
        assert first["clip_fraction"] == 0
    assert any(second["clip_fraction"] > 0 for second in records[1::2])
