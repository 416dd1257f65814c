"""AvaMERG (avatar-based multimodal empathetic dialogues, ACM MM 2025 challenge): chain-of-empathy targets.

    affectllm recipe avamerg --input AvaMERG --out avamerg_train.jsonl --split train

Facts relied on (AvaMERG challenge baseline, AvaMERG-Pipeline dataset reader):
- ``<split>.json``: a list of conversations with ``conversation_id``,
  ``topic``, ``speaker_profile`` / ``listener_profile`` (age, gender,
  timbre) and ``turns``; each turn holds ``dialogue_history`` (utterances
  with ``role`` speaker/listener and ``text``, optionally ``video_name`` /
  ``audio_name``), ``response`` (the listener's empathetic reply) and
  ``chain_of_empathy`` = {``event_scenario``, ``speaker_emotion``,
  ``emotion_cause``, ``goal_to_response``}.
- Clips ``video/dia<id>utt<n>.mp4`` and ``audio/dia<id>utt<n>.wav``, with the
  conversation id's leading zeros dropped and n counting utterances from 1.
One sample per turn: the speaker's last utterance is the input clip, the
target is the chain of empathy ending in the reply. ``--context K`` writes
the K utterances before it (role, text, their clips when found) into
``context``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .context import Turn, add_context_argument, clip_if_found, previous_turns
from .label_words import emotion_words, label_valence
from .manifest import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS, add_common_arguments, convert, find_media, make_sample
from .rows import RowError, SourceRow, json_list_rows

NAME = "avamerg"
ALIASES: dict[str, dict] = {}
HELP = "AvaMERG (<split>.json dialogues with chain_of_empathy, video/ and audio/ clips)"
LAYOUT = "AvaMERG/: {train,val,test}.json (conversations with turns and chain_of_empathy) + video/, audio/"
STYLES = ("chain_of_empathy", "affectgpt_hybrid", "think_answer")
SPLITS = ("train", "val", "test")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "chain_of_empathy", splits=SPLITS, default_split="train")
    add_context_argument(parser)


def _utterance_text(u) -> tuple[str, str]:
    if isinstance(u, dict):
        return str(u.get("role") or u.get("speaker") or "speaker"), str(u.get("text") or u.get("utterance") or "")
    return "speaker", str(u)


def _clip_stem(u, conv_id: str, n: int) -> str:
    """The clip name of the n-th utterance (from 1): its ``video_name``, else ``dia<id>utt<n>``."""
    name = u.get("video_name") if isinstance(u, dict) else None
    return Path(str(name or f"dia{conv_id}utt{n}")).stem


def _history_turn(root: Path, u, conv_id: str, n: int) -> Turn:
    """An earlier utterance as context, with its clips when they exist."""
    role, text = _utterance_text(u)
    stem = _clip_stem(u, conv_id, n)
    return Turn(role, text, clip_if_found(root / "video", stem), clip_if_found(root / "audio", stem, AUDIO_EXTENSIONS))


def _rows(root: Path, split: str):
    for name in (SPLITS if split == "all" else (split,)):
        path = root / f"{name}.json"
        if not path.is_file():
            if split != "all":
                raise AffectLLMError(f"{path}: AvaMERG {name}.json not found; point --input at the AvaMERG folder")
            continue
        for entry in json_list_rows(path, "AvaMERG conversation"):
            conv = entry.data
            if not isinstance(conv, dict):
                yield SourceRow(path, entry.line, entry=entry.entry,
                                data={"error": "conversation is not a JSON object"})
                continue
            turns = conv.get("turns") or ([conv["turn"]] if "turn" in conv else [])
            if not turns:
                yield SourceRow(path, entry.line, entry=entry.entry, data={"error": "conversation has no turns"})
            for j, turn in enumerate(turns):
                yield SourceRow(path, entry.line, entry=entry.entry,
                                data={"conv": conv, "turn": turn, "turn_index": j, "split": name})


def run(args: argparse.Namespace) -> int:
    root: Path = args.input
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict:
        if "error" in row.data:
            raise RowError(row.data["error"])
        conv, turn = row.data["conv"], row.data["turn"]
        coe = turn.get("chain_of_empathy") or {}
        emotion = str(coe.get("speaker_emotion") or "").strip()
        if not emotion:
            raise RowError("chain_of_empathy.speaker_emotion missing")
        conv_id = str(conv.get("conversation_id", "")).lstrip("0") or "0"
        history = turn.get("dialogue_history") or []
        if not history:
            raise RowError("empty dialogue_history")
        stem = _clip_stem(history[-1], conv_id, len(history))
        video = find_media(root / "video", stem, VIDEO_EXTENSIONS)
        audio = find_media(root / "audio", stem, AUDIO_EXTENSIONS) if (root / "audio").is_dir() else None
        lines = [f"{role}: {text}" for role, text in map(_utterance_text, history)]
        emotions = emotion_words([emotion])
        record = {"reasoning": {"observations": str(coe.get("event_scenario") or ""),
                                "interpretation": str(coe.get("emotion_cause") or ""),
                                "conclusion": str(coe.get("goal_to_response") or "")},
                  "response": str(turn.get("response") or "")}
        context = None
        if args.context:
            earlier = [_history_turn(root, u, conv_id, n) for n, u in enumerate(history[:-1], start=1)]
            context = previous_turns(earlier, len(earlier), args.context, out_dir)
        return make_sample(f"avamerg_{row.data['split']}_{conv_id}_{row.data['turn_index']}", out_dir, args.style,
                           emotions=emotions, video=video, audio=audio, subtitle=_utterance_text(history[-1])[1],
                           valence=label_valence(emotions), record=record,
                           prompt_fields={"dialogue": "\n".join(lines[:-1])}, label=emotion,
                           topic=conv.get("topic"), split=row.data["split"], context=context)

    return convert(args, _rows(root, args.split), build, dataset="avamerg")
