"""MER2023 / MER2024 / MER2025 (discrete emotion + valence), MERTools layouts.

    affectllm recipe mer --input mer2023-dataset-process --out mer2023.jsonl --split test1

Facts relied on (MERTools release code, zeroQiaoba/MERTools):
- MER2023/MER2024 processed root: ``label-6way.npz`` with arrays
  ``train_corpus``, ``test1_corpus``, ``test2_corpus``, ``test3_corpus``, each a
  pickled dict ``name -> {"emo": str, "val": float}`` (val missing, '' or -10
  when unrated; test3 has no valence). Subtitles in
  ``transcription-engchi-polish.csv`` / ``transcription_merge.csv`` (columns
  ``name, chinese, english``). Clips ``video/<name>.mp4``, ``audio/<name>.wav``.
- MER2025 Track 1 root: ``track1_train_disdim.csv`` (``name, discrete,
  valence``), ``track1_test_dis.csv`` (``name, discrete``), subtitles in
  ``subtitle_chieng.csv`` (``name, chinese, english``).
- Six classes: neutral, angry, happy, sad, worried, surprise. Valence is rated
  on [-5, 5]; the manifest stores it divided by 5 (so in [-1, 1]).
For the npz the "line" reported with an error is the entry number.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectllm.errors import AffectLLMError
from data_recipes.manifest import (AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, RowError, SourceRow, add_common_arguments,
                                   cell, convert, csv_rows, emotion_words, find_media, make_sample)

NAME = "mer"
HELP = "MER2023 / MER2024 / MER2025 (label-6way.npz or track1 label CSV, subtitle CSV, video/, audio/)"
STYLES = ("affectgpt_hybrid", "emer", "think_answer", "hef_hint")
CLASSES = ("neutral", "angry", "happy", "sad", "worried", "surprise")
SUBTITLE_FILES = ("transcription-engchi-polish.csv", "transcription_merge.csv", "transcription-merge.csv",
                  "subtitle_chieng.csv", "transcription.csv")
CSV_SPLITS = {"train": "track1_train_disdim.csv", "test1": "track1_test_dis.csv"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=("train", "test1", "test2", "test3"))
    parser.add_argument("--language", choices=["english", "chinese"], default="english", help="subtitle language")


def read_subtitles(root: Path, language: str) -> dict[str, str]:
    for name in SUBTITLE_FILES:
        if (root / name).is_file():
            return {r.data["name"].strip(): (r.data.get(language) or "").strip()
                    for r in csv_rows(root / name, required=("name", language))}
    return {}


def valence_of(raw) -> float | None:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v / 5.0 if -5.0 <= v <= 5.0 else None  # -10 marks "not rated"


def _npz_rows(path: Path, split: str):
    import numpy as np

    # The published label file stores dicts, so it needs pickle; it comes from the dataset itself.
    data = np.load(path, allow_pickle=True)
    for key in data.files:
        name = key.removesuffix("_corpus")
        if split not in ("all", name):
            continue
        for i, (clip, label) in enumerate(data[key].tolist().items(), start=1):
            yield SourceRow(path, i, {"name": clip, "discrete": label.get("emo"), "valence": label.get("val"),
                                      "split": name})


def _csv_rows(root: Path, split: str):
    for name, filename in CSV_SPLITS.items():
        if split in ("all", name) and (root / filename).is_file():
            for row in csv_rows(root / filename, required=("name", "discrete")):
                row.data["split"] = name
                yield row


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    if (root / "label-6way.npz").is_file():
        rows = _npz_rows(root / "label-6way.npz", args.split)
    elif any((root / f).is_file() for f in CSV_SPLITS.values()):
        rows = _csv_rows(root, args.split)
    else:
        raise AffectLLMError(f"{root}: neither label-6way.npz nor {' / '.join(CSV_SPLITS.values())} found; "
                             "point --input at the MER dataset root")
    subtitles = read_subtitles(root, args.language)
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict:
        name = cell(row, "name")
        label = cell(row, "discrete").lower()
        if label not in CLASSES:
            raise RowError(f"unknown label {label!r} (expected one of {', '.join(CLASSES)})")
        video = find_media(root / "video", name, VIDEO_EXTENSIONS)
        audio = None
        if (root / "audio").is_dir():
            audio = find_media(root / "audio", name, AUDIO_EXTENSIONS)
        return make_sample(name, out_dir, args.style, emotions=emotion_words([label]), video=video, audio=audio,
                           subtitle=subtitles.get(name, ""), valence=valence_of(row.data.get("valence")),
                           label=label, split=row.data["split"])

    return convert(args, rows, build, dataset="mer")
