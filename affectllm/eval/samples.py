"""Reading gold and prediction JSONL for evaluation, and turning a prediction into an emotion list.

Gold lines (DESIGN.md): ``ov`` -> ``{"id", "emotions": [...]}``; ``basic`` and
closed-set -> ``{"id", "label"}``; ``sentiment`` -> ``{"id", "valence"}``;
``vad`` -> ``{"id", "vad", "vad_scale"}`` or ``{"id", "valence", "arousal", "dominance"}``
(any subset); ``cause-span`` / ``cause-pair`` -> ``{"id", "target_turn", "cause_spans"}``.
Prediction lines: ``{"id", "emotions": [...]}`` or free text in
``"explanation"`` (a result record), plus ``"sentiment"`` for sentiment,
``"vad"`` for vad, ``"cause_spans"`` or ``"raw_output"`` for the cause tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from affectllm.core.errors import AffectLLMError
from affectllm.core.jsonl import iter_jsonl
from affectllm.eval.wheel import parse_label_list

# Turns an explanation into emotion words: the rule-based extractor or an LLM.
EmotionExtractor = Callable[[str], list[str]]


def read_jsonl(path: str | Path, what: str) -> dict[str, dict[str, Any]]:
    """``id`` -> record for every non-blank line of ``path``.

    A gold file must not repeat an id (which label would count?): that is an error naming
    both lines. In a prediction file a later line replaces an earlier one, as in a caption
    output, where a retried input's new record follows its failed one."""
    path = Path(path)
    records: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    for lineno, rec in iter_jsonl(path, f"{what} file", "pass an existing JSONL file"):
        if "id" not in rec:
            raise AffectLLMError(f'{path}:{lineno}: each line needs an "id" field')
        sid = str(rec["id"])
        if what == "gold" and sid in first_line:
            raise AffectLLMError(f"{path}:{lineno}: duplicate id {sid!r} (also on line {first_line[sid]}); "
                                 "each gold id must appear once")
        first_line.setdefault(sid, lineno)
        records[sid] = rec
    if not records:
        raise AffectLLMError(f"{what} file {path} has no records; write one JSON object per line")
    return records


def prediction_emotions(rec: dict[str, Any] | None, extractor: EmotionExtractor, source: str = "auto") -> list[str]:
    """The emotion items of one prediction record.

    ``source``: ``"emotions"`` uses only the list, ``"explanation"`` only the
    free text (through ``extractor``), ``"auto"`` the list when it is non-empty
    and the explanation otherwise. A missing record predicts nothing.
    """
    if rec is None:
        return []
    listed = parse_label_list(rec.get("emotions"))
    if source == "emotions" or (source == "auto" and listed):
        return [str(x) for x in listed]
    text = rec.get("explanation") or ""
    if not isinstance(text, str):
        text = str(text)
    return extractor(text) if text.strip() else []


def aligned(gold_ids: Iterable[str], pred: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any] | None], int]:
    """Prediction records in gold order (None where missing) and how many are missing."""
    out = [pred.get(sid) for sid in gold_ids]
    return out, sum(r is None for r in out)
