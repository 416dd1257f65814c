"""Split free model text into labelled parts ("Reasoning: ...", "**Conclusion**").

Models drift from the requested layout: markdown bold or headings, numbered
steps, a header alone on its line, several headers run together on one line,
capitalisation, full-width colons. ``split_labelled`` finds every header from
a template's alias table wherever it plausibly starts a part and returns the
text between consecutive headers.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

# Decorations a header may carry before its name: quote marks, markdown heading
# hashes, list bullets, step numbers ("2.", "Step 2:", "(b)"), bold/italic.
_LEAD = r"[ \t>]*(?:#{1,6}[ \t]*)?(?:[-*+•][ \t]+)?(?:(?:step|part)?[ \t]*(?:\d{1,2}|[a-e])[.):][ \t]*)?(?:\*\*|__|\*|_)?[ \t]*"
# After the name: an optional short parenthesis, closing bold, then a colon,
# a dash, or the end of the line (header alone on its line).
_TAIL = r"[ \t]*(?:\([^)\n]{0,40}\))?[ \t]*(?:\*\*|__|\*|_)?[ \t]*(?:[:：](?:\*\*|__)?|[-–—](?=[ \t])|(?=[ \t]*(?:\n|$)))[ \t]*"
# Inline headers (several parts on one line) must follow a sentence end and
# carry a colon or a spaced dash, so ordinary prose ("... the conclusion is") is not cut.
_INLINE_TAIL = r"[ \t]*(?:\*\*|__)?[ \t]*(?:[:：]|[ \t][-–—][ \t])(?:\*\*|__)?[ \t]*"


def _alternation(aliases: Sequence[str]) -> str:
    # Longest first so "visual clues" wins over "visual".
    return "|".join(sorted((a.replace(" ", r"[ \t_-]*") for a in aliases), key=len, reverse=True))


def split_labelled(text: str, slots: Mapping[str, Sequence[str]]) -> tuple[str, list[tuple[str, str]]]:
    """Find labelled parts.

    ``slots`` maps a slot name to its header aliases (lower-case regex
    fragments, spaces match any run of space, dash or underscore).
    Returns (preamble before the first header, [(slot, content), ...]) in text
    order; contents are stripped but otherwise untouched.
    """
    names = {}
    for slot, aliases in slots.items():
        for a in aliases:
            names[a] = slot
    alt = _alternation(list(names))
    line_re = re.compile(rf"^{_LEAD}(?P<name>{alt})(?![\w]){_TAIL}", re.IGNORECASE | re.MULTILINE)
    inline_re = re.compile(rf"(?<=[.!?;)\"'])[ \t]+(?:\d{{1,2}}[.)][ \t]*)?(?:\*\*|__)?(?P<name>{alt})(?![\w]){_INLINE_TAIL}", re.IGNORECASE)

    hits: list[tuple[int, int, str]] = []
    for rx in (line_re, inline_re):
        for m in rx.finditer(text):
            hits.append((m.start(), m.end(), _slot_of(m.group("name"), names)))
    hits.sort()
    kept: list[tuple[int, int, str]] = []
    for h in hits:
        if kept and h[0] < kept[-1][1]:
            continue  # overlapping matches of the two patterns
        kept.append(h)

    preamble = text[: kept[0][0]].strip() if kept else text.strip()
    parts = []
    for i, (_, end, slot) in enumerate(kept):
        stop = kept[i + 1][0] if i + 1 < len(kept) else len(text)
        parts.append((slot, text[end:stop].strip()))
    return preamble, parts


def _slot_of(found: str, names: Mapping[str, str]) -> str:
    key = re.sub(r"[\s_-]+", " ", found.lower()).strip()
    for alias, slot in names.items():
        if re.fullmatch(alias.replace(" ", r"[ \t_-]*"), key):
            return slot
    return next(iter(names.values()))


def clean_block(text: str, drop_bullets: bool = False) -> str:
    """Tidy a part: no markdown emphasis, single spaces, no blank lines.

    Lines are kept (they carry structure such as one clue per line);
    ``drop_bullets`` also strips leading list markers.
    """
    lines = []
    for line in text.replace("\r", "").split("\n"):
        line = re.sub(r"(\*\*|__)", "", line)
        if drop_bullets:
            line = re.sub(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+", "", line)
        line = " ".join(line.split())
        if line and not re.fullmatch(r"[-*_=#`]+", line):
            lines.append(line)
    return "\n".join(lines)
