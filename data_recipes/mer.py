"""MER2023 / MER2024 / MER2025 (six discrete emotions + valence), in the layouts the MER organisers publish.

    affectllm recipe mer2023 --input mer2023-dataset --out mer2023.jsonl
    affectllm recipe mer2023 --input mer2023-dataset --split test3 --out mer2023_test3.jsonl

Layouts, tried in this order (the first one found is used):

- MER2023 release root: ``train-label.csv`` (columns ``name, discrete,
  valence``) beside ``train/<name>.{mp4,avi}``; test sets ``test1/ test2/
  test3/`` with ``test1-label.csv`` ... ``test3-label.csv`` (test3 has no
  valence). A label CSV one folder down (``test-labels/test1-label.csv``) is
  found too. Relied on: zeroQiaoba/MERTools ``MER2023/main-baseline.py``
  (``normalize_dataset_format``, commit 89120b780ab18b28349f0e37dcc12b8cc253cb02)
  and ``MER2024/toolkit/preprocess/mer2023.py`` (same commit; it reads all four
  label CSVs and sets test3's valence to -10).
- MER2024 release root: ``label-disdim.csv`` (``name, discrete[, valence]``)
  beside ``video-labeled/``; its test clips are unlabelled. Relied on:
  MERTools ``MER2024/toolkit/preprocess/mer2024.py`` (same commit).
- MER2025 Track 1 root: ``track1_train_disdim.csv`` (``name, discrete,
  valence``), ``track1_test_dis.csv`` (``name, discrete``), clips ``video/``,
  ``audio/``, subtitles ``subtitle_chieng.csv``. Relied on: MERTools
  ``MER2025/MER2025_Track1/toolkit/preprocess/mer2025.py`` (same commit).
- The processed form MERTools writes: ``label-6way.npz`` (or MER2025's
  ``track1_label_6way.npz``) with members ``train_corpus``,
  ``test1_corpus`` ... each a dict ``name -> {"emo", "val"}``, clips
  ``video/``, ``audio/``. The npz stores pickled dicts; it is read without
  unpickling (``affectllm.recipes.npz_labels``: anything but plain data is refused
  and nothing in the file runs). ``main-baseline.py`` and ``mer2024.py``
  write placeholder test labels (every clip ``neutral``, valence -10); such a
  split is reported and left out, never written as neutral.

Subtitles come from MERBench's ``transcription-engchi-polish.csv`` (``name,
chinese, english``; MER2024: ``transcription-merge.csv``; MER2025:
``subtitle_chieng.csv``) when present. Six classes: neutral, angry, happy,
sad, worried, surprise. Valence is rated on [-5, 5]: the sample keeps the
rating as ``vad`` with ``vad_scale`` [-5, 5] (``affectllm.core.dimensions``) and
``valence`` is it divided by 5; -10 or an empty cell means "not rated". For the npz the "line"
reported with an error is the entry number. Label-only: without
``--ground-chains`` a chain ``--style`` writes plain answers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterator

from affectllm.core.dimensions import rated_fields, to_unit
from affectllm.core.errors import AffectLLMError

from .label_words import emotion_words
from .manifest import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, add_common_arguments, convert, find_media, make_sample
from .rows import RowError, SourceRow, cell, csv_rows
from .targets import Targets

NAME = "mer"
ALIASES = {"mer2023": {}, "mer2024": {}, "mer2025": {}}
HELP = "MER2023 / MER2024 / MER2025 (release label CSVs + clip folders, or MERTools' label-6way.npz)"
LAYOUT = ("MER2023 release root: train-label.csv + train/, test1-3-label.csv + test1-3/; MER2024: label-disdim.csv "
          "+ video-labeled/; MER2025: track1_train_disdim.csv + video/; or MERTools' label-6way.npz + video/")
STYLES = ("affectgpt_hybrid", "emer", "think_answer", "hef_hint")
CLASSES = ("neutral", "angry", "happy", "sad", "worried", "surprise")
SPLITS = ("train", "test1", "test2", "test3")
SUBTITLE_FILES = ("transcription-engchi-polish.csv", "transcription_merge.csv", "transcription-merge.csv",
                  "subtitle_chieng.csv", "transcription.csv")
RELEASE_2023 = {s: f"{s}-label.csv" for s in SPLITS}
RELEASE_2024 = {"train": ("label-disdim.csv", "video-labeled")}
RELEASE_2025 = {"train": "track1_train_disdim.csv", "test1": "track1_test_dis.csv"}
NPZ_FILES = ("label-6way.npz", "track1_label_6way.npz")
NOT_RATED = -10
SCALE = (-5.0, 5.0)  # valence rating


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=SPLITS, label_only=True)
    parser.add_argument("--language", choices=["english", "chinese"], default="english", help="subtitle language")


def read_subtitles(folders: list[Path] | Path, language: str) -> dict[str, str]:
    """name -> subtitle from the first subtitle CSV found in ``folders`` (MERBench / MER2025 layouts)."""
    for folder in [folders] if isinstance(folders, Path) else folders:
        for name in SUBTITLE_FILES:
            if (folder / name).is_file():
                return {r.data["name"].strip(): (r.data.get(language) or "").strip()
                        for r in csv_rows(folder / name, required=("name", language))}
    return {}


def clip_folders(root: Path) -> list[Path]:
    """Where a MER2023 clip may be, release or processed layout (also used by the EMER recipe)."""
    return [root / "video", *(root / s for s in SPLITS), root / "video-labeled"]


def valence_rating(raw) -> float | None:
    """The valence rating on [-5, 5], or None when the clip is not rated (-10, empty)."""
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if SCALE[0] <= v <= SCALE[1] else None  # -10 marks "not rated"


def _release_2023(root: Path) -> dict[str, Path]:
    """split -> label CSV of the MER2023 release, at the root or one folder down."""
    found = {}
    for split, filename in RELEASE_2023.items():
        hits = [root / filename] if (root / filename).is_file() else sorted(root.glob(f"*/{filename}"))
        if hits:
            found[split] = hits[0]
    return found


def _csv_rows(files: dict[str, Path], split: str) -> Iterator[SourceRow]:
    for name, path in files.items():
        if split in ("all", name):
            for row in csv_rows(path, required=("name", "discrete")):
                row.data["split"] = name
                yield row


def is_placeholder(corpus: dict) -> bool:
    """MERTools' stand-in test labels: every clip 'neutral' with no valence rating."""
    return bool(corpus) and all(
        isinstance(v, dict) and v.get("emo") == "neutral" and valence_rating(v.get("val")) is None
        for v in corpus.values())


