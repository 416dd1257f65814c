"""RAF-DB basic-expression set (7 classes), optionally with action-unit intensities for ExpLLM chains.

    affectllm recipe raf-db --input RAF-DB --out raf_test.jsonl --split test --aus raf_aus.csv

Facts relied on (starhiking/ExpLLM-TMM ``datasets/tools/convert_split_raf-db.py``
and ``README.md``, commit d34dd4a3b3c2ce0b3130b5b732f33a19b8a4c08c):
- ``--input`` is the dataset root holding ``basic/``, or ``basic/`` itself.
- ``basic/EmoLabel/list_patition_label.txt`` (sic): one ``<image> <label>``
  per line, e.g. ``train_00001.jpg 5``; the split is the file-name prefix
  (train / test).
- Labels 1..7: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness,
  6 Anger, 7 Neutral.
- Images ``basic/Image/aligned/<stem>_aligned.jpg`` (aligned faces) and
  ``basic/Image/original/<image>``.
RAF-DB gives no AU intensities; ``--aus`` takes a CSV (e.g. OpenFace output)
to build ExpLLM chains with ``affectllm.recipes.expcot``. An image without AU
intensities is label-only: plain answer, or with ``--ground-chains`` a chain
from the face cues of the image itself. Images go into ``videos`` (the data
pipeline treats still images as one-frame video). ExpLLM's published
descriptions for RAF-DB are converted by the ``expllm`` recipe.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .expcot import expllm_record, read_au_table
from .label_words import emotion_words, label_valence
from .manifest import add_common_arguments, convert, make_sample, plain_name
from .rows import RowError, SourceRow, read_text
from .targets import Targets

NAME = "rafdb"
ALIASES = {"raf-db": {}}
HELP = "RAF-DB basic (EmoLabel/list_patition_label.txt + Image/aligned|original), ExpLLM chains from --aus"
LAYOUT = "RAF-DB root (or basic/): basic/EmoLabel/list_patition_label.txt + basic/Image/aligned/<stem>_aligned.jpg"
STYLES = ("expllm", "affectgpt_hybrid", "think_answer")
LABELS = {1: "surprise", 2: "fear", 3: "disgust", 4: "happiness", 5: "sadness", 6: "anger", 7: "neutral"}
LABEL_LIST = Path("EmoLabel") / "list_patition_label.txt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "expllm", splits=("train", "test"), label_only=True)
    parser.add_argument("--images", choices=["aligned", "original"], default="aligned",
                        help="basic/Image/aligned/<stem>_aligned.jpg (100x100 faces) or basic/Image/original/")
    parser.add_argument("--aus", type=Path, help="CSV of AU intensities per image (OpenFace AUxx_r columns)")
    parser.add_argument("--au-threshold", type=float, default=1.0, help="intensity (0..5) above which an AU counts")


def basic_folder(root: Path) -> Path:
    """The ``basic/`` folder of a RAF-DB root (the root itself when it is ``basic/``)."""
    for folder in (root, root / "basic", root / "RAF-DB" / "basic"):
        if (folder / LABEL_LIST).is_file():
            return folder
    raise AffectLLMError(f"{root}: basic/{LABEL_LIST.as_posix()} not found; point --input at the RAF-DB root "
                         "or its basic/ folder")


def run(args: argparse.Namespace) -> int:
    root = basic_folder(args.input)
    label_file = root / LABEL_LIST
    aus = read_au_table(args.aus) if args.aus else {}
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)
    rows = (SourceRow(label_file, i, line) for i, line in enumerate(read_text(label_file).splitlines(), start=1)
            if line.strip())

    def build(row: SourceRow) -> dict | None:
        parts = row.data.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise RowError(f"expected '<image> <label 1-7>', got {row.data.strip()!r}")
        image, code = plain_name(parts[0]), int(parts[1])
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
        au = aus.get(stem, aus.get(image))
        record = expllm_record(au, emotions[0], args.au_threshold) if au is not None else {}
        return make_sample(f"rafdb_{stem}", out_dir, targets, emotions=emotions, video=path,
                           valence=label_valence(emotions), record=record, label=LABELS[code], split=split,
                           has_aus=au is not None)

    return convert(args, rows, build, dataset="rafdb", targets=targets)
