"""RECCON (recognising emotion cause in conversations): which span caused the target utterance's emotion.

    affectllm recipe reccon --input RECCON/data/original_annotation --out reccon_dd_test.jsonl --split test

Facts relied on (RECCON README, declare-lab/RECCON):
- ``dailydialog_{train,valid,test}.json`` (and ``iemocap_test.json``): a dict
  ``dialogue id -> [[turn, ...]]``; each turn has ``turn`` (1-based),
  ``speaker``, ``utterance``, ``emotion`` and, for non-neutral turns,
  ``expanded emotion cause evidence`` (turn numbers, or "b" when the cause is
  not in the text) and ``expanded emotion cause span`` (the causal spans),
  plus ``type``.
- DailyDialog emotions: happiness, sadness, anger, surprise, fear, disgust
  (and neutral, which has no cause).
RECCON is text-only: samples carry no media; the conversation up to the
target turn goes into the prompt. One sample per non-neutral turn with
annotated causes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from affectllm.errors import AffectLLMError
from data_recipes.manifest import (RowError, SourceRow, add_common_arguments, convert, emotion_words,
                                   label_valence, make_sample, read_text)

NAME = "reccon"
HELP = "RECCON (dailydialog_<split>.json / iemocap_test.json cause spans), emotion_cause targets"
STYLES = ("emotion_cause",)
SPLITS = ("train", "valid", "test")
EVIDENCE, SPANS = "expanded emotion cause evidence", "expanded emotion cause span"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, STYLES, "emotion_cause", splits=SPLITS, default_split="test")
    parser.add_argument("--corpus", choices=["dailydialog", "iemocap"], default="dailydialog")


def _rows(root: Path, corpus: str, split: str):
    names = [f"{corpus}_{s}.json" for s in (SPLITS if split == "all" else (split,))]
    found = [root / n for n in names if (root / n).is_file()]
    if not found:
        raise AffectLLMError(f"{root}: none of {', '.join(names)} found; point --input at RECCON/data/original_annotation")
    for path in found:
        text = read_text(path)
        try:
            dialogues = json.loads(text)
        except json.JSONDecodeError as err:
            raise AffectLLMError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        for dia_id, groups in dialogues.items():
            line = text[: text.find(f'"{dia_id}"')].count("\n") + 1  # where the dialogue starts, for messages
            turns = groups[0] if groups and isinstance(groups[0], list) else groups
            for k, turn in enumerate(turns):
                if isinstance(turn, dict) and str(turn.get("emotion", "neutral")).lower() != "neutral":
                    yield SourceRow(path, line, {"dialogue": dia_id, "turns": turns, "index": k,
                                                 "split": path.stem.split("_")[-1]})


def run(args: argparse.Namespace) -> int:
    out_dir = args.out.resolve().parent

    def build(row: SourceRow) -> dict | None:
        turns, k = row.data["turns"], row.data["index"]
        turn = turns[k]
        spans, evidence = turn.get(SPANS), turn.get(EVIDENCE)
        if not spans:
            raise RowError(f"turn {turn.get('turn', k + 1)} of {row.data['dialogue']}: no {SPANS!r}")
        emotion = str(turn["emotion"]).lower()
        cause_spans = []
        for i, span in enumerate(spans):
            ev = evidence[i] if isinstance(evidence, list) and i < len(evidence) else None
            cause_spans.append({"text": str(span), "utterance": ev if isinstance(ev, int) else None})
        history = "\n".join(f"({t.get('turn', i + 1)}) {t.get('speaker', '?')}: {t.get('utterance', '')}"
                            for i, t in enumerate(turns[: k + 1]))
        emotions = emotion_words([emotion])
        target_turn = turn.get("turn", k + 1)
        record = {"cause_spans": cause_spans,
                  "reasoning": {"observations": f"Utterance {target_turn} by {turn.get('speaker', '?')} expresses {emotion}."}}
        if turn.get("explanation"):
            record["reasoning"]["interpretation"] = str(turn["explanation"])
        return make_sample(f"reccon_{row.data['split']}_{row.data['dialogue']}_{target_turn}", out_dir, args.style,
                           emotions=emotions, subtitle=str(turn.get("utterance", "")), valence=label_valence(emotions),
                           record=record, prompt_fields={"dialogue": history, "emotion": emotions[0]},
                           label=emotion, cause_spans=cause_spans, split=row.data["split"])

    return convert(args, _rows(args.input, args.corpus, args.split), build, dataset=f"reccon/{args.corpus}")
