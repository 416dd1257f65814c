"""CMU-MOSI, CMU-MOSEI, CH-SIMS, CH-SIMS v2 (sentiment intensity), MMSA label.csv layout.

    affectllm recipe mmsa --corpus mosi --input CMU-MOSI --out mosi_test.jsonl --split test

Facts relied on (MMSA / CH-SIMS releases, thuiar):
- ``label.csv`` columns ``video_id, clip_id, text, label, label_T, label_A,
  label_V, annotation, mode``; ``label`` is the multimodal sentiment score,
  ``label_T/A/V`` unimodal scores (CH-SIMS only; empty for MOSI/MOSEI),
  ``annotation`` Positive / Negative / Neutral, ``mode`` train / valid / test.
- Scores lie in [-3, 3] for CMU-MOSI/MOSEI and in [-1, 1] for CH-SIMS / SIMS v2;
  the manifest's valence is the score divided by that range (so in [-1, 1]).
- Clips ``Raw/<video_id>/<clip_id>.mp4``.
These corpora rate sentiment, not emotions: ``emotions`` holds the polarity
word (positive / negative / neutral) and ``sentiment`` repeats it, so the
manifest feeds ``affectllm eval sentiment`` directly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from data_recipes.manifest import (VIDEO_EXTENSIONS, RowError, SourceRow, add_common_arguments, cell, convert,
                                   csv_rows, find_media, make_sample, require_file)

NAME = "mmsa"
HELP = "CMU-MOSI / CMU-MOSEI / CH-SIMS / SIMS v2 (MMSA label.csv + Raw/<video_id>/<clip_id>.mp4)"
STYLES = ("affectgpt_hybrid", "think_answer", "emer")
SCALE = {"mosi": 3.0, "mosei": 3.0, "sims": 1.0, "simsv2": 1.0}
POLARITY = ("positive", "negative", "neutral")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=("train", "valid", "test"))
    parser.add_argument("--corpus", choices=sorted(SCALE), required=True, help="which corpus (sets the score range)")


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    scale = SCALE[args.corpus]
    out_dir = args.out.resolve().parent
    rows = csv_rows(require_file(root / "label.csv", "label.csv"), required=("video_id", "clip_id", "label", "mode"))

    def build(row: SourceRow) -> dict | None:
        mode = cell(row, "mode").lower()
        if args.split not in ("all", mode):
            return None
        try:
            score = float(cell(row, "label"))
        except ValueError:
            raise RowError(f"label {row.data['label']!r} is not a number") from None
        if abs(score) > scale:
            raise RowError(f"label {score} outside [-{scale:g}, {scale:g}] for {args.corpus}")
        polarity = (row.data.get("annotation") or "").strip().lower()
        if not polarity:
            polarity = "positive" if score > 0 else "negative" if score < 0 else "neutral"
        if polarity not in POLARITY:
            raise RowError(f"unknown annotation {polarity!r} (expected Positive, Negative or Neutral)")
        video_id, clip_id = cell(row, "video_id"), cell(row, "clip_id")
        video = find_media(root / "Raw" / video_id, clip_id, VIDEO_EXTENSIONS)
        unimodal = {m: float(row.data[f"label_{m}"]) / scale for m in "TAV"
                    if (row.data.get(f"label_{m}") or "").strip()}
        return make_sample(f"{args.corpus}_{video_id}_{clip_id}", out_dir, args.style, emotions=[polarity],
                           video=video, subtitle=(row.data.get("text") or "").strip(), valence=score / scale,
                           label=polarity, sentiment=polarity, score=score, unimodal_valence=unimodal or None,
                           split=mode)

    return convert(args, rows, build, dataset=args.corpus)
