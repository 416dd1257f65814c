"""MSP-Podcast (podcast speech; a consensus emotion class and arousal / valence / dominance on 1..7).

    affectllm recipe msp-podcast --input MSP-PODCAST-1.11 --split dev --out msp_dev.jsonl

Facts relied on (msplabresearch/MSP-Podcast_Challenge, the Odyssey 2024
challenge baselines: ``utils/data/podcast.py`` at commit
f15511ee25bcc63c15ec7add4ce219f5c9674e35, ``process_labels_for_categorical.py``
at commit 7626dcd12b17ae23561bf18449d411ac2f9d56d7, ``config.json`` and
``README.md``):
- ``Labels/labels_consensus.csv`` with the columns ``FileName, EmoClass,
  EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set``; audio
  ``Audios/<FileName>`` (the file name includes ``.wav``).
- ``Split_Set``: Train, Development, Test1, Test2, Test3 (here: train, dev,
  test1, test2, test3).
- ``EmoClass`` codes A S H U F D C N: angry, sad, happy, surprise, fear,
  disgust, contempt, neutral; other codes (O: other, X: no agreement) name no
  class and such rows are left out, with their reason.
- ``EmoAct`` / ``EmoVal`` / ``EmoDom`` are consensus ratings on the 7-point
  scale (1..7, averages of annotators: 3.777778). The sample keeps them as
  ``vad`` with ``vad_scale`` [1, 7] each (``affectllm.core.dimensions``);
  ``valence`` is the valence rating mapped to [-1, 1]. A rating off the
  scale is an error naming the row; a missing one is left out of ``vad``.
A transcript ``Transcripts/<name>.txt`` beside ``Audios/``, when present,
becomes the subtitle. Samples are audio-only and label-only: without
``--ground-chains`` a chain ``--style`` writes plain answers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectllm.core.dimensions import rated_fields, to_unit

from .label_words import emotion_words
from .manifest import LeftOut, add_common_arguments, convert, inside, make_sample, plain_name
from .rows import RowError, SourceRow, cell, csv_rows, read_text, require_file
from .targets import Targets

NAME = "msp-podcast"
ALIASES: dict[str, dict] = {}
HELP = "MSP-Podcast (Labels/labels_consensus.csv + Audios/; emotion class and arousal/valence/dominance 1..7)"
LAYOUT = "MSP-PODCAST-<version>/: Labels/labels_consensus.csv + Audios/<FileName> (+ Transcripts/<name>.txt)"
STYLES = ("affectgpt_hybrid", "emer", "think_answer", "hef_hint")
CLASSES = {"A": "angry", "S": "sad", "H": "happy", "U": "surprise", "F": "fear", "D": "disgust", "C": "contempt",
           "N": "neutral"}
NO_CLASS = {"O": "class 'O' (other) names no emotion", "X": "no agreed emotion class (X)"}
SPLITS = {"Train": "train", "Development": "dev", "Test1": "test1", "Test2": "test2", "Test3": "test3"}
SCALE = (1.0, 7.0)
RATINGS = {"valence": "EmoVal", "arousal": "EmoAct", "dominance": "EmoDom"}
COLUMNS = ("FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "Split_Set")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=tuple(SPLITS.values()), label_only=True)


def label_file(root: Path) -> Path:
    for candidate in (root / "Labels" / "labels_consensus.csv", root / "labels_consensus.csv"):
        if candidate.is_file():
            return candidate
    return require_file(root / "Labels" / "labels_consensus.csv", "MSP-Podcast label file")


def _rating(row: SourceRow, column: str) -> float | None:
    raw = (row.data.get(column) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise RowError(f"{column} {raw!r} is not a number") from None
    if not SCALE[0] <= value <= SCALE[1]:
        raise RowError(f"{column} {value:g} is off the 1..7 rating scale")
    return value


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)

    def build(row: SourceRow) -> dict | None:
        split_set = cell(row, "Split_Set")
        if split_set not in SPLITS:
            raise RowError(f"unknown Split_Set {split_set!r} (expected one of {', '.join(SPLITS)})")
        split = SPLITS[split_set]
        if args.split not in ("all", split):
            return None
        code = cell(row, "EmoClass").upper()
        if code in NO_CLASS:
            raise LeftOut(NO_CLASS[code])
        if code not in CLASSES:
            raise RowError(f"unknown EmoClass {code!r} (expected one of {', '.join(list(CLASSES) + list(NO_CLASS))})")
        name = plain_name(cell(row, "FileName"))
        audio = inside(root / "Audios", name)
        if not audio.is_file():
            raise RowError(f"clip {audio} not found")
        ratings = {dim: _rating(row, column) for dim, column in RATINGS.items()}
        transcript = root / "Transcripts" / f"{Path(name).stem}.txt"
        subtitle = " ".join(read_text(transcript).split()) if transcript.is_file() else ""
        emotions = emotion_words([CLASSES[code]])
        valence = ratings["valence"]
        return make_sample(Path(name).stem, out_dir, targets, emotions=emotions, audio=audio, subtitle=subtitle,
                           valence=None if valence is None else to_unit(valence, SCALE), label=CLASSES[code],
                           code=code, speaker=(row.data.get("SpkrID") or "").strip() or None, split=split,
                           **rated_fields(ratings, SCALE))

    return convert(args, csv_rows(label_file(root), required=COLUMNS), build, dataset="msp-podcast", targets=targets)
