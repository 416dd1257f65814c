"""Scoring speed: 10,000 samples through every eval task, CPU only.

    .venv/bin/python benchmarks/bench_eval.py [--wheel-dir ../shared/emotion_wheel] [--out benchmarks/results/eval_cpu.json]

Times scoring only (records already in memory; the one-off wheel-file load is
reported apart). Predictions mix emotion lists and free-text explanations,
so the deterministic extractor is part of the timed work. ``vad`` gold is on
a 1..5 scale as recipes write it (predictions on -1..1, mapped onto it);
the cause tasks read half of their predictions from a model's raw
``emotion_cause`` answer, so its parser is timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

from affectllm.emotions import default_vocabulary
from affectllm.eval import EvalOptions, evaluate
from affectllm.eval.wheel import load_official_wheels

N = 10_000
TEMPLATES = [
    "She seems {a} and a little {b}, though not {c}.",
    "His voice rises; he is clearly {a}. There is no sign of {c}.",
    "The speaker looks {a}, maybe {b}.",
]


def make_records(seed: int = 0):
    rng = random.Random(seed)
    words = list(default_vocabulary().words)
    gold_ov, gold_basic, gold_sent, gold_vad, gold_cause, pred = {}, {}, {}, {}, {}, {}
    for i in range(N):
        sid = f"s{i:05d}"
        g = rng.sample(words, rng.randint(1, 4))
        gold_ov[sid] = {"id": sid, "emotions": g}
        gold_basic[sid] = {"id": sid, "label": rng.choice(["happy", "sad", "angry", "neutral", "worried", "surprise"])}
        v = round(rng.uniform(-3, 3), 1)
        gold_sent[sid] = {"id": sid, "valence": v}
        gold_vad[sid] = {"id": sid, "vad": {"valence": round(3 + 2 * v / 3, 2), "arousal": round(rng.uniform(1, 5), 2)},
                         "vad_scale": {"valence": [1, 5], "arousal": [1, 5]}}
        turn = rng.randint(1, 8)
        causes = rng.sample(range(1, turn + 1), min(turn, rng.randint(0, 2)))
        spans = [{"text": " ".join(rng.sample(words, rng.randint(2, 6))), "utterance": u} for u in causes]
        gold_cause[sid] = {"id": sid, "target_turn": turn, "cause_spans": spans}
        if i % 2:
            p = {"id": sid, "emotions": rng.sample(words, rng.randint(1, 4))}
        else:
            a, b, c = rng.sample(words, 3)
            p = {"id": sid, "emotions": [], "explanation": rng.choice(TEMPLATES).format(a=a, b=b, c=c)}
        guessed = [{"text": " ".join(s["text"].split()[1:] or ["x"]), "utterance": s["utterance"]} for s in spans]
        if i % 2:
            p["vad"] = {"valence": rng.uniform(-1, 1), "arousal": rng.uniform(-1, 1)}
            p["cause_spans"] = guessed
        else:
            p["arousal"] = rng.uniform(-1, 1)
            p["raw_output"] = "Emotion: sad\nCause spans:\n" + "".join(
                f'- "{s["text"]}" (utterance {s["utterance"]})\n' for s in guessed) + "Evidence: the words."
        pred[sid] = p
    return {"ov": gold_ov, "basic": gold_basic, "sentiment": gold_sent, "vad": gold_vad, "closed": gold_basic,
            "cause-span": gold_cause, "cause-pair": gold_cause}, pred


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "emotion_wheel"))
    ap.add_argument("--out", default=str(Path(__file__).with_name("results") / "eval_cpu.json"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    golds, pred = make_records()
    modes = {"default": EvalOptions(), "default-strict": EvalOptions(strict=True)}
    result = {"samples": N, "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}",
              "cpu_count": os.cpu_count(), "command": "python benchmarks/bench_eval.py", "seconds": {}}
    if Path(args.wheel_dir, "format.csv").is_file():
        t = time.perf_counter()
        load_official_wheels(args.wheel_dir)
        result["wheel_load_seconds"] = round(time.perf_counter() - t, 4)
        modes["official"] = EvalOptions(wheel_dir=args.wheel_dir)
        modes["official-strict"] = EvalOptions(wheel_dir=args.wheel_dir, strict=True)
    # Free-text extraction is shared by every task; warm the vocabulary once so it is not billed to the first task.
    default_vocabulary()
    for mode, options in modes.items():
        for task in ("ov", "basic", "sentiment", "vad", "closed", "cause-span", "cause-pair"):
            if mode != "default" and task in ("vad", "closed", "cause-span", "cause-pair"):
                continue  # these do not depend on the mode
            best = float("inf")
            for _ in range(args.repeats):
                t = time.perf_counter()
                scores = evaluate(task, golds[task], pred, options).scores
                best = min(best, time.perf_counter() - t)
            result["seconds"][f"{mode}/{task}"] = round(best, 4)
            print(f"{mode:16s} {task:10s} {best * 1000:8.1f} ms  {scores}")
    result["max_seconds"] = max(result["seconds"].values())
    result["under_one_second"] = result["max_seconds"] < 1.0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"slowest task: {result['max_seconds']:.3f} s for {N} samples -> {args.out}")


if __name__ == "__main__":
    main()
