"""Which channel carries the judgement: the cue path's fused answer against each channel alone, and constants.

    .venv/bin/python benchmarks/bench_channels.py [--meld ../shared/data/meld] [--ravdess ../shared/data/ravdess] \\
        [--fer ../shared/data/fer2013_val] [--wheel-dir ../shared/emotion_wheel] \\
        [--out benchmarks/results/channels_cpu.json]

Dev data only: MELD dev (1,109 utterances, text: the corpus has no media here), RAVDESS actors 13-16
(240 clips of acted speech whose words are always neutral; the voice heads were fit on actors 01-12), and
for the face alone 40 FER2013 validation faces a class from the half the face calibration was not fit on
(the bundled face model was trained on FER2013, so that row is optimistic). Every
row is made with the commands a user runs: `affectllm recipe` writes the manifests, `affectllm caption --llm
none [--drop MODALITY]` answers (the ablations leave modalities out: `--drop text` is the voice alone,
`--drop audio` the words alone), and `affectllm eval` scores (`basic --wheel-dir`: the official hit rate,
`closed`, `sentiment`). For RAVDESS also the 8-class unweighted accuracy (mean per-class recall) of the first
emotion's family and the per-class recall. A row a corpus cannot have (faces in audio-only speech, a voice in
text) is left out and named.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench_zero_setup import cli  # `affectllm ARGV` in this process, stopping on a non-zero exit

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RAVDESS_FAMILY = {"neutral": "neutral", "calm": "calm", "happy": "joy", "sad": "sadness", "angry": "anger",
                  "fearful": "fear", "disgust": "disgust", "surprised": "surprise"}
CONSTANTS = ("neutral", "happy", "sad", "angry", "calm")
FER_LABEL = {"angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy", "neutral": "neutral",
             "sad": "sad", "surprise": "surprised"}  # FER2013 folders -> RAVDESS_FAMILY's label names
QUESTION = ("<video>Which emotions does the character show? Answer with one sentence: \"The character's "
            "emotional state is ...\" followed by comma-separated emotion words.")


def fer_manifest(root: Path, per_class: int, out: Path) -> Path:
    """The first ``per_class`` images of each FER2013 class (by file name) from the half the face calibration did
    not fit on (``face_calibration.fit_half``), as a manifest of images."""
    from affectllm.cues.extractors.face_calibration import fit_half

    with open(out, "w") as f:
        for cls in sorted(FER_LABEL):
            names = sorted((p.name for p in (root / cls).glob("*.jpg")), key=lambda n: int(n.split(".")[0]))
            chosen = [n for n in names if not fit_half(f"{cls}/{n}")][:per_class]
            for name in chosen:
                label = FER_LABEL[cls]
                f.write(json.dumps({"id": f"fer_{cls}_{name}", "messages": [{"role": "user", "content": QUESTION}],
                                    "videos": [str((root / cls / name).resolve())], "audios": [], "subtitle": "",
                                    "label": label, "emotions": [label]}) + "\n")
    return out


def scores(pred: Path, gold: Path, wheel_dir: str, sentiment: bool) -> dict[str, float]:
    out = {"hit_rate": json.loads(cli("eval", "basic", "--pred", str(pred), "--gold", str(gold), "--wheel-dir",
                                      wheel_dir, "--json"))["hit_rate"]}
    closed = json.loads(cli("eval", "closed", "--pred", str(pred), "--gold", str(gold), "--json"))
    out.update(closed_acc=closed["acc"], closed_waf=closed["waf"])
    if sentiment:
        out["sentiment_waf"] = json.loads(cli("eval", "sentiment", "--pred", str(pred), "--gold", str(gold),
                                              "--json"))["waf"]
    return {k: round(v, 4) for k, v in out.items()}


def unweighted_accuracy(pred: Path, gold: Path) -> dict:
    """8-class UA of the first named emotion's family, with per-class recall and what was answered."""
    from affectllm.emotions import default_vocabulary

    vocab = default_vocabulary()
    labels = {r["id"]: r["label"] for r in map(json.loads, open(gold))}
    first = {r["id"]: (r.get("emotions") or ["-"])[0] for r in map(json.loads, open(pred))}
    hits, per = Counter(), Counter(labels.values())
    for rid, label in labels.items():
        word = first.get(rid, "-")
        family = vocab.family(word) if vocab.normalize(word) else word
        hits[label] += family == RAVDESS_FAMILY[label]
    recall = {c: round(hits[c] / per[c], 3) for c in sorted(per)}
    return {"ua": round(sum(recall.values()) / len(recall), 4), "recall": recall,
            "answered": dict(Counter(first.values()).most_common(8))}


