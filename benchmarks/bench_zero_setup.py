"""Zero-setup judgement on real data: the cue path (no LLM) on MELD dev, text only, against baselines.

    .venv/bin/python benchmarks/bench_zero_setup.py [--meld ../shared/data/meld] \\
        [--wheel-dir ../shared/emotion_wheel] [--out benchmarks/results/zero_setup_meld_dev.json]

In one run: the MELD dev and train label files become text-only manifests
(`affectllm recipe meld --text-only`); `affectllm caption` writes the cue
path's records for dev; the baselines write theirs: always "happy", always
"neutral", and the frozen-MiniLM probe (scikit-learn logistic regression,
C=1, on the all-MiniLM-L6-v2 sentence embedding, fit on train, one for the 7
emotions and one for the 3 sentiments). Every system is then scored by
`affectllm eval` exactly as a user would: `basic --wheel-dir` (official hit
rate), `closed` (accuracy / WAF), `sentiment` (WAF / accuracy).

A fifth row, the probe with the cue path's naming rule (the top class, then
classes scoring at least KEEP_RATIO of it), shows how much of the hit rate
comes from naming more than one emotion rather than from the text head.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GOALS = {"closed_waf": 0.52, "hit_rate": 0.55, "sentiment_waf": 0.72}
METRICS = ("hit_rate", "closed_acc", "closed_waf", "sentiment_waf", "sentiment_acc")


def cli(*argv: str) -> str:
    """Run `affectllm ARGV` in this process; its stdout. A non-zero exit stops the benchmark."""
    from affectllm.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    if code:
        sys.exit(f"affectllm {' '.join(argv)} exited {code}")
    return out.getvalue()


def score(pred: Path, gold: Path, wheel_dir: str) -> dict[str, float]:
    basic = json.loads(cli("eval", "basic", "--pred", str(pred), "--gold", str(gold), "--wheel-dir", wheel_dir, "--json"))
    closed = json.loads(cli("eval", "closed", "--pred", str(pred), "--gold", str(gold), "--json"))
    sent = json.loads(cli("eval", "sentiment", "--pred", str(pred), "--gold", str(gold), "--json"))
    return {"hit_rate": basic["hit_rate"], "closed_acc": closed["acc"], "closed_waf": closed["waf"],
            "sentiment_waf": sent["waf"], "sentiment_acc": sent["acc"]}


def write_preds(path: Path, ids: list[str], emotions: list[list[str]], sentiments: list[str]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for sid, emos, sent in zip(ids, emotions, sentiments):
            f.write(json.dumps({"id": sid, "emotions": emos, "sentiment": sent}) + "\n")
    return path


def probe_predictions(train_manifest: Path, dev_manifest: Path) -> tuple[list[str], list[list[str]], list[list[str]], list[str]]:
    """(dev ids, probe emotions, probe emotions under the cue path's naming rule, probe sentiments)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from affectllm.cues.evidence.weigh import KEEP_RATIO
    from affectllm.cues.heads.text_head import CLASS_WORD, EMOTION_CLASSES, SENTIMENT_CLASSES, SentenceFeatures
    from affectllm.cues.heads.text_head_training import featurize, read_text_examples

    train, dev = read_text_examples(train_manifest), read_text_examples(dev_manifest)
    features = SentenceFeatures()
    hidden = features.encoder.hidden_size
    last = slice((features.layers - 1) * hidden, features.layers * hidden)  # the sentence embedding: last layer's mean

    def embed(examples):
        return featurize(examples, features, progress=True)[:, last].numpy()

    x_train, x_dev = embed(train), embed(dev)
    emo = LogisticRegression(C=1.0, max_iter=2000).fit(x_train, [EMOTION_CLASSES[i] for i in train.labels])
    keep = [i for i, s in enumerate(train.sentiments) if s >= 0]
    sent = LogisticRegression(C=1.0, max_iter=2000).fit(x_train[keep], [SENTIMENT_CLASSES[train.sentiments[i]]
                                                                        for i in keep])
    probs = emo.predict_proba(x_dev)
    single, ruled = [], []
    for p in probs:
        order = np.argsort(-p)
        top = emo.classes_[order[0]]
        single.append([CLASS_WORD[top]])
        ruled.append([CLASS_WORD[top]] + [CLASS_WORD[emo.classes_[j]] for j in order[1:3]
                                          if emo.classes_[j] != "neutral" and p[j] >= KEEP_RATIO * p[order[0]]])
    return dev.ids, single, ruled, list(sent.predict(x_dev))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meld", default=str(SHARED / "data" / "meld"), help="folder with train/dev_sent_emo.csv")
    ap.add_argument("--wheel-dir", default=str(SHARED / "emotion_wheel"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "zero_setup_meld_dev.json"))
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dev, train = tmp / "meld_dev.jsonl", tmp / "meld_train.jsonl"
        cli("recipe", "meld", "--input", args.meld, "--split", "dev", "--text-only", "--out", str(dev))
        cli("recipe", "meld", "--input", args.meld, "--split", "train", "--text-only", "--out", str(train))

        cues_pred = tmp / "cue_path.jsonl"
        t = time.perf_counter()
        summary = cli("caption", str(dev), "--out", str(cues_pred), "--quiet")
        caption_s = time.perf_counter() - t
        records = [json.loads(line) for line in cues_pred.read_text().splitlines()]
        models = sorted({r["model"] for r in records})

        ids, single, ruled, probe_sent = probe_predictions(train, dev)
        n = len(ids)
        systems = {
            "cue path (text head + fusion, no LLM)": cues_pred,
            "always happy": write_preds(tmp / "happy.jsonl", ids, [["happy"]] * n, ["positive"] * n),
            "always neutral": write_preds(tmp / "neutral.jsonl", ids, [["neutral"]] * n, ["neutral"] * n),
            "frozen-MiniLM logistic-regression probe": write_preds(tmp / "probe.jsonl", ids, single, probe_sent),
            "probe + the cue path's naming rule": write_preds(tmp / "probe_rule.jsonl", ids, ruled, probe_sent),
        }
        rows = {name: score(path, dev, args.wheel_dir) for name, path in systems.items()}

    ours_name = next(iter(rows))
    ours = rows[ours_name]
    baselines = {k: v for k, v in rows.items() if k != ours_name}
    best = {m: max(baselines.values(), key=lambda r: r[m])[m] for m in METRICS}
    named_baselines = [k for k in baselines if k != "probe + the cue path's naming rule"]
    result = {
        "what": "MELD dev (1,109 utterances, text only), cue path without LLM vs baselines, scored by affectllm eval",
        "data": {"dev": "MELD dev_sent_emo.csv", "fit": "MELD train_sent_emo.csv (text head and probe)",
                 "test_split": "not used"},
        "scores": {k: {m: round(v, 4) for m, v in r.items()} for k, r in rows.items()},
        "ratio_to_best_baseline": {m: round(ours[m] / best[m], 3) if best[m] else None for m in METRICS},
        "above_every_named_baseline": {m: all(ours[m] > rows[b][m] for b in named_baselines) for m in METRICS},
        "above_every_baseline_incl_probe_with_rule": {m: ours[m] > best[m] for m in METRICS},
        "goals": {m: {"goal": g, "value": round(ours[m], 4), "met": ours[m] >= g} for m, g in GOALS.items()},
        "cue_path": {"models_in_records": models, "caption_seconds": round(caption_s, 1),
                     "utterances_per_s": round(n / caption_s, 2), "caption_summary": summary.strip().splitlines()},
        "eval_commands": ["affectllm eval basic --pred P --gold meld_dev.jsonl --wheel-dir WHEEL_DIR --json",
                          "affectllm eval closed --pred P --gold meld_dev.jsonl --json",
                          "affectllm eval sentiment --pred P --gold meld_dev.jsonl --json"],
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "load_average_1min_at_end": round(os.getloadavg()[0], 2)},
        "command": "python benchmarks/bench_zero_setup.py",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
