"""MER-Caption / MER-Caption+ / OV-MERD+ (descriptions and open-vocabulary labels), MER2025 release layout.

    affectllm recipe mer_caption --input mer2025-dataset --out mcplus.jsonl --subset mercaptionplus

Facts relied on (AffectGPT / MERTools dataset readers, MER2025 release):
- ``track2_train_<subset>.csv``: columns ``name, openset``; ``openset`` is a
  Python-list string of open-vocabulary labels ("['worried', 'tense']"); an
  empty list means neutral.
- ``track3_train_<subset>.csv``: columns ``name, reason``: the multimodal
  emotion description (visual, acoustic and lexical cues, then the inferred
  state).
- ``subtitle_chieng.csv``: ``name, chinese, english``; clips
  ``video/<name>.mp4``, ``audio/<name>.wav``.
- subsets: ``mercaptionplus`` (MER-Caption+, auto-annotated), ``ovmerd``
  (OV-MERD+, human-checked); ``mercaption`` reads the same two-file layout.
AffectGPT trains on both targets of one clip ("description" and "label");
``--label-ratio`` picks the label sentence for that share of clips
(deterministic per clip id).
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

from affectllm.errors import AffectLLMError
from data_recipes.manifest import (AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, RowError, SourceRow, add_common_arguments,
                                   cell, convert, csv_rows, description_sections, emotion_words, find_media,
                                   label_valence, make_sample, parse_label_list)
from data_recipes.mer import read_subtitles

NAME = "mer_caption"
HELP = "MER-Caption / MER-Caption+ / OV-MERD+ (track2 open-vocabulary labels, track3 descriptions, subtitles)"
STYLES = ("affectgpt_hybrid", "emer", "think_answer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=("train",))
    parser.add_argument("--subset", choices=["mercaptionplus", "ovmerd", "mercaption"], default="mercaptionplus")
    parser.add_argument("--labels", type=Path, help="open-vocabulary label CSV (default: ROOT/track2_train_<subset>.csv)")
    parser.add_argument("--descriptions", type=Path, help="description CSV (default: ROOT/track3_train_<subset>.csv)")
    parser.add_argument("--label-ratio", type=float, default=0.0,
                        help="share of clips whose affectgpt_hybrid target is the label sentence (0..1)")
    parser.add_argument("--language", choices=["english", "chinese"], default="english", help="subtitle language")


def _uses_label_target(name: str, ratio: float) -> bool:
    return ratio > 0 and (zlib.crc32(name.encode()) % 1000) < ratio * 1000


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    labels_csv = args.labels or root / f"track2_train_{args.subset}.csv"
    desc_csv = args.descriptions or root / f"track3_train_{args.subset}.csv"
    if not labels_csv.is_file() and not desc_csv.is_file():
        raise AffectLLMError(f"{root}: neither {labels_csv.name} nor {desc_csv.name} found; "
                             "point --input at the MER2025 release root or give --labels/--descriptions")
    descriptions = {}
    if desc_csv.is_file():
        descriptions = {r.data["name"].strip(): (r.data.get("reason") or "").strip()
                        for r in csv_rows(desc_csv, required=("name", "reason"))}
    rows = csv_rows(labels_csv, required=("name", "openset")) if labels_csv.is_file() else csv_rows(
        desc_csv, required=("name", "reason"))
    subtitles = read_subtitles(root, args.language)
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict:
        name = cell(row, "name")
        raw = row.data.get("openset")
        labels = parse_label_list(raw) if raw is not None else []
        if raw is not None and not labels:
            labels = ["neutral"]
        description = descriptions.get(name, "")
        if not labels and not description:
            raise RowError("no open-vocabulary labels and no description")
        emotions = emotion_words(labels)
        if not emotions:  # description-only subset: the gold labels are what the description names
            from affectllm.reasoning import parse_output
            emotions = parse_output("affectgpt_hybrid", description).emotions
        mode = "label" if (not description or _uses_label_target(name, args.label_ratio)) else "description"
        record = {"description": description, "target_mode": mode,
                  "reasoning": description_sections(description) if description else {}}
        audio = find_media(root / "audio", name, AUDIO_EXTENSIONS) if (root / "audio").is_dir() else None
        return make_sample(name, out_dir, args.style, emotions=emotions,
                           video=find_media(root / "video", name, VIDEO_EXTENSIONS), audio=audio,
                           subtitle=subtitles.get(name, ""), valence=label_valence(emotions),
                           record=record, description=description or None, split="train")

    return convert(args, rows, build, dataset=f"mer_caption/{args.subset}")
