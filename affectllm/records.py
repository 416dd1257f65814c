"""The result record of DESIGN.md: what caption, the demo and eval exchange.

One JSON object per line::

    {"id", "path", "emotions", "explanation",
     "reasoning": {"observations", "interpretation", "conclusion"},
     "cues", "model", "error"}

A failed item has ``emotions == []`` and a one-line ``error``. ``vad``
(``{"valence", "arousal", "dominance"}``, on [-1, 1] unless a ``vad_scale``
says otherwise; ``affectllm.dimensions``) is written only by an answer that
rates dimensions: a dimensional head, or the cue path's valence and arousal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

REASONING_SECTIONS = ("observations", "interpretation", "conclusion")


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
    # Optional extras kept beside the contract fields (e.g. which path produced the answer).
    extra: dict[str, Any] = field(default_factory=dict)

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
