"""RAF-DB basic-expression set (7 classes), optionally with action-unit intensities for ExpLLM chains.

    affectllm recipe rafdb --input RAF-DB/basic --out raf_test.jsonl --split test --style expllm --aus raf_aus.csv

Facts relied on (RAF-DB README, basic subset):
- ``EmoLabel/list_patition_label.txt`` (sic): one ``<image> <label>`` per line,
  e.g. ``train_00001.jpg 5``; the split is the file-name prefix (train / test).
- Labels 1..7: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness,
  6 Anger, 7 Neutral.
- Images ``Image/aligned/<stem>_aligned.jpg`` (100x100 aligned faces) and
  ``Image/original/<image>``.
RAF-DB gives no AU intensities; ``--aus`` takes a CSV (e.g. OpenFace output)
to build ExpLLM chains with ``data_recipes.expcot``. Images go into
``videos`` (the data pipeline treats still images as one-frame video).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from data_recipes.expcot import expllm_record, read_au_table
from data_recipes.manifest import (RowError, SourceRow, add_common_arguments, convert, emotion_words, label_valence,
                                   make_sample, read_text, require_file)

NAME = "rafdb"
HELP = "RAF-DB basic (EmoLabel/list_patition_label.txt + Image/aligned|original), ExpLLM chains from --aus"
STYLES = ("expllm", "affectgpt_hybrid", "think_answer")
LABELS = {1: "surprise", 2: "fear", 3: "disgust", 4: "happiness", 5: "sadness", 6: "anger", 7: "neutral"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "expllm", splits=("train", "test"))
    parser.add_argument("--images", choices=["aligned", "original"], default="aligned")
    parser.add_argument("--aus", type=Path, help="CSV of AU intensities per image (OpenFace AUxx_r columns)")
    parser.add_argument("--au-threshold", type=float, default=1.0, help="intensity (0..5) above which an AU counts")


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    label_file = require_file(root / "EmoLabel" / "list_patition_label.txt", "RAF-DB label list")
    aus = read_au_table(args.aus) if args.aus else {}
    out_dir = args.out.resolve().parent
    rows = (SourceRow(label_file, i, line) for i, line in enumerate(read_text(label_file).splitlines(), start=1)
            if line.strip())

    def build(row: SourceRow) -> dict | None:
        parts = row.data.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise RowError(f"expected '<image> <label 1-7>', got {row.data.strip()!r}")
        image, code = parts[0], int(parts[1])
        split = image.split("_")[0]
        if args.split not in ("all", split):
            return None
        if code not in LABELS:
            raise RowError(f"unknown label {code} (expected 1-7)")
        stem = Path(image).stem
        path = (root / "Image" / "aligned" / f"{stem}_aligned.jpg" if args.images == "aligned"
                else root / "Image" / "original" / image)
        if not path.is_file():
            raise RowError(f"image {path} not found")
        emotions = emotion_words([LABELS[code]])
        record = expllm_record(aus.get(stem, aus.get(image, {})), emotions[0], args.au_threshold)
        return make_sample(f"rafdb_{stem}", out_dir, args.style, emotions=emotions, video=path,
                           valence=label_valence(emotions), record=record, label=LABELS[code], split=split,
                           has_aus=(stem in aus or image in aus))

    return convert(args, rows, build, dataset="rafdb")
