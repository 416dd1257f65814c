"""RAVDESS voice head: feature sets and head settings chosen by speaker folds over actors 01-12, reported on 13-16.

    python benchmarks/bench_voice_head.py --ravdess ../shared/data/ravdess --out benchmarks/results/voice_head_ravdess.json

Protocol (speaker-independent; actors 17-24 are held out elsewhere and never read here):
- ``affectllm recipe ravdess`` writes actors 01-12 (720 clips, fit) and 13-16 (240 clips, dev).
- Every clip's features are computed once (``both`` = the Whisper layer statistics followed by the prosodic
  statistics, so the other two sets are column slices; cached under --cache).
- Choice: for each feature set, every head setting of GRID is trained on five of six speaker folds of
  01-12 (two actors each, one male and one female) and scored on the sixth, through the code
  ``train-voice-head`` runs; the setting with the best out-of-fold UA (8-class unweighted accuracy, mean
  per-class recall) wins, ties to the simpler head. The feature set with the best fold UA is the shipped one.
- Report: each set's chosen head, trained on all of 01-12 with its fold-chosen temperature, scored once on
  13-16 (UA, accuracy, per-class recall, expected calibration error with and without the temperature),
  beside a constant majority answer and a logistic-regression probe (scikit-learn, C chosen on the same
  folds). The shipped head (``affectllm/cues/data/voice_head.safetensors``) is loaded and checked to be that
  head, bit for bit; then its reading time for a 10-s clip on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from affectllm.cli import main as affectllm
from affectllm.cues.heads.voice_head import HEAD_FILE, VOICE_CLASSES, VoiceHead, probabilities
from affectllm.cues.heads.voice_head_training import (VoiceTraining, class_scores, expected_calibration_error,
                                                      featurize, fit, out_of_fold_logits, read_voice_examples,
                                                      speaker_folds)
from affectllm.cues.heads.voice_prosody import PROSODY_FEATURES

GOAL_UA = 0.50  # on actors 17-24, measured elsewhere
BASE = VoiceTraining()
GRID = [replace(BASE, hidden=h, epochs=e, input_dropout=d) for h in (0, 64) for e in (30, 60) for d in (0.2, 0.5)]
PROBE_C = (1e-3, 1e-2, 1e-1)


def manifests(ravdess: Path, cache: Path) -> tuple[Path, Path]:
    train, dev = cache / "ravdess_train.jsonl", cache / "ravdess_dev.jsonl"
    for out, actors in ((train, "1-12"), (dev, "13-16")):
        if affectllm(["recipe", "ravdess", "--input", str(ravdess), "--actors", actors, "--out", str(out)]) != 0:
            sys.exit(f"recipe ravdess failed for actors {actors}")
    return train, dev


def feature_sets(examples, cache_file: Path) -> dict[str, torch.Tensor]:
    """{"whisper", "prosody", "both"} -> (N, D) features of ``examples`` (computed once, cached by clip id)."""
    if cache_file.is_file():
        saved = np.load(cache_file)
        if list(saved["ids"]) == examples.ids:
            both = torch.from_numpy(saved["x"])
        else:
            cache_file.unlink()
    if not cache_file.is_file():
        both = featurize(examples, "both", progress=True)
        np.savez(cache_file, ids=np.array(examples.ids), x=both.numpy())
    split = both.shape[1] - len(PROSODY_FEATURES)
    return {"whisper": both[:, :split], "prosody": both[:, split:], "both": both}


def fold_ua(x: torch.Tensor, examples, cfg: VoiceTraining) -> float:
    return class_scores(out_of_fold_logits(x, examples, cfg).softmax(-1).numpy().astype(np.float64),
                        examples.labels)["ua"]


def choose(x: torch.Tensor, examples) -> tuple[VoiceTraining, list[dict]]:
    """The GRID setting with the best out-of-fold UA (ties: the first, i.e. the simpler head)."""
    table = []
    for cfg in GRID:
        t = time.perf_counter()
        table.append({"hidden": cfg.hidden, "epochs": cfg.epochs, "input_dropout": cfg.input_dropout,
                      "fold_ua": fold_ua(x, examples, cfg), "seconds": round(time.perf_counter() - t, 1)})
        print(json.dumps(table[-1]), flush=True)
    best = max(range(len(GRID)), key=lambda i: (table[i]["fold_ua"], -i))
    return GRID[best], table


def probe(x: torch.Tensor, train, xd: torch.Tensor, dev) -> dict:
    """Logistic regression on standardised features, C chosen by the same speaker folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def model(c):
        return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, class_weight="balanced"))

    X, y, folds = x.numpy(), np.array(train.labels), speaker_folds(train.speakers, BASE.folds)
    fold_scores = {}
    for c in PROBE_C:
        oof = np.zeros((len(X), len(VOICE_CLASSES)))
        for held in folds:
            keep = np.setdiff1d(np.arange(len(X)), held)
            oof[held] = model(c).fit(X[keep], y[keep]).predict_proba(X[held])
        fold_scores[c] = class_scores(oof, train.labels)["ua"]
    c = max(PROBE_C, key=lambda k: (fold_scores[k], -k))
    p = model(c).fit(X, y).predict_proba(xd.numpy())
    return {"C": c, "fold_ua_by_C": {str(k): v for k, v in fold_scores.items()}, "dev": class_scores(p, dev.labels)}


