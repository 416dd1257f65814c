"""The model path hears: a SmolLM2 + Whisper tiny.en checkpoint trained on RAVDESS actors 01-12, scored on 13-16.

    .venv/bin/python benchmarks/bench_ravdess_audio.py --checkpoint runs/ravdess_audio_smollm2/final \\
        --train data/ravdess/train.jsonl --dev data/ravdess/dev.jsonl \\
        [--words-checkpoint runs/ravdess_words_smollm2/final] [--out benchmarks/results/ravdess_audio_smollm2.json]

Rows, all on the 240 dev clips (actors 13-16; RAVDESS's two sentences are lexically neutral, so only the voice
tells the 8 emotions apart), each made with the command a user runs:
- the trained checkpoint: `affectllm caption DEV --model CKPT`;
- the same checkpoint with the audio withheld: `affectllm caption DEV --model CKPT --drop audio` (the files and
  the <audio> tag removed, so it is asked exactly a sample without sound: it should sit near chance, 1/8);
- the same LLM trained on the words alone (``--words-checkpoint``: the shipped config with
  ``model.audio_encoder=null`` on the train set written with ``affectllm recipe ravdess --drop audio``), asked
  with the audio withheld;
- the train-majority constant;
- the non-LLM baseline: a logistic-regression probe (scikit-learn, C=1, standardised inputs) on the frozen
  Whisper tiny.en encoder's features mean-pooled over the utterance, fit on the train clips.
Scores: 8-class unweighted accuracy (mean per-class recall of the first emotion's family) and per-class recall.
The training time and command are read from the checkpoint's run folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench_channels import RAVDESS_FAMILY, cli, unweighted_accuracy

REPO = Path(__file__).resolve().parents[1]


def caption_ua(ckpt: str, dev: Path, out: Path, drop: str = "") -> dict:
    t = time.perf_counter()
    cli("caption", str(dev), "--model", ckpt, "--out", str(out), "--overwrite", "--quiet", "--batch-size", "16",
        "--max-new-tokens", "24", "--workers", "0", *(["--drop", drop] if drop else []))
    row = unweighted_accuracy(out, dev)
    row["seconds"] = round(time.perf_counter() - t, 1)
    row["command"] = "affectllm caption DEV --model CKPT" + (f" --drop {drop}" if drop else "")
    return row


def whisper_probe(train: Path, dev: Path) -> dict:
    """Logistic regression on mean-pooled frozen Whisper tiny.en encoder states (the non-LLM baseline)."""
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from transformers import WhisperFeatureExtractor, WhisperModel

    from affectllm.media import load_audio
    from affectllm.config.model_sources import bundled_model_dir

    folder = bundled_model_dir("bundled:whisper-tiny.en")
    extractor, encoder = WhisperFeatureExtractor.from_pretrained(folder), WhisperModel.from_pretrained(folder).encoder

    def features(manifest: Path) -> tuple[np.ndarray, list[str]]:
        rows, labels = [], []
        for r in map(json.loads, open(manifest)):
            audio = load_audio((manifest.parent / r["audios"][0]).resolve())
            mel = extractor(audio, sampling_rate=16000, return_tensors="pt").input_features
            with torch.inference_mode():
                states = encoder(mel).last_hidden_state[0]  # (1500, 384): 20 ms a frame, the speech first
            rows.append(states[: max(1, len(audio) // 320)].mean(0).numpy())
            labels.append(r["label"])
        return np.stack(rows), labels

    t = time.perf_counter()
    x_train, y_train = features(train)
    x_dev, y_dev = features(dev)
    scaler = StandardScaler().fit(x_train)
    probe = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(x_train), y_train)
    pred = probe.predict(scaler.transform(x_dev))
    per = Counter(y_dev)
    hits = Counter(g for g, p in zip(y_dev, pred) if g == p)
    recall = {c: round(hits[c] / per[c], 3) for c in sorted(per)}
    return {"ua": round(sum(recall.values()) / len(recall), 4), "recall": recall,
            "seconds": round(time.perf_counter() - t, 1)}


def training_facts(ckpt: Path) -> dict:
    """Steps and samples from the checkpoint's training.json; the wall time from the run's start (its
    environment.json) to the final checkpoint's record being written."""
    from datetime import datetime

    record = json.loads((ckpt / "training.json").read_text()) if (ckpt / "training.json").is_file() else {}
    env = ckpt.parent / "environment.json"
    seconds = None
    if env.is_file() and (ckpt / "training.json").is_file():
        started = datetime.fromisoformat(json.loads(env.read_text())["started"]).timestamp()
        seconds = round((ckpt / "training.json").stat().st_mtime - started)
    return {"steps": record.get("step"), "samples_seen": record.get("samples_seen"), "train_seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--train", required=True, type=Path)
    ap.add_argument("--dev", required=True, type=Path)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "ravdess_audio_smollm2.json"))
    ap.add_argument("--words-checkpoint", help="the same LLM trained without audio (the words alone)")
    ap.add_argument("--skip-probe", action="store_true")
    args = ap.parse_args()
    labels = Counter(json.loads(line)["label"] for line in open(args.train))
    majority = labels.most_common(1)[0][0]
    report = {"what": __doc__.split("\n")[0], "command": "python " + " ".join(sys.argv),
              "machine": f"{platform.machine()}, 2 CPU cores, python {platform.python_version()}",
              "checkpoint": args.checkpoint, "training": training_facts(Path(args.checkpoint)),
              "dev": "RAVDESS actors 13-16, 240 clips", "chance_ua": 0.125, "rows": {}}
    with tempfile.TemporaryDirectory() as tmp:
        report["rows"]["trained, with audio"] = caption_ua(args.checkpoint, args.dev, Path(tmp) / "a.jsonl")
        print(report["rows"]["trained, with audio"], flush=True)
        report["rows"]["trained, audio withheld"] = caption_ua(args.checkpoint, args.dev, Path(tmp) / "b.jsonl",
                                                              "audio")
        print(report["rows"]["trained, audio withheld"], flush=True)
        if args.words_checkpoint:
            row = caption_ua(args.words_checkpoint, args.dev, Path(tmp) / "c.jsonl", "audio")
            row["training"] = training_facts(Path(args.words_checkpoint))
            report["rows"]["same LLM trained on the words alone"] = row
            print(row, flush=True)
    report["rows"][f"train-majority constant ({majority})"] = {
        "ua": round(1 / len(RAVDESS_FAMILY), 4), "recall": {c: float(c == majority) for c in sorted(labels)}}
    if not args.skip_probe:
        report["rows"]["frozen Whisper tiny.en + logistic regression"] = whisper_probe(args.train, args.dev)
    with_audio, without = (report["rows"][k]["ua"] for k in ("trained, with audio", "trained, audio withheld"))
    report["audio_gain_ua"] = round(with_audio - without, 4)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v["ua"] for k, v in report["rows"].items()}), f"wrote {args.out}")


if __name__ == "__main__":
    main()
