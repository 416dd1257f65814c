"""What `--ground-chains` costs over a plain recipe run, per sample, on CPU.

    nice -n 5 .venv/bin/python benchmarks/bench_recipe_grounding.py [--clips 8] [--frames 8] \\
        [--meld /path/to/MELD] [--out benchmarks/results/recipe_grounding_cpu.json]

Data: a MELD-layout fixture (``test_sent_emo.csv`` + ``output_repeated_splits_test/``) of
``--clips`` real face clips (Debian's opencv-doc Megamind.avi, 4 s each) with espeak-ng
speech, one sentence per clip. Baseline: the same recipe without grounding (label-only
samples become plain answers). Measured in one process, in this order: the baseline
(after one warm-up run that pays the imports);
one grounded clip alone (model loading: face detector, expression model, Whisper tiny);
then all clips grounded with the models warm; then the utterances grounded from text
alone (``--text-only``). With ``--meld DIR`` (a folder holding MELD's dev_sent_emo.csv)
the real dev utterances are also grounded from text. Reported: seconds per sample and the
ratio to the baseline's seconds per sample.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
LINES = [("We finally won the game, this is the best day of my life.", "joy", "positive"),
         ("I can't believe you lied to me again.", "anger", "negative"),
         ("Everything is gone, I have nothing left.", "sadness", "negative"),
         ("Wait, you're moving to Paris tomorrow?", "surprise", "positive"),
         ("Please don't leave me alone in here.", "fear", "negative"),
         ("The meeting is at ten, in room four.", "neutral", "neutral")]


def build_fixture(root: Path, clips: int) -> Path:
    from affectllm.media.synthetic import write_face_clip

    rows = []
    folder = root / "output_repeated_splits_test"
    folder.mkdir(parents=True)
    for i in range(clips):
        said, emotion, sentiment = LINES[i % len(LINES)]
        write_face_clip(folder / f"dia{i}_utt0.mp4", speech_text=said, seconds=4.0, pitch=30 + 7 * i)
        rows.append(f'{i + 1},"{said}",A,{emotion},{sentiment},{i},0,1,1,a,b\n')
    (root / "test_sent_emo.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return root


def timed_recipe(argv: list[str]) -> tuple[float, int]:
    from affectllm.cli import main

    out = Path(argv[argv.index("--out") + 1])
    started = time.perf_counter()
    rc = main(["recipe", *argv])
    seconds = time.perf_counter() - started
    if rc != 0:
        raise SystemExit(f"recipe {' '.join(argv)} failed with exit code {rc}")
    return seconds, len(out.read_text().splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--meld", type=Path, default=None, help="folder holding MELD's dev_sent_emo.csv")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/recipe_grounding_cpu.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = build_fixture(tmp / "MELD.Raw", args.clips)
        common = ["meld", "--input", str(root), "--split", "test", "--style", "emer"]
        ground = ["--ground-chains", "--ground-frames", str(args.frames)]
        timed_recipe(common + ["--out", str(tmp / "plain.jsonl")])  # warm-up: imports
        plain_s, n = timed_recipe(common + ["--out", str(tmp / "plain.jsonl")])
        (tmp / "one").mkdir()
        (tmp / "one" / "output_repeated_splits_test").mkdir()
        first = root / "output_repeated_splits_test" / "dia0_utt0.mp4"
        os.link(first, tmp / "one" / "output_repeated_splits_test" / "dia0_utt0.mp4")
        lines = (root / "test_sent_emo.csv").read_text().splitlines(keepends=True)
        (tmp / "one" / "test_sent_emo.csv").write_text("".join(lines[:2]), encoding="utf-8")
        cold_s, _ = timed_recipe(["meld", "--input", str(tmp / "one"), "--split", "test", "--style", "emer", *ground,
                                  "--out", str(tmp / "cold.jsonl")])
        warm_s, _ = timed_recipe(common + ground + ["--out", str(tmp / "clips.jsonl")])
        text_s, _ = timed_recipe(common + ["--text-only", "--ground-chains", "--out", str(tmp / "text.jsonl")])
        grounded = [json.loads(x) for x in (tmp / "clips.jsonl").read_text().splitlines()]
        real = None
        if args.meld:
            real_s, real_n = timed_recipe(["meld", "--input", str(args.meld), "--split", "dev", "--text-only",
                                           "--style", "emer", "--ground-chains", "--out", str(tmp / "real.jsonl")])
            base_s, _ = timed_recipe(["meld", "--input", str(args.meld), "--split", "dev", "--text-only",
                                      "--style", "emer", "--out", str(tmp / "real_plain.jsonl")])
            real = {"samples": real_n, "grounded_text_s": round(real_s, 3), "plain_s": round(base_s, 3),
                    "ratio": round(real_s / base_s, 2)}

    per = plain_s / n
    result = {
        "benchmark": "recipe --ground-chains vs plain answers (MELD layout)",
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "clips": n, "clip_seconds": 4.0, "frames_per_clip": args.frames,
        "baseline_plain": {"total_s": round(plain_s, 3), "per_sample_s": round(per, 4)},
        "first_grounded_clip_with_model_load_s": round(cold_s, 3),
        "grounded_clips_warm": {"total_s": round(warm_s, 3), "per_sample_s": round(warm_s / n, 3),
                                "ratio_to_plain": round(warm_s / plain_s, 1)},
        "grounded_text_only": {"total_s": round(text_s, 3), "per_sample_s": round(text_s / n, 4),
                               "ratio_to_plain": round(text_s / plain_s, 1)},
        "chains_with_support": sum(bool(r["grounding"]["support"]) for r in grounded),
        "chains_with_cues_against": sum(bool(r["grounding"]["against"]) for r in grounded),
        "real_meld_dev_text_only": real,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
