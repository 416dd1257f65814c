"""The explanation and its reasoning sections, with every cited cue highlighted and linked to its evidence.

A span counts as a cited cue when it names something the cue record holds:
an action-unit code or face movement, an expression the face model read, a
number with its unit that appears in a modality's evidence line ("99 Hz",
"12/16", "+0.86"), a quoted phrase or loaded word that was said. Each span
is coloured by its modality and links to that modality's evidence panel.
The grounding line under the explanation uses ``affectllm.eval.grounding``.
"""

from __future__ import annotations

import html
import re

from affectllm.core.records import REASONING_SECTIONS

MODALITY_ANCHOR = {"visual": "affect-ev-face", "acoustic": "affect-ev-voice", "lexical": "affect-ev-words"}
ACOUSTIC_WORDS = ("pitch", "loudness", "louder", "quieter", "pause", "pauses", "speaking rate", "voice", "intonation")
# Quoted phrase | AU code | signed/plain number with an optional unit or fraction | word
_SPAN = re.compile(
    r'"[^"]{3,}?"|“[^”]{3,}?”'
    r"|\bAU\d+(?:[+/]\d+)?\b"
    r"|[+-]?\d+(?:\.\d+)?(?:/\d+)?(?:\s?(?:%|Hz|dB|dBFS|semitones?|words/s|s\b))?"
    r"|[A-Za-z][A-Za-z'-]*(?:\s[a-z]+){0,2}"
)


def cue_terms(cues: dict, answer: list[str] = ()) -> dict[str, set[str]]:
    """{modality: lower-case phrases that cite it} from the cue record (words and multi-word phrases).

    The ``answer``'s own emotion words are left out: "feels happy" names the conclusion, not a cue.
    """
    from affectllm.cues.extractors.face_geometry import MEASURES

    face, text = cues.get("face") or {}, cues.get("text") or {}
    visual: set[str] = set()
    if face.get("present"):
        visual |= {face["dominant_expression"], "face"}
        for m in MEASURES:
            visual |= {p for p in (m.up_phrase, m.down_phrase) if p}
    acoustic = set(ACOUSTIC_WORDS) if (cues.get("voice") or {}).get("present") else set()
    lexical = {h["word"] for h in text.get("hits", [])} if text.get("present") else set()
    lexical -= {w.lower() for w in answer}
    return {"visual": visual, "acoustic": acoustic, "lexical": lexical}


def evidence_lines(cues: dict) -> dict[str, str]:
    from affectllm.cues.evidence.describe import clue_texts

    return {k: v.lower() for k, v in clue_texts(cues).items()}


def classify_span(span: str, terms: dict[str, set[str]], lines: dict[str, str]) -> str | None:
    """The modality ``span`` cites, or None when it cites nothing in the cue record."""
    low = span.lower()
    if low[0] in "\"“":
        inner = low.strip("\"“” .,!?")
        return "lexical" if inner and inner in lines["lexical"] else None
    if re.fullmatch(r"au\d+(?:[+/]\d+)?", low):
        return "visual" if re.search(rf"\b{re.escape(low)}\b", lines["visual"]) else None
    if low[0] in "+-0123456789":
        number = low.split()[0].rstrip("%")
        if re.fullmatch(r"\d", number) and number == low:
            return None  # a bare digit ("x2", "1") is too common to cite anything
        for modality, line in lines.items():
            if re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", line):
                return modality
        return None
    for modality, words in terms.items():
        if low in words:
            return modality
    return None


def highlight_cues(text: str, cues: dict, answer: list[str] = ()) -> str:
    """``text`` as HTML with cited cue spans in ``<a class="affect-cue affect-cue-MODALITY">``."""
    terms, lines = cue_terms(cues, answer), evidence_lines(cues)
    multi = sorted((p for ws in terms.values() for p in ws if " " in p), key=len, reverse=True)
    out, pos = [], 0
    while (m := _SPAN.search(text, pos)) is not None:
        span = m.group(0)
        modality = classify_span(span, terms, lines)
        start, end = m.start(), m.end()
        if modality is None and span[0].isalpha():
            # The word pattern grabs up to three words; cite only a known phrase or word inside it.
            hit = next((p for p in multi if span.lower().startswith(p)), None)
            word = span.split()[0]
            if hit:
                end, modality = start + len(hit), next(k for k, ws in terms.items() if hit in ws)
            else:
                end, modality = start + len(word), classify_span(word, terms, lines)
        out.append(html.escape(text[pos:start]))
        piece = html.escape(text[start:end])
        if modality:
            out.append(f'<a class="affect-cue affect-cue-{modality}" href="#{MODALITY_ANCHOR[modality]}" '
                       f'title="{modality} evidence">{piece}</a>')
        else:
            out.append(piece)
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def grounding_line(record) -> str:
    """Which cue concepts the explanation cites, and whether each is in the cue record."""
    from affectllm.eval.grounding import cited_cues, flatten_cues

    pairs = cited_cues(record.explanation, flatten_cues(record.cues))
    if not pairs:
        return ""
    items = ", ".join(f'{html.escape(c)} {"✓" if ok else "✗"}' for c, ok in pairs)
    found = sum(ok for _, ok in pairs)
    return f'<div class="affect-note">Cited cues found in the evidence: {found}/{len(pairs)} ({items})</div>'


def reasoning_html(record) -> str:
    """Explanation first, then observations → interpretation → conclusion, cues highlighted throughout."""
    if record.error:
        return f'<div class="affect-error">{html.escape(record.error)}</div>'
    parts = [f'<div class="affect-explanation">{highlight_cues(record.explanation, record.cues, record.emotions)}</div>',
             grounding_line(record)]
    order = [k for k in REASONING_SECTIONS if k in record.reasoning] + \
            [k for k in record.reasoning if k not in REASONING_SECTIONS]
    steps = []
    for i, key in enumerate(order):
        body = (record.reasoning.get(key) or "").strip()
        if body:
            steps.append(f'<div class="affect-step"><div class="affect-step-name">{i + 1}. {html.escape(key)}</div>'
                         f'<div>{highlight_cues(body, record.cues, record.emotions)}</div></div>')
    parts.append(f'<div class="affect-steps">{"".join(steps)}</div>')
    legend = " ".join(f'<a class="affect-cue affect-cue-{m}" href="#{a}">{m}</a>' for m, a in MODALITY_ANCHOR.items())
    parts.append(f'<div class="affect-legend">Highlighted cues by modality (click to jump to the evidence): '
                 f'{legend}</div>')
    return "".join(parts)
