"""What a parser returns: emotions, the three reasoning sections, an explanation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from affectllm.core.records import REASONING_SECTIONS


def empty_sections() -> dict[str, str]:
    return {k: "" for k in REASONING_SECTIONS}


@dataclass
class ParsedAnswer:
    """One model answer read back through its template.

    ``emotions``: lower-case, order kept, no duplicates. ``sections``: the
    result record's ``reasoning`` (observations / interpretation /
    conclusion). ``ok`` is False when no usable emotion list was found.
    ``extra`` holds template-specific parts (action units, cause spans, the
    empathetic response, the raw <think> text, the target mode).
    """

    template: str
    emotions: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=empty_sections)
    explanation: str = ""
    ok: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    raw: str = ""
