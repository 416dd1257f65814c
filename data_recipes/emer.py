"""EMER v1 / v2 (explainable multimodal emotion reasoning over MER2023 clips).

    affectllm recipe emer --input EMER/dataset-v1 --media mer2023-dataset-process --out emer.jsonl --style emer

Facts relied on (AffectGPT repository, EMER/README):
- v1 (``dataset-v1/gt-eng.csv``, 100 clips): columns ``names`` (clip name),
  ``emotions`` (MER2023 discrete label), ``subtitles`` (corrected subtitle),
  ``reasons`` (the EMER description). ``gt-chi.csv`` is the Chinese version.
- v2 (``dataset-v2/final-EMER-reason.csv``, 332 clips): columns ``names``,
  ``chinese``, ``english`` (the description); no label column, so the gold
  emotions are the ones the description names.
- Clips are MER2023's: ``<media>/video/<name>.mp4`` (+ ``audio/<name>.wav``).
The description becomes the reasoning (its cues, then its concluding
sentence); styles emer / think_answer / affectgpt_hybrid render it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectllm.errors import AffectLLMError
from data_recipes.manifest import (AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, RowError, SourceRow, add_common_arguments,
                                   cell, convert, csv_rows, description_sections, emotion_words, find_media,
                                   label_valence, make_sample)

NAME = "emer"
HELP = "EMER v1 (gt-eng.csv) / v2 (final-EMER-reason.csv) descriptions over MER2023 clips"
STYLES = ("emer", "affectgpt_hybrid", "think_answer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "emer", splits=("train",))
    parser.add_argument("--media", type=Path, help="folder holding video/ and audio/ (default: --input)")


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    media = args.media or root
    if (root / "gt-eng.csv").is_file():
        version, rows = "v1", csv_rows(root / "gt-eng.csv", required=("names", "reasons"))
    elif (root / "final-EMER-reason.csv").is_file():
        version, rows = "v2", csv_rows(root / "final-EMER-reason.csv", required=("names", "english"))
    else:
        raise AffectLLMError(f"{root}: neither gt-eng.csv (EMER v1) nor final-EMER-reason.csv (EMER v2) found")
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict:
        from affectllm.reasoning import parse_output

        name = cell(row, "names")
        description = cell(row, "reasons" if version == "v1" else "english")
        if version == "v1":
            label = cell(row, "emotions").lower()
            emotions = emotion_words([label])
        else:
            label, emotions = None, parse_output("affectgpt_hybrid", description).emotions
            if not emotions:
                raise RowError("the description names no emotion from the vocabulary")
        audio = find_media(media / "audio", name, AUDIO_EXTENSIONS) if (media / "audio").is_dir() else None
        record = {"description": description, "target_mode": "description",
                  "reasoning": description_sections(description)}
        return make_sample(name, out_dir, args.style, emotions=emotions,
                           video=find_media(media / "video", name, VIDEO_EXTENSIONS), audio=audio,
                           subtitle=(row.data.get("subtitles") or "").strip(), valence=label_valence(emotions),
                           record=record, label=label, description=description, split="train")

    return convert(args, rows, build, dataset=f"emer/{version}")
