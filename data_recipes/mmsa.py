"""CMU-MOSI, CMU-MOSEI, CH-SIMS, CH-SIMS v2 (sentiment intensity), in the MMSA release layout.

    affectllm recipe cmu-mosi --input CMU-MOSI --out mosi_test.jsonl --split test
    affectllm recipe mmsa --input CH-SIMS --out sims.jsonl          # corpus detected from the label file

Facts relied on (thuiar/MMSA ``README.md``, commit a94e65d07fa1ae0d44e552390074b29b0898edfd,
which links the raw videos and label files; the column layouts of real copies
as listed in BUAAZhangHaonan/mer_eval_kit ``dataset_readme.md``, commit
044e7bfecd69f0085deb7845df4a1c793a10f7f4):
- CMU-MOSI: ``label.csv`` with ``video_id, clip_id, text, label, label_T,
  label_A, label_V, annotation, mode``; CMU-MOSEI: ``label.csv`` with ``video_id,
  clip_id, text, label, annotation, mode, label_T, label_A, label_V``. For both
  ``label`` is the sentiment score in [-3, 3] and ``label_T/A/V`` are empty.
- CH-SIMS: ``label.csv`` with the MOSI columns; ``label`` and the unimodal
  ``label_T/A/V`` in {-1.0, -0.8, ..., 1.0}. CH-SIMS v2(s): the same columns
  in ``meta.csv``.
- ``annotation`` is Positive / Negative / Neutral; ``mode`` is train / valid
  / test (``validation`` is read as valid). Clips ``Raw/<video_id>/<clip_id>.mp4``.
The corpus is detected when ``--corpus`` (or an alias: cmu-mosi, cmu-mosei,
ch-sims, sims-v2) does not name it: ``meta.csv`` means SIMS v2; filled
unimodal labels mean CH-SIMS; otherwise a CMU corpus, MOSEI when its column
order or size (MOSI has 2,199 clips) says so. The detection is printed.
The sample keeps the score as ``vad`` valence with ``vad_scale`` [-3, 3]
(CMU) or [-1, 1] (SIMS) (``affectllm.core.dimensions``); ``valence`` is the score
divided by the corpus range (so in [-1, 1]). These corpora rate sentiment, not emotions: ``emotions`` holds the
polarity word (positive / negative / neutral) and ``sentiment`` repeats it,
so the manifest feeds ``affectllm eval sentiment`` directly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from affectllm.core.dimensions import rated_fields
from affectllm.core.errors import AffectLLMError

from .manifest import VIDEO_EXTENSIONS, add_common_arguments, convert, find_media, make_sample, plain_name
from .rows import RowError, SourceRow, cell, csv_header, csv_rows
from .targets import Targets

NAME = "mmsa"
ALIASES = {"cmu-mosi": {"corpus": "mosi"}, "cmu-mosei": {"corpus": "mosei"}, "ch-sims": {"corpus": "sims"},
           "sims-v2": {"corpus": "simsv2"}}
HELP = "CMU-MOSI / CMU-MOSEI / CH-SIMS / SIMS v2 (MMSA label.csv or meta.csv + Raw/<video_id>/<clip_id>.mp4)"
LAYOUT = "corpus root: label.csv (SIMS v2: meta.csv) with video_id,clip_id,text,label,...,mode + Raw/<video_id>/<clip_id>.mp4"
STYLES = ("affectgpt_hybrid", "think_answer", "emer")
SCALE = {"mosi": 3.0, "mosei": 3.0, "sims": 1.0, "simsv2": 1.0}
CORPUS_NAMES = {"mosi": "CMU-MOSI", "mosei": "CMU-MOSEI", "sims": "CH-SIMS", "simsv2": "CH-SIMS v2"}
POLARITY = ("positive", "negative", "neutral")
MOSI_CLIPS = 2199
MODES = {"train": "train", "valid": "valid", "validation": "valid", "dev": "valid", "test": "test"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=("train", "valid", "test"), label_only=True)
    parser.add_argument("--corpus", choices=sorted(SCALE), default=None,
                        help="which corpus (sets the score range); default: detected from the label file")


def label_file(root: Path) -> Path:
    for name in ("label.csv", "meta.csv"):
        if (root / name).is_file():
            return root / name
    raise AffectLLMError(f"{root}: neither label.csv nor meta.csv found; point --input at the corpus root "
                         "(the folder holding label.csv and Raw/)")


def detect_corpus(path: Path, header: list[str], rows: list[SourceRow]) -> tuple[str, str]:
    """(corpus, why) from the file name, the unimodal labels, the column order and the size."""
    if path.name == "meta.csv":
        return "simsv2", "meta.csv is CH-SIMS v2's label file"
    if any((r.data.get(f"label_{m}") or "").strip() for r in rows for m in "TAV"):
        return "sims", "unimodal label_T/A/V scores are filled in"
    order = [c for c in header if c in ("annotation", "label_T")]
    if order == ["annotation", "label_T"]:
        return "mosei", "annotation and mode come before label_T (the CMU-MOSEI column order)"
    if len(rows) > MOSI_CLIPS:
        return "mosei", f"{len(rows)} clips, more than CMU-MOSI's {MOSI_CLIPS}"
    return "mosi", "empty unimodal labels and the CMU-MOSI column order"


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    path = label_file(root)
    rows = list(csv_rows(path, required=("video_id", "clip_id", "label", "mode")))
    corpus = args.corpus
    if corpus is None:
        corpus, why = detect_corpus(path, csv_header(path), rows)
        print(f"mmsa: {path} read as {CORPUS_NAMES[corpus]} ({why}); --corpus overrides", file=sys.stderr)
    scale = SCALE[corpus]
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)

    def build(row: SourceRow) -> dict | None:
        raw_mode = cell(row, "mode").lower()
        if raw_mode not in MODES:
            raise RowError(f"unknown mode {raw_mode!r} (expected train, valid or test)")
        mode = MODES[raw_mode]
        if args.split not in ("all", mode):
            return None
        try:
            score = float(cell(row, "label"))
        except ValueError:
            raise RowError(f"label {row.data['label']!r} is not a number") from None
        if abs(score) > scale:
            raise RowError(f"label {score} outside [-{scale:g}, {scale:g}] for {CORPUS_NAMES[corpus]}")
        polarity = (row.data.get("annotation") or "").strip().lower()
        if not polarity:
            polarity = "positive" if score > 0 else "negative" if score < 0 else "neutral"
        if polarity not in POLARITY:
            raise RowError(f"unknown annotation {polarity!r} (expected Positive, Negative or Neutral)")
        video_id, clip_id = cell(row, "video_id"), cell(row, "clip_id")
        video = find_media(root / "Raw" / plain_name(video_id), clip_id, VIDEO_EXTENSIONS)
        unimodal = {m: float(row.data[f"label_{m}"]) / scale for m in "TAV"
                    if (row.data.get(f"label_{m}") or "").strip()}
        return make_sample(f"{corpus}_{video_id}_{clip_id}", out_dir, targets, emotions=[polarity],
                           video=video, subtitle=(row.data.get("text") or "").strip(), valence=score / scale,
                           label=polarity, sentiment=polarity, score=score, unimodal_valence=unimodal or None,
                           split=mode, **rated_fields({"valence": score}, (-scale, scale)))

    return convert(args, rows, build, dataset=corpus, targets=targets)
