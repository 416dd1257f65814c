"""EMER v1 / v2 (explainable multimodal emotion reasoning over MER2023 clips).

    affectllm recipe emer --input EMER --media mer2023-dataset --out emer.jsonl
    affectllm recipe emer --input EMER --version v2 --media mer2023-dataset --out emer_v2.jsonl

Facts relied on (zeroQiaoba/AffectGPT ``EMER/README.md``, ``EMER/dataset-v1/gt-eng.csv``,
``gt-chi.csv`` and ``EMER/dataset-v2/final-EMER-reason.csv``, commit
617ae18a9c89d63963cd2e140eff1361d2614f4c):
- The release folder ``EMER/`` holds ``dataset-v1/`` and ``dataset-v2/``;
  ``--input`` may be that folder or one of the two.
- v1 (100 non-neutral MER2023 clips): ``gt-eng.csv`` with header ``names,
  emotions, subtitles, reasons`` (clip name, MER2023 discrete label,
  corrected subtitle, the EMER description); ``gt-chi.csv`` is the Chinese
  version, its labels written 生气 / 高兴 / 担忧 / 悲伤 / 惊讶.
- v2 (332 clips): ``final-EMER-reason.csv`` with header ``name, chinese,
  english`` (the description in each language) and no label column, so the
  gold emotions are the ones the English description names.
- Clips are MER2023's (``--media``: the MER2023 release root with
  ``train/ test1/ ...`` or the processed root with ``video/`` and ``audio/``).
The description becomes the reasoning (its cues, then its concluding
sentence); styles emer / think_answer / affectgpt_hybrid render it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .label_words import emotion_words, label_valence
from .manifest import (AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, add_common_arguments, convert, description_sections,
                       find_media, make_sample)
from .rows import RowError, SourceRow, cell, csv_header, csv_rows
from .mer import CLASSES, clip_folders

NAME = "emer"
ALIASES: dict[str, dict] = {}
HELP = "EMER v1 (gt-eng.csv) / v2 (final-EMER-reason.csv) descriptions over MER2023 clips (--media)"
LAYOUT = "EMER/ with dataset-v1/gt-eng.csv (names,emotions,subtitles,reasons) or dataset-v2/final-EMER-reason.csv; --media MER2023 root"
STYLES = ("emer", "affectgpt_hybrid", "think_answer")
FILES = {("v1", "english"): "gt-eng.csv", ("v1", "chinese"): "gt-chi.csv",
         ("v2", "english"): "final-EMER-reason.csv", ("v2", "chinese"): "final-EMER-reason.csv"}
CHINESE_LABELS = dict(zip(("中性", "生气", "高兴", "悲伤", "担忧", "惊讶"), CLASSES))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "emer", splits=("train",))
    parser.add_argument("--media", type=Path, help="MER2023 root holding the clips (default: --input)")
    parser.add_argument("--version", choices=["v1", "v2"], default=None,
                        help="EMER version when --input holds both dataset-v1/ and dataset-v2/ (default: v1)")
    parser.add_argument("--language", choices=["english", "chinese"], default="english",
                        help="description language (v2: the gold emotions still come from the English text)")


def _find(root: Path, version: str | None, language: str) -> tuple[str, Path]:
    for v in ([version] if version else ["v1", "v2"]):
        name = FILES[(v, language)]
        for folder in (root, root / f"dataset-{v}", root / "EMER" / f"dataset-{v}"):
            if (folder / name).is_file():
                return v, folder / name
    wanted = " or ".join(f"dataset-{v}/{FILES[(v, language)]}" for v in ([version] if version else ["v1", "v2"]))
    raise AffectLLMError(f"{root}: {wanted} not found; point --input at the EMER release folder")


def run(args: argparse.Namespace) -> int:
    from affectllm.reasoning import parse_output

    root: Path = args.input
    version, path = _find(root, args.version, args.language)
    media = args.media or root
    folders = clip_folders(media)
    if not any(f.is_dir() for f in folders):
        raise AffectLLMError(f"{media}: no MER2023 clip folder (video/, train/, test1/ ...); EMER clips come from "
                             "MER2023: give --media <MER2023 root>")
    name_column = "name" if "name" in csv_header(path) else "names"
    text_column = "reasons" if version == "v1" else args.language
    rows = csv_rows(path, required=(name_column, text_column))
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict:
        name = cell(row, name_column)
        description = cell(row, text_column)
        if version == "v1":
            raw = cell(row, "emotions")
            label = CHINESE_LABELS.get(raw, raw.lower())
            if label not in CLASSES:
                raise RowError(f"unknown label {raw!r} (expected one of {', '.join(CLASSES)})")
            emotions = emotion_words([label])
        else:
            label = None
            emotions = parse_output("affectgpt_hybrid", row.data.get("english") or "").emotions
            if not emotions:
                raise RowError("the English description names no emotion from the vocabulary")
        audio = find_media(media / "audio", name, AUDIO_EXTENSIONS) if (media / "audio").is_dir() else None
        record = {"description": description, "target_mode": "description",
                  "reasoning": description_sections(description)}
        return make_sample(name, out_dir, args.style, emotions=emotions,
                           video=find_media(folders, name, VIDEO_EXTENSIONS), audio=audio,
                           subtitle=(row.data.get("subtitles") or "").strip(), valence=label_valence(emotions),
                           record=record, label=label, description=description, split="train")

    return convert(args, rows, build, dataset=f"emer/{version}")