def _npz_rows(path: Path, split: str) -> Iterator[SourceRow]:
    from .npz_labels import read_object_npz

    data = read_object_npz(path)
    for key, corpus in data.items():
        name = key.removesuffix("_corpus")
        if split not in ("all", name):
            continue
        if not isinstance(corpus, dict):
            raise AffectLLMError(f"{path}: member {key} is not a dict of clip labels")
        if name != "train" and is_placeholder(corpus):
            message = (f"{path}: {key} holds MERTools' placeholder labels (all {len(corpus)} clips 'neutral', "
                       f"valence {NOT_RATED}), not the test labels; convert the release's {name}-label.csv instead")
            if split == name:
                raise AffectLLMError(message)
            print(f"left out {message}", file=sys.stderr)
            continue
        for i, (clip, label) in enumerate(corpus.items(), start=1):
            label = label if isinstance(label, dict) else {}
            yield SourceRow(path, i, {"name": str(clip), "discrete": label.get("emo"), "valence": label.get("val"),
                                      "split": name})


def find_layout(root: Path, split: str) -> tuple[str, Iterator[SourceRow], list[Path]]:
    """(layout name, rows, clip folders) of the first layout found under ``root``."""
    release = _release_2023(root)
    if release:
        folders = sorted({p.parent for p in release.values()} | {root})
        clips = [f / s for f in folders for s in SPLITS] + [root / "video"]
        return "MER2023 release", _csv_rows(release, split), clips
    if (root / RELEASE_2024["train"][0]).is_file():
        files = {"train": root / RELEASE_2024["train"][0]}
        return "MER2024 release", _csv_rows(files, split), [root / RELEASE_2024["train"][1], root / "video"]
    if any((root / f).is_file() for f in RELEASE_2025.values()):
        files = {s: root / f for s, f in RELEASE_2025.items() if (root / f).is_file()}
        return "MER2025 release", _csv_rows(files, split), [root / "video"]
    for name in NPZ_FILES:
        if (root / name).is_file():
            return f"processed ({name})", _npz_rows(root / name, split), clip_folders(root)
    raise AffectLLMError(f"{root}: no MER label file found (train-label.csv, label-disdim.csv, "
                         f"track1_train_disdim.csv or label-6way.npz); point --input at the MER release root")


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    if not root.is_dir():
        raise AffectLLMError(f"{root}: no such folder; point --input at the MER release root")
    layout, rows, clips = find_layout(root, args.split)
    print(f"mer: reading the {layout} layout of {root}", file=sys.stderr)
    subtitles = read_subtitles(root, args.language)
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)

    def build(row: SourceRow) -> dict:
        name = cell(row, "name")
        label = cell(row, "discrete").lower()
        if label not in CLASSES:
            raise RowError(f"unknown label {label!r} (expected one of {', '.join(CLASSES)})")
        split = row.data["split"]
        folders = [c for c in clips if c.name in (split, "video", "video-labeled")]
        video = find_media(folders, name, VIDEO_EXTENSIONS)
        audio = find_media(root / "audio", name, AUDIO_EXTENSIONS) if (root / "audio").is_dir() else None
        subtitle = subtitles.get(name, "")
        rating = valence_rating(row.data.get("valence"))
        return make_sample(name, out_dir, targets, emotions=emotion_words([label]), video=video, audio=audio,
                           subtitle=subtitle, valence=None if rating is None else to_unit(rating, SCALE), label=label,
                           split=split, **rated_fields({"valence": rating}, SCALE))

    return convert(args, rows, build, dataset="mer", targets=targets)
