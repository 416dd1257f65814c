"""The result record: what `affectllm caption`, `affectllm benchmark`, the demo and ``AffectLLM.explain``
write, and what `affectllm eval` reads. One JSON object per line.

:data:`RECORD_FIELDS` is the whole schema: every top-level key a record can have, its JSON type, who
writes it and what it holds; the table of docs/data.md is rendered from it (:func:`schema_markdown`,
checked by the tests). The first keys are the dataclass's own fields; the others live in ``extra`` in Python, are
written at the top level of the JSON by :meth:`ResultRecord.to_dict`, and read as attributes as well
(``record.raw_output``, ``record.transcript``; ``None`` when the record has none).

A failed item has ``emotions == []`` and a one-line ``error``. ``vad`` (``{"valence", "arousal",
"dominance"}``, on [-1, 1] unless a ``vad_scale`` says otherwise; ``affectllm.core.dimensions``) is written only
by an answer that rates dimensions: a dimensional head, or the cue path's valence and arousal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

REASONING_SECTIONS = ("observations", "interpretation", "conclusion")


class RecordField(NamedTuple):
    key: str
    type: str  # as JSON spells it
    written_by: str
    holds: str


RECORD_FIELDS: tuple[RecordField, ...] = (
    RecordField("id", "string", "every writer", "the input's id: the manifest entry's `id`, else the media path"),
    RecordField("path", "string or null", "checkpoint, cue path", "the media file read; null for text alone"),
    RecordField("emotions", "list of strings", "every writer", "the answer's emotion words; `[]` when the input failed"),
    RecordField("explanation", "string", "checkpoint, cue path", "plain-language explanation citing the evidence"),
    RecordField("reasoning", "object", "checkpoint, cue path", "`observations`, `interpretation`, `conclusion` of the answer"),
    RecordField("cues", "object", "cue path, demo", "the extracted evidence (face, voice, speech, text, "
                                                    "timings); `{}` from a checkpoint"),
    RecordField("model", "string", "every writer", "what answered: a checkpoint, `cue-fusion`, an LLM, a baseline"),
    RecordField("error", "string or null", "every writer", "one line saying why the input failed; null when it did not"),
    RecordField("vad", "object", "checkpoint with a dimensional head, cue path",
                "ratings by dimension, on −1 … 1 unless `vad_scale` names the scale; only when rated"),
    RecordField("vad_scale", "object", "checkpoint with a dimensional head",
                "the manifest entry's scale of each rating mapped onto it"),
    RecordField("raw_output", "string", "checkpoint", "the model's text as generated"),
    RecordField("parse_error", "string", "checkpoint", "why no emotion list could be read from `raw_output`"),
    RecordField("transcript", "string", "checkpoint, demo", "what Whisper heard, for an input without a subtitle"),
    RecordField("answered_by", "string", "cue path", "`cue-fusion` or `llm`"),
    RecordField("valence", "number", "cue path", "the fused polarity, −1 … 1"),
    RecordField("cue_valence", "number or null", "cue path", "the valence the evidence fusion reads"),
    RecordField("cue_arousal", "number or null", "cue path", "the prosody arousal, when a voice was heard"),
    RecordField("cue_scores", "object", "cue path", "each named word's family score"),
    RecordField("sentiment", "string", "cue path (fusion answers), benchmark baselines",
                "`negative`, `neutral` or `positive`"),
    RecordField("cue_channels", "list of objects", "cue path", "every channel's reading, weight and frames"),
    RecordField("llm_raw", "string", "cue path with an LLM", "the LLM's text as generated"),
    RecordField("llm_seconds", "number", "cue path with an LLM", "the LLM's generation time"),
    RecordField("llm_rejected", "string", "cue path with an LLM", "why the LLM's answer was not used"),
    RecordField("timeline", "list of objects", "demo", "the clip's segments and what each shows"),
    RecordField("evidence_from", "string", "demo", "where the evidence beside a checkpoint's answer came from"),
)
RECORD_KEYS = frozenset(f.key for f in RECORD_FIELDS)


@dataclass
class ResultRecord:
    id: str
    path: str | None = None
    emotions: list[str] = field(default_factory=list)
    explanation: str = ""
    reasoning: dict[str, str] = field(default_factory=lambda: {k: "" for k in REASONING_SECTIONS})
    cues: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    error: str | None = None
    vad: dict[str, float] | None = None  # dimension -> value, only when the answer rates dimensions
    # The schema's other keys (and any a caller adds), written at the top level of the JSON.
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # reached only for names that are not dataclass fields: a schema key kept in extra
        if name in EXTRA_KEYS:
            return self.__dict__.get("extra", {}).get(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in EXTRA_KEYS:
            self.extra[name] = value
        else:
            object.__setattr__(self, name, value)

    @classmethod
    def failed(cls, id: str, path: str | None, error: str, model: str = "") -> "ResultRecord":
        one_line = " ".join(str(error).split())
        return cls(id=id, path=path, model=model, error=one_line or "unknown error")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["vad"] is None:
            del d["vad"]
        extra = d.pop("extra")
        d.update({k: v for k, v in extra.items() if k not in d})
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ResultRecord":
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        rec = cls(**{k: v for k, v in d.items() if k in known})
        rec.extra = {k: v for k, v in d.items() if k not in known}
        return rec


EXTRA_KEYS = RECORD_KEYS - set(ResultRecord.__dataclass_fields__)


def schema_markdown() -> str:
    """The table of :data:`RECORD_FIELDS` in docs/data.md."""
    lines = ["| key | type | written by | holds |", "|---|---|---|---|"]
    lines += [f"| `{f.key}` | {f.type} | {f.written_by} | {f.holds} |" for f in RECORD_FIELDS]
    return "\n".join(lines) + "\n"