def report_set(name: str, x, train, xd, dev) -> tuple[dict, VoiceTraining]:
    cfg, table = choose(x, train)
    cfg = replace(cfg, features=name)
    net, temperature, scores = fit(x, train, cfg)
    dev_scores = class_scores(probabilities(net, xd, temperature), dev.labels)
    dev_scores["ece_t1"] = round(expected_calibration_error(probabilities(net, xd), dev.labels), 4)
    return {"dims": x.shape[1], "grid": table, "chosen": asdict(cfg), "temperature": temperature,
            "folds": scores["folds"], "dev": dev_scores, "probe": probe(x, train, xd, dev), "net": net}, cfg


def _median_seconds(fn, audio, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn(audio)
        times.append(time.perf_counter() - t)
    return round(float(np.median(times)), 3)


def reading_time(dev) -> dict:
    """Seconds to read a 10-s clip (dev clips joined) on one thread: the first reading (loading included), then
    the median of 3 of the whole reading and of each feature family alone."""
    from affectllm.cues.heads.voice_features import VoiceFeatures
    from affectllm.cues.heads.voice_head import voice_head
    from affectllm.media.audio import load_audio

    audio = np.concatenate([load_audio(p) for p in dev.audio[:4]])[:160_000]
    torch.set_num_threads(1)
    t = time.perf_counter()
    voice_head(str(HEAD_FILE)).read(audio)  # loads the head and the Whisper weights (numba compiles pYIN once)
    first = time.perf_counter() - t
    seconds = _median_seconds(voice_head(str(HEAD_FILE)).read, audio)
    return {"clip_s": round(len(audio) / 16_000, 2), "threads": 1, "first_read_with_loading_s": round(first, 3),
            "read_s": seconds, "real_time_factor": round(seconds / (len(audio) / 16_000), 3),
            "whisper_features_s": _median_seconds(VoiceFeatures("whisper"), audio),
            "prosody_features_s": _median_seconds(VoiceFeatures("prosody"), audio)}


def confidence_by_class(probs: np.ndarray, labels: list[int]) -> dict:
    """Per class: how often a prediction of it is right (precision), the mean probability the head gives when it
    predicts it, and the mean probability it gives the class on the clips that are it."""
    pred, y, out = probs.argmax(1), np.asarray(labels), {}
    for i, name in enumerate(VOICE_CLASSES):
        said, true = pred == i, y == i
        out[name] = {"predicted": int(said.sum()),
                     "precision": round(float((y[said] == i).mean()), 4) if said.any() else None,
                     "mean_top_probability_when_predicted": round(float(probs[said, i].mean()), 4) if said.any() else None,
                     "mean_probability_on_its_clips": round(float(probs[true, i].mean()), 4) if true.any() else None}
    return out


def shipped(results: dict, dev, x_dev: dict) -> dict:
    head = VoiceHead(HEAD_FILE)
    chosen = results[head.info["features"]]
    same = all(torch.equal(v, chosen["net"].state_dict()[k]) for k, v in head.net.state_dict().items())
    p = probabilities(head.net, x_dev[head.info["features"]], head.temperature)
    return {"file": str(HEAD_FILE.relative_to(Path.cwd())) if HEAD_FILE.is_relative_to(Path.cwd()) else str(HEAD_FILE),
            "bytes": HEAD_FILE.stat().st_size, "features": head.info["features"], "temperature": head.temperature,
            "identical_to_the_benchmark_fit": bool(same), "dev": class_scores(p, dev.labels),
            "dev_confidence_by_class": confidence_by_class(p, dev.labels),
            "training": head.info["training"], "trained_on": head.info.get("trained_on"),
            "licence": head.info.get("licence"), "reading_time_10s": reading_time(dev)}


def run(args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    args.cache.mkdir(parents=True, exist_ok=True)
    train_path, dev_path = manifests(args.ravdess, args.cache)
    train, dev = read_voice_examples(train_path), read_voice_examples(dev_path)
    x_train = feature_sets(train, args.cache / "features_train.npz")
    x_dev = feature_sets(dev, args.cache / "features_dev.npz")
    results = {}
    for name in ("whisper", "prosody", "both"):
        results[name], _ = report_set(name, x_train[name], train, x_dev[name], dev)
    best = max(results, key=lambda k: results[k]["folds"]["ua"])
    majority = max(range(len(VOICE_CLASSES)), key=lambda i: (train.labels.count(i), -i))
    constant = np.zeros((len(dev), len(VOICE_CLASSES)))
    constant[:, majority] = 1.0
    out = {
        "what": "RAVDESS speech, 8 emotions, speaker-independent: settings chosen by 6 speaker folds over actors "
                "01-12, fit on 01-12, scored once on actors 13-16",
        "command": "python " + " ".join(sys.argv), "data": {"fit": "actors 01-12 (720 clips)",
                                                           "dev": "actors 13-16 (240 clips)",
                                                           "held_out": "actors 17-24 (not read here)"},
        "goal": {"ua_on_actors_17_24": GOAL_UA},
        "chosen_feature_set": best,
        "table": {k: {"fold_ua_01_12": v["folds"]["ua"], "dev_ua_13_16": v["dev"]["ua"], "dev_acc": v["dev"]["acc"],
                      "dev_ece": v["dev"]["ece"], "dev_ece_without_temperature": v["dev"]["ece_t1"],
                      "probe_fold_ua": v["probe"]["fold_ua_by_C"][str(v["probe"]["C"])],
                      "probe_dev_ua": v["probe"]["dev"]["ua"]} for k, v in results.items()},
        "feature_sets": {k: {kk: vv for kk, vv in v.items() if kk != "net"} for k, v in results.items()},
        "baselines": {"constant_majority": {"answer": VOICE_CLASSES[majority],
                                            "dev": class_scores(constant, dev.labels)},
                      "logistic_regression_probe": {k: v["probe"] for k, v in results.items()}},
    }
    if HEAD_FILE.is_file():
        out["shipped_head"] = shipped(results, dev, x_dev)
    out["machine"] = {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                      "python": platform.python_version(), "torch": torch.__version__,
                      "load_average_1min_at_end": round(os.getloadavg()[0], 2)}
    out["seconds"] = round(time.perf_counter() - start, 1)
    out["date"] = time.strftime("%Y-%m-%d", time.gmtime())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ravdess", type=Path, default=Path("../shared/data/ravdess"), help="RAVDESS root (Actor_NN/)")
    p.add_argument("--cache", type=Path, default=Path(".cache/bench_voice_head"), help="manifests and features")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/voice_head_ravdess.json"), help="results JSON")
    args = p.parse_args()
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("chosen_feature_set", "seconds")}))


if __name__ == "__main__":
    main()
