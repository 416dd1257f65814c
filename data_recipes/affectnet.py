"""AffectNet (manually annotated subset: 8 expressions + valence/arousal), ExpLLM chains from AU intensities.

    affectllm recipe affectnet --input AffectNet --out affectnet_val.jsonl --split validation --aus affectnet_aus.csv

Facts relied on (AffectNet release README):
- ``Manually_Annotated_file_lists/training.csv`` and ``validation.csv`` with
  columns ``subDirectory_filePath, face_x, face_y, face_width, face_height,
  facial_landmarks, expression, valence, arousal``.
- expression: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear, 5 Disgust,
  6 Anger, 7 Contempt, 8 None, 9 Uncertain, 10 No-Face; 8-10 are not
  expressions: such rows are reported as left out. valence/arousal lie in [-1, 1] (-2 marks
  "not rated" for the non-face codes). They are kept as ``vad`` with
  ``vad_scale`` [-1, 1] (``affectllm.core.dimensions``), and as the plain
  ``valence`` / ``arousal`` fields.
- Images ``Manually_Annotated_Images/<subDirectory_filePath>``.
AffectNet gives no AU intensities; ``--aus`` takes a CSV (e.g. OpenFace
output) keyed by ``subDirectory_filePath`` or the image stem.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectllm.core.dimensions import rated_fields

from .expcot import expllm_record, read_au_table
from .label_words import emotion_words
from .manifest import LeftOut, add_common_arguments, convert, inside, make_sample
from .rows import RowError, SourceRow, cell, csv_rows, require_file
from .targets import Targets

NAME = "affectnet"
ALIASES: dict[str, dict] = {}
HELP = "AffectNet (Manually_Annotated_file_lists/*.csv + images), ExpLLM chains from --aus"
LAYOUT = "AffectNet root: Manually_Annotated_file_lists/{training,validation}.csv + Manually_Annotated_Images/"
STYLES = ("expllm", "affectgpt_hybrid", "think_answer")
LABELS = {0: "neutral", 1: "happy", 2: "sad", 3: "surprise", 4: "fear", 5: "disgust", 6: "anger", 7: "contempt"}
NOT_EXPRESSIONS = {8: "None", 9: "Uncertain", 10: "No-Face"}
SPLITS = {"train": "training.csv", "validation": "validation.csv"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "expllm", splits=tuple(SPLITS), label_only=True)
    parser.add_argument("--aus", type=Path, help="CSV of AU intensities per image (OpenFace AUxx_r columns)")
    parser.add_argument("--au-threshold", type=float, default=1.0, help="intensity (0..5) above which an AU counts")


def _rows(root: Path, split: str):
    lists = root / "Manually_Annotated_file_lists"
    for name, filename in SPLITS.items():
        if split in ("all", name):
            for row in csv_rows(require_file(lists / filename, f"AffectNet {name} list"),
                                required=("subDirectory_filePath", "expression", "valence")):
                row.data["_split"] = name
                yield row


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    aus = read_au_table(args.aus) if args.aus else {}
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)

    def build(row: SourceRow) -> dict | None:
        rel = cell(row, "subDirectory_filePath")
        try:
            code = int(cell(row, "expression"))
        except ValueError:
            raise RowError(f"expression {row.data['expression']!r} is not an integer") from None
        if code in NOT_EXPRESSIONS:
            raise LeftOut(f"expression code {code} ({NOT_EXPRESSIONS[code]}) is not an emotion")
        if code not in LABELS:
            raise RowError(f"unknown expression code {code} (expected 0-10)")
        path = inside(root / "Manually_Annotated_Images", rel)
        if not path.is_file():
            raise RowError(f"image {path} not found")
        valence = float(cell(row, "valence"))
        if not -1.0 <= valence <= 1.0:
            raise RowError(f"valence {valence} outside [-1, 1]")
        emotions = emotion_words([LABELS[code]])
        au = aus.get(rel, aus.get(Path(rel).stem))
        record = expllm_record(au, emotions[0], args.au_threshold) if au is not None else {}
        arousal = row.data.get("arousal")
        arousal = float(arousal) if arousal not in (None, "") else None
        if arousal is not None and not -1.0 <= arousal <= 1.0:
            raise RowError(f"arousal {arousal} outside [-1, 1]")
        return make_sample(f"affectnet_{Path(rel).stem}", out_dir, targets, emotions=emotions, video=path,
                           valence=valence, record=record, label=LABELS[code], split=row.data["_split"],
                           arousal=arousal, has_aus=au is not None,
                           **rated_fields({"valence": valence, "arousal": arousal}, (-1.0, 1.0)))

    return convert(args, _rows(root, args.split), build, dataset="affectnet", targets=targets)
