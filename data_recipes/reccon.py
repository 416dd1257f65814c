"""RECCON (recognising emotion cause in conversations): which span caused the target utterance's emotion.

    affectllm recipe reccon --input RECCON --out reccon_dd_test.jsonl --split test

Facts relied on (declare-lab/RECCON ``README.md`` and
``data/original_annotation/*.json``, commit 579ea8a726f6705f7a3a02f7535b8f5595ec35aa):
- The annotations sit in ``data/original_annotation/`` of the repository
  (``data/subtask1/`` and ``data/subtask2/`` hold the derived task files);
  ``--input`` may be the repository root, its ``data/`` or that folder.
- ``dailydialog_{train,valid,test}.json`` and ``iemocap_test.json``: a dict
  ``dialogue id -> [[turn, ...]]`` (the turn list wrapped in one more list);
  each turn has ``turn`` (1-based), ``speaker``, ``utterance``, ``emotion``
  and, for non-neutral turns, ``expanded emotion cause evidence`` (turn
  numbers, or ``"b"`` when the cause is latent, not in the text),
  ``expanded emotion cause span`` (singular key; one span per evidence
  item, ``"b"`` for a latent one) and ``type`` (no-context, inter-personal,
  self-contagion, hybrid, latent); some add ``explanation`` or ``flag``.
- DailyDialog emotions: happiness, sadness, anger, surprise, fear, disgust
  and neutral (which has no cause); the files also hold a few stray labels
  (``happines``, ``excited``); IEMOCAP's: happy, sad, angry, excited,
  frustrated, neutral. A label outside the vocabulary is reported.
RECCON is text-only: samples carry no media; the conversation up to the
target turn goes into the prompt. One sample per non-neutral turn; a latent
cause becomes ``latent: true`` (no span to quote), ``type`` is kept as
``cause_types``, and errors name the line where the turn starts. Each sample
carries what ``affectllm eval cause-span`` / ``cause-pair`` score against:
``target_turn`` (the target's turn number; turns 1..target_turn are the
candidate causes) and ``cause_spans`` (``{"text", "utterance"}``).
``--context K`` also writes the previous K turns (speaker, utterance) into
``context``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .context import Turn, add_context_argument, previous_turns
from .label_words import emotion_words, label_valence
from .manifest import add_common_arguments, convert, make_sample
from .rows import RowError, SourceRow, read_text

NAME = "reccon"
ALIASES: dict[str, dict] = {}
HELP = "RECCON (dailydialog_<split>.json / iemocap_test.json cause spans), emotion_cause targets"
LAYOUT = "RECCON/ (the repository) with data/original_annotation/: dailydialog_{train,valid,test}.json, iemocap_test.json"
STYLES = ("emotion_cause",)
SPLITS = ("train", "valid", "test")
EVIDENCE, SPANS = "expanded emotion cause evidence", "expanded emotion cause span"
LATENT = "b"  # evidence / span value of a cause that is not in the conversation


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "emotion_cause", splits=SPLITS, default_split="test")
    parser.add_argument("--corpus", choices=["dailydialog", "iemocap"], default="dailydialog",
                        help="which annotation file: <corpus>_<split>.json (iemocap has a test split only)")
    add_context_argument(parser)


_TURN_KEY = re.compile(r'(?<!\\)"turn"\s*:')


def _turn_lines(text: str, n_turns: int) -> list[int] | None:
    """The line each turn object starts on, in file order (one pass); None when the turn keys do not
    line up with the parsed turns (a turn without a ``turn`` key)."""
    lines, line, last = [], 1, 0
    for m in _TURN_KEY.finditer(text):
        brace = text.rfind("{", last, m.start())
        pos = brace if brace >= 0 else m.start()
        line += text.count("\n", last, pos)
        last = pos
        lines.append(line)
    return lines if len(lines) == n_turns else None


ANNOTATION_FOLDERS = (".", "original_annotation", "data/original_annotation", "RECCON/data/original_annotation")


def _rows(root: Path, corpus: str, split: str):
    names = [f"{corpus}_{s}.json" for s in (SPLITS if split == "all" else (split,))]
    folders = [root / sub if sub != "." else root for sub in ANNOTATION_FOLDERS]
    found = next(([f / n for n in names if (f / n).is_file()] for f in folders
                  if any((f / n).is_file() for n in names)), [])
    if not found:
        raise AffectLLMError(f"{root}: none of {', '.join(names)} found in it or its data/original_annotation/; "
                             "point --input at the RECCON repository (or its data/original_annotation)")
    for path in found:
        text = read_text(path)
        try:
            dialogues = json.loads(text)
        except json.JSONDecodeError as err:
            raise AffectLLMError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        if not isinstance(dialogues, dict):
            raise AffectLLMError(f"{path}:1: expected an object of dialogue id -> [[turns]]")
        conversations = {d: (g[0] if g and isinstance(g[0], list) else g) for d, g in dialogues.items()}
        lines = _turn_lines(text, sum(len(t) for t in conversations.values()))
        n = -1
        for dia_id, turns in conversations.items():
            for k, turn in enumerate(turns):
                n += 1
                if isinstance(turn, dict) and str(turn.get("emotion", "neutral")).lower() != "neutral":
                    yield SourceRow(path, lines[n] if lines else 1,
                                    {"dialogue": dia_id, "turns": turns, "index": k,
                                     "split": path.stem.split("_")[-1]})


def run(args: argparse.Namespace) -> int:
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict | None:
        from affectllm.emotions import default_vocabulary

        turns, k = row.data["turns"], row.data["index"]
        turn = turns[k]
        target_turn = turn.get("turn", k + 1)
        if not all(isinstance(t, dict) for t in turns[:k]):
            raise RowError(f"turn {target_turn} of {row.data['dialogue']}: an earlier turn is not a JSON object")
        if not isinstance(target_turn, int) or isinstance(target_turn, bool) or target_turn < 1:
            raise RowError(f"turn {target_turn!r} of {row.data['dialogue']}: \"turn\" must be a number from 1")
        spans, evidence = turn.get(SPANS), turn.get(EVIDENCE)
        if not spans:
            raise RowError(f"turn {target_turn} of {row.data['dialogue']}: no {SPANS!r}")
        emotion = str(turn["emotion"]).strip().lower()
        if not default_vocabulary().normalize(emotion):
            raise RowError(f"turn {target_turn} of {row.data['dialogue']}: unknown emotion {emotion!r}")
        cause_spans, latent = [], False
        for i, span in enumerate(spans):
            ev = evidence[i] if isinstance(evidence, list) and i < len(evidence) else None
            if ev == LATENT or span == LATENT:
                latent = True
                continue
            if not isinstance(ev, int) or isinstance(ev, bool) or not 1 <= ev <= target_turn:
                raise RowError(f"turn {target_turn} of {row.data['dialogue']}: cause span {str(span)!r} has evidence "
                               f"{ev!r}, not a turn from 1 to {target_turn}")
            cause_spans.append({"text": str(span), "utterance": ev})
        history = "\n".join(f"({t.get('turn', i + 1)}) {t.get('speaker', '?')}: {t.get('utterance', '')}"
                            for i, t in enumerate(turns[: k + 1]))
        emotions = emotion_words([emotion])
        observation = f"Utterance {target_turn} by {turn.get('speaker', '?')} expresses {emotion}."
        if latent:
            observation += (" Part of the cause is not stated in the conversation (latent)." if cause_spans else
                            " Its cause is not stated in the conversation (latent).")
        record = {"cause_spans": cause_spans, "reasoning": {"observations": observation}}
        if turn.get("explanation"):
            record["reasoning"]["interpretation"] = str(turn["explanation"])
        types = turn.get("type")
        context = None
        if args.context:
            dialogue = [Turn(str(t.get("speaker", "?")), str(t.get("utterance", ""))) for t in turns]
            context = previous_turns(dialogue, k, args.context, out_dir)
        return make_sample(f"reccon_{row.data['split']}_{row.data['dialogue']}_{target_turn}", out_dir, args.style,
                           emotions=emotions, subtitle=str(turn.get("utterance", "")), valence=label_valence(emotions),
                           record=record, prompt_fields={"dialogue": history, "emotion": emotions[0]},
                           label=emotion, cause_spans=cause_spans, latent_cause=latent or None,
                           cause_types=types if isinstance(types, list) else None, split=row.data["split"],
                           target_turn=target_turn, context=context)

    return convert(args, _rows(args.input, args.corpus, args.split), build, dataset=f"reccon/{args.corpus}")
