"""MELD (Friends dialogues; 7 emotions + sentiment per utterance).

    affectllm recipe meld --input MELD.Raw --out meld_test.jsonl --split test

Facts relied on (declare-lab/MELD ``README.md`` and ``data/MELD/*_sent_emo.csv``,
commit 2d2011b409d3ca2d7e94460cd007d434b1d0a102):
- Labels: ``train_sent_emo.csv``, ``dev_sent_emo.csv``, ``test_sent_emo.csv``
  with columns ``Sr No., Utterance, Speaker, Emotion, Sentiment, Dialogue_ID,
  Utterance_ID, Season, Episode, StartTime, EndTime``.
- Emotions: anger, disgust, fear, joy, neutral, sadness, surprise; Sentiment:
  positive, negative, neutral.
- Clips ``dia{Dialogue_ID}_utt{Utterance_ID}.mp4`` in ``train_splits/``,
  ``dev_splits_complete/`` and ``output_repeated_splits_test/`` (also found
  one level down, e.g. ``train/train_splits/`` as the tarballs unpack).
- The CSVs are not valid UTF-8 throughout (cp1252 quotes); they are decoded
  with a fallback.
Valence is the sentiment sign scaled by the emotion's vocabulary valence
magnitude (neutral 0).

``--context K`` writes the previous K utterances of the same dialogue
(``Dialogue_ID``, in ``Utterance_ID`` order) into each sample's ``context``
(speaker, utterance, its clip when found; ``affectllm.recipes.context``).

``--text-only`` converts the label files alone (no clips needed): each sample
is the utterance as subtitle with no media tags, for text-only training and
evaluation (the text annotations are distributed without the clips). MELD is
label-only: a chain ``--style`` writes plain answers unless ``--ground-chains``
grounds a chain in each clip's cues (with ``--text-only``, in the
utterance's lexical affect).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .context import Dialogues, Turn, add_context_argument, add_text_only_argument, clip_if_found
from .label_words import emotion_words, label_valence
from .manifest import VIDEO_EXTENSIONS, add_common_arguments, convert, find_media, make_sample
from .rows import RowError, SourceRow, cell, split_csv_rows
from .targets import Targets

NAME = "meld"
ALIASES: dict[str, dict] = {}
HELP = "MELD (*_sent_emo.csv + diaX_uttY.mp4 clips)"
LAYOUT = ("MELD.Raw/: {train,dev,test}_sent_emo.csv + train_splits/, dev_splits_complete/, "
          "output_repeated_splits_test/ (--text-only: the CSVs alone)")
STYLES = ("affectgpt_hybrid", "emer", "think_answer", "hef_hint")
EMOTIONS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
SENTIMENTS = {"positive": 1.0, "negative": -1.0, "neutral": 0.0}
SPLITS = {"train": ("train_sent_emo.csv", "train_splits"),
          "dev": ("dev_sent_emo.csv", "dev_splits_complete"),
          "test": ("test_sent_emo.csv", "output_repeated_splits_test")}
COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=tuple(SPLITS), label_only=True)
    add_text_only_argument(parser)
    add_context_argument(parser)


def _clip_folder(root: Path, split: str, folder: str) -> Path:
    for candidate in (root / folder, root / split / folder, root / "MELD.Raw" / folder):
        if candidate.is_dir():
            return candidate
    return root / folder


def _rows(root: Path, split: str):
    return split_csv_rows(root, {name: files[0] for name, files in SPLITS.items()}, split, "MELD", COLUMNS)


def _dialogues(rows: list[SourceRow], root: Path, text_only: bool) -> Dialogues:
    """Every utterance of the label files as a dialogue turn (rows the build will refuse included)."""
    dialogues = Dialogues()
    for row in rows:
        try:
            split, dia, utt = row.data["_split"], int(cell(row, "Dialogue_ID")), int(cell(row, "Utterance_ID"))
        except (RowError, ValueError):
            continue  # no place in a dialogue; the build reports the row
        video = None if text_only else clip_if_found(_clip_folder(root, split, SPLITS[split][1]), f"dia{dia}_utt{utt}")
        turn = Turn((row.data.get("Speaker") or "").strip(), (row.data.get("Utterance") or "").strip(), video)
        dialogues.add((split, dia), utt, turn)
    return dialogues


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)
    rows = _rows(root, args.split)
    dialogues = None
    if args.context:
        rows = list(rows)
        dialogues = _dialogues(rows, root, args.text_only)

    def build(row: SourceRow) -> dict:
        split = row.data["_split"]
        emotion = cell(row, "Emotion").lower()
        if emotion not in EMOTIONS:
            raise RowError(f"unknown Emotion {emotion!r} (expected one of {', '.join(EMOTIONS)})")
        sentiment = cell(row, "Sentiment").lower()
        if sentiment not in SENTIMENTS:
            raise RowError(f"unknown Sentiment {sentiment!r} (expected positive, negative or neutral)")
        dia, utt = int(cell(row, "Dialogue_ID")), int(cell(row, "Utterance_ID"))
        stem = f"dia{dia}_utt{utt}"
        video = None if args.text_only else find_media(_clip_folder(root, split, SPLITS[split][1]), stem,
                                                         VIDEO_EXTENSIONS)
        emotions = emotion_words([emotion])
        valence = SENTIMENTS[sentiment] * abs(label_valence(emotions) or 0.5)
        context = dialogues.before((split, dia), utt, args.context, out_dir) if dialogues else None
        return make_sample(f"meld_{split}_{stem}", out_dir, targets, emotions=emotions, video=video,
                           subtitle=cell(row, "Utterance"), valence=valence, label=emotion, sentiment=sentiment,
                           speaker=(row.data.get("Speaker") or "").strip(), split=split, context=context)

    return convert(args, rows, build, dataset="meld", targets=targets)
