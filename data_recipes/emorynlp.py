"""EmoryNLP (Friends scenes; one of 7 Feeling-Wheel emotions per utterance), from its CSV release.

    affectllm recipe emorynlp --input EmoryNLP --split test --text-only --context 2 --out emorynlp_test.jsonl

Facts relied on:
- Emotions Joyful, Mad, Neutral, Peaceful, Powerful, Sad, Scared; 9,934 /
  1,344 / 1,328 train / dev / test utterances (emorynlp/emotion-detection
  ``README.md``, commit 181c8f76fd8e68d82a7cf5d5df7c26014d2a603b, whose JSON
  gives each utterance a list of ``speakers``).
- ``emorynlp_{train,dev,test}_final.csv`` with the columns ``Utterance,
  Speaker, Emotion, Scene_ID, Utterance_ID, Season, Episode`` (and
  ``Start_Time, End_Time``); clips ``emorynlp_{split}_splits/
  sea{Season}_ep{Episode}_sc{Scene_ID}_utt{Utterance_ID}.mp4``
  (Strong-AI-Lab/emotion ``datasets/EmoryNLP/process.py``, commit
  4888a90862b770a3225a0fbb213fdaa81184adb0, which reads these files).
- A scene (season, episode, scene) is one conversation, its utterances in
  ``Utterance_ID`` order; ``--context K`` writes the previous K of them
  (speaker, utterance, their clip when found) into ``context``.
- ``Speaker`` holds a list (``['Joey Tribbiani']``) or a name; several
  speakers are joined with "and".
``--text-only`` reads the CSVs alone (no clips, no media tags). Label-only:
without ``--ground-chains`` a chain ``--style`` writes plain answers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .context import Dialogues, Turn, add_context_argument, add_text_only_argument, clip_if_found
from .label_words import emotion_words, label_valence
from .manifest import VIDEO_EXTENSIONS, add_common_arguments, convert, find_media, make_sample
from .rows import RowError, SourceRow, cell, split_csv_rows, split_list_cell
from .targets import Targets

NAME = "emorynlp"
ALIASES: dict[str, dict] = {}
HELP = "EmoryNLP (emorynlp_<split>_final.csv + emorynlp_<split>_splits/ clips)"
LAYOUT = ("EmoryNLP/: emorynlp_{train,dev,test}_final.csv + emorynlp_{train,dev,test}_splits/"
          "sea<S>_ep<E>_sc<C>_utt<U>.mp4 (--text-only: the CSVs alone)")
STYLES = ("affectgpt_hybrid", "emer", "think_answer", "hef_hint")
EMOTIONS = ("joyful", "mad", "neutral", "peaceful", "powerful", "sad", "scared")
SPLITS = ("train", "dev", "test")
COLUMNS = ("Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "affectgpt_hybrid", splits=SPLITS, label_only=True)
    add_text_only_argument(parser)
    add_context_argument(parser)


def _rows(root: Path, split: str) -> list[SourceRow]:
    return list(split_csv_rows(root, {s: f"emorynlp_{s}_final.csv" for s in SPLITS}, split, "EmoryNLP", COLUMNS))


def _place(row: SourceRow) -> tuple[tuple, int, str]:
    """(scene key, utterance number, clip stem); RowError for a non-number."""
    try:
        season, episode, scene, utt = (int(cell(row, c)) for c in ("Season", "Episode", "Scene_ID", "Utterance_ID"))
    except ValueError:
        raise RowError("Season, Episode, Scene_ID and Utterance_ID must be whole numbers") from None
    return (row.data["_split"], season, episode, scene), utt, f"sea{season}_ep{episode}_sc{scene}_utt{utt}"


def _speaker(row: SourceRow) -> str:
    return " and ".join(split_list_cell(row.data.get("Speaker") or ""))


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    out_dir = args.out.resolve().parent
    targets = Targets.from_args(args)
    rows = _rows(root, args.split)
    dialogues = Dialogues()
    for row in rows if args.context else ():
        try:
            scene, utt, stem = _place(row)
        except RowError:
            continue  # no place in a scene; the build reports the row
        video = None if args.text_only else clip_if_found(root / f"emorynlp_{row.data['_split']}_splits", stem)
        dialogues.add(scene, utt, Turn(_speaker(row), (row.data.get("Utterance") or "").strip(), video))

    def build(row: SourceRow) -> dict:
        emotion = cell(row, "Emotion").lower()
        if emotion not in EMOTIONS:
            raise RowError(f"unknown Emotion {emotion!r} (expected one of {', '.join(EMOTIONS)})")
        scene, utt, stem = _place(row)
        split = row.data["_split"]
        video = None if args.text_only else find_media(root / f"emorynlp_{split}_splits", stem, VIDEO_EXTENSIONS)
        emotions = emotion_words([emotion])
        context = dialogues.before(scene, utt, args.context, out_dir) if args.context else None
        return make_sample(f"emorynlp_{split}_{stem}", out_dir, targets, emotions=emotions, video=video,
                           subtitle=cell(row, "Utterance"), valence=label_valence(emotions), label=emotion,
                           speaker=_speaker(row), split=split, context=context)

    return convert(args, rows, build, dataset="emorynlp", targets=targets)