def constant_preds(gold: Path, word: str, folder: Path) -> Path:
    path = folder / f"constant_{word}.jsonl"
    with open(path, "w") as f:
        for r in map(json.loads, open(gold)):
            f.write(json.dumps({"id": r["id"], "emotions": [word], "sentiment": "neutral"}) + "\n")
    return path


def caption_row(manifest: Path, folder: Path, name: str, drop: str = "") -> tuple[Path, float]:
    out = folder / f"{name}.jsonl"
    t = time.perf_counter()
    cli("caption", str(manifest), "--llm", "none", "--out", str(out), "--overwrite", "--quiet",
        *(["--drop", drop] if drop else []))
    return out, round(time.perf_counter() - t, 1)


def corpus(manifest: Path, folder: Path, rows: dict[str, str], wheel: str, sentiment: bool, ua: bool) -> dict:
    results = {}
    for name, drop in rows.items():
        pred, seconds = caption_row(manifest, folder, name.replace(" ", "_"), drop)
        results[name] = {"command": "affectllm caption MANIFEST --llm none" + (f" --drop {drop}" if drop else ""),
                         "seconds": seconds, **scores(pred, manifest, wheel, sentiment)}
        if ua:
            results[name].update(unweighted_accuracy(pred, manifest))
        print(name, results[name], flush=True)
    for word in CONSTANTS:
        pred = constant_preds(manifest, word, folder)
        results[f"always {word}"] = scores(pred, manifest, wheel, sentiment)
        if ua:
            results[f"always {word}"].update(unweighted_accuracy(pred, manifest))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--meld", default=str(SHARED / "data" / "meld"))
    ap.add_argument("--ravdess", default=str(SHARED / "data" / "ravdess"))
    ap.add_argument("--fer", default=str(SHARED / "data" / "fer2013_val"))
    ap.add_argument("--fer-per-class", type=int, default=40)
    ap.add_argument("--wheel-dir", default=str(SHARED / "emotion_wheel"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "channels_cpu.json"))
    args = ap.parse_args()
    report = {"what": __doc__.split("\n")[0], "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
              "python": platform.python_version(), "split": "dev only (MELD dev; RAVDESS actors 13-16)"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        meld = tmp / "meld_dev.jsonl"
        cli("recipe", "meld", "--input", args.meld, "--split", "dev", "--text-only", "--out", str(meld))
        report["MELD dev (1,109 utterances, text)"] = {
            "rows": corpus(meld, tmp, {"fused (text: the only channel here)": ""}, args.wheel_dir, True, False),
            "not possible": "voice-only and face-only: MELD's clips are not in this checkout (text only)"}
        ravdess = tmp / "ravdess_dev.jsonl"
        cli("recipe", "ravdess", "--input", args.ravdess, "--split", "dev", "--out", str(ravdess))
        rows = {"fused (voice + words)": "", "voice only (--drop text)": "text", "words only (--drop audio)": "audio"}
        report["RAVDESS actors 13-16 (240 clips, speech)"] = {
            "rows": corpus(ravdess, tmp, rows, args.wheel_dir, False, True),
            "not possible": "face-only: the speech files have no video"}
        fer = fer_manifest(Path(args.fer), args.fer_per_class, tmp / "fer.jsonl")
        report[f"FER2013 val faces ({args.fer_per_class} a class, the half calibration did not fit)"] = {
            "rows": corpus(fer, tmp, {"face only (a still image)": ""}, args.wheel_dir, False, True),
            "not possible": "voice and words: still images",
            "caution": "the bundled face model was trained on FER2013: optimistic; research use, never shipped"}
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
