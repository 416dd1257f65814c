"""Conversation context: the previous K turns of a sample's dialogue, in its ``context`` field.

    affectllm recipe meld --input MELD.Raw --split dev --text-only --context 2 --out meld_dev_ctx2.jsonl

Each turn is ``{"speaker": "Ross", "text": "...", "videos": ["dia0_utt0.mp4"]}``
(``videos`` / ``audios`` only when the turn's clip exists, written relative to
the manifest's folder like the sample's own media), oldest first; the first
turns of a dialogue have fewer than K before them (the very first has ``[]``).
A turn of the dialogue that is not itself a sample (no majority label, an
unknown emotion, a missing clip) still counts as context: the conversation
happened; a turn with neither words nor a clip is skipped. Without ``--context`` (K = 0) no ``context`` field is written, so
manifests are as before. The contract the field follows is checked by
``affectllm.core.manifest.check_context`` (``affectllm recipe check``).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Hashable, Iterable

from .manifest import VIDEO_EXTENSIONS, find_media
from .rows import RowError


def context_turns(value: str) -> int:
    """``--context`` value: a whole number >= 0."""
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a number of previous turns, 0 or more; got {value!r}") from None
    if k < 0:
        raise argparse.ArgumentTypeError(f"give a number of previous turns, 0 or more; got {k}")
    return k


def clip_if_found(folder: Path, stem: str, extensions: Iterable[str] = VIDEO_EXTENSIONS) -> Path | None:
    """An earlier turn's clip, or None: a missing one leaves the turn text-only (its own row reports it)."""
    try:
        return find_media(folder, stem, extensions)
    except RowError:
        return None


def add_text_only_argument(parser: argparse.ArgumentParser) -> None:
    """``--text-only`` of the dialogue recipes whose label files hold the utterances (MELD, EmoryNLP)."""
    parser.add_argument("--text-only", action="store_true",
                        help="utterance text only: read the label CSVs, need no clips, write no media")


def add_context_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", type=context_turns, default=0, metavar="K",
                        help="write the previous K turns of the same dialogue (speaker, text, their clips) into each "
                             "sample's context field (default: 0, none)")


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    video: Path | None = None
    audio: Path | None = None

    @property
    def empty(self) -> bool:
        """No words and no clip: nothing a model could take from the turn."""
        return not self.text.strip() and self.video is None and self.audio is None

    def as_context(self, out_dir: Path) -> dict:
        """The manifest form of the turn (media relative to ``out_dir``, the manifest's folder)."""
        turn: dict = {"speaker": self.speaker, "text": self.text}
        if self.video is not None:
            turn["videos"] = [os.path.relpath(self.video, out_dir)]
        if self.audio is not None:
            turn["audios"] = [os.path.relpath(self.audio, out_dir)]
        return turn


class Dialogues:
    """The turns of every dialogue, each at its position, so a sample can look back K turns.

    ``position`` is anything ordered within a dialogue (utterance number, start time)."""

    def __init__(self) -> None:
        self._turns: dict[Hashable, list[tuple[float, Turn]]] = {}
        self._sorted: set[Hashable] = set()

    def add(self, dialogue: Hashable, position: float, turn: Turn) -> None:
        if turn.empty:
            return
        self._turns.setdefault(dialogue, []).append((position, turn))
        self._sorted.discard(dialogue)

    def before(self, dialogue: Hashable, position: float, k: int, out_dir: Path) -> list[dict]:
        """The last ``k`` turns of ``dialogue`` before ``position``, oldest first, in manifest form."""
        turns = self._turns.get(dialogue, [])
        if dialogue not in self._sorted:
            turns.sort(key=lambda pt: pt[0])
            self._sorted.add(dialogue)
        earlier = [t for p, t in turns if p < position]
        return [t.as_context(out_dir) for t in earlier[-k:]] if k > 0 else []


def previous_turns(turns: list[Turn], index: int, k: int, out_dir: Path) -> list[dict]:
    """The last ``k`` non-empty turns of ``turns[:index]`` (a dialogue already in order), oldest first, in manifest
    form."""
    earlier = [t for t in turns[:index] if not t.empty]
    return [t.as_context(out_dir) for t in earlier[-k:]] if k > 0 else []
