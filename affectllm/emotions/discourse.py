"""Sentence roles in a free-text emotion description.

Descriptions in the EMER / MER-Caption / OV-MERD style walk through the
evidence ("In the video ... In the audio ... In the text ...") and then
conclude ("Therefore, it can be inferred that his emotional state is worry").
This module cuts a token stream into *units* (sentences, and the part of a
sentence after ", therefore ..." / ", so it can be inferred ...") and gives
each unit a role:

========== ================================================================
role       unit
========== ================================================================
final      the last unit that opens with a summary connective ("Therefore",
           "In summary", "Overall", "Thus", "To sum up", ...), unless an
           inference unit follows it
conclusion an earlier unit opening with such a connective
inference  a unit with an inference frame ("we can infer", "it can be
           deduced that", "is speculated"); words before the frame are
           the premises ("Based on his smile, ...") and count as evidence
evidence   anything else (descriptions of face, voice, words)
quote      words inside double quotes that report speech (subtitles); a
           quoted word or label ('"angry"') stays in its sentence
========== ================================================================

Tokens are lower-case words and single punctuation marks (see
:data:`affectllm.emotions.lexicon.TOKEN`).
"""

from __future__ import annotations

from dataclasses import dataclass

from affectllm.emotions.lexicon import TOKEN
from affectllm.emotions.vocabulary import surface_key

FINAL, CONCLUSION, INFERENCE, EVIDENCE, QUOTE = "final", "conclusion", "inference", "evidence", "quote"

SENTENCE_END = frozenset(".!?")
QUOTE_MARKS = frozenset('"\u201c\u201d')
LIST_ITEM_WORDS = 5  # words (numbers included) in one item of a list after a colon
SPEAKER_WORDS = frozenset("i i'm i've i'll me my you you're your we we're us our".split())
# A full stop after these is an abbreviation, not the end of a sentence.
ABBREVIATIONS = frozenset("mr mrs ms dr st vs prof jr sr etc e g i".split())
# One-word summary connectives that open a concluding sentence.
CONNECTIVES = frozenset("therefore thus hence consequently accordingly overall ultimately so altogether".split())
# Multi-word ones, as token tuples.
CONNECTIVE_PHRASES = (
    ("in", "summary"), ("in", "conclusion"), ("in", "short"), ("in", "sum"), ("in", "general"), ("in", "total"),
    ("to", "sum", "up"), ("to", "summarize"), ("to", "summarise"), ("to", "conclude"), ("all", "in", "all"),
    ("taken", "together"), ("on", "the", "whole"), ("as", "a", "result"), ("in", "a", "word"),
    ("taking", "these", "together"), ("taking", "all", "together"), ("taking", "everything", "together"),
    ("taking", "all", "of", "this", "together"), ("putting", "it", "all", "together"), ("in", "the", "end"),
)
_PHRASE_HEADS = frozenset(p[0] for p in CONNECTIVE_PHRASES)
# Leading tokens skipped before a connective ("Output: Therefore, ...", "And so ...").
LEAD_NOISE = frozenset(("input", "output", ":", ",", "and", "finally", "-", "*"))
# Words that make a unit an inference ("we can infer that ...", "it is speculated that ...").
INFERENCE_FRAMES = frozenset(
    "infer inferred infers inferring deduce deduced deduces deducing conclude concluded concludes concluding "
    "speculate speculated speculates speculating surmise surmised judged".split()
)
# A connective in mid-sentence starts a concluding unit: ", therefore, it is inferred that ...".
MID_CONNECTIVES = frozenset("therefore thus hence consequently so".split())


@dataclass
class Unit:
    """One sentence or concluding part of a sentence.

    ``tokens``: its tokens (quoted words removed); ``role``: see the module
    table; ``frame``: index in ``tokens`` of the inference-frame word, or -1.
    """

    tokens: list[str]
    role: str
    frame: int = -1


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens; a line break ends a sentence like a full stop."""
    out: list[str] = []
    for line in (text or "").splitlines():
        toks = TOKEN.findall(surface_key(line))
        if toks:
            out.extend(toks)
            if toks[-1] not in SENTENCE_END:
                out.append(".")
    return out


def _opens_with_connective(tokens: list[str]) -> bool:
    i = 0
    while i < len(tokens) and tokens[i] in LEAD_NOISE:
        i += 1
    if i >= len(tokens):
        return False
    if tokens[i] in CONNECTIVES:
        # "So" opens a conclusion only as a connective ("So, ..." / "So it can be inferred"), not "so much".
        return tokens[i] != "so" or (i + 1 < len(tokens) and tokens[i + 1] in (",", "it", "we", "this", "he", "she", "they"))
    return tokens[i] in _PHRASE_HEADS and any(tuple(tokens[i : i + len(p)]) == p for p in CONNECTIVE_PHRASES)


def _frame_at(tokens: list[str]) -> int:
    for k, tok in enumerate(tokens):
        if tok in INFERENCE_FRAMES:
            return k
    return -1


def _split_mid_conclusion(tokens: list[str]) -> list[list[str]]:
    """Cut a sentence before ", therefore ..." / ", so it can be inferred ..." (a connective after a comma
    that leads into an inference frame or a full clause)."""
    parts: list[list[str]] = []
    start = 0
    for k in range(1, len(tokens) - 1):
        if tokens[k - 1] in (",", ";") and tokens[k] in MID_CONNECTIVES:
            tail = tokens[k : k + 8]
            if tokens[k] != "so" or any(t in INFERENCE_FRAMES for t in tail):
                parts.append(tokens[start:k])
                start = k
    parts.append(tokens[start:])
    return [p for p in parts if p]


def _is_speech(quote: list[str]) -> bool:
    """Reported speech (a subtitle, a line), not a quoted word or label: more than three words, a
    sentence mark, or a first/second person."""
    words = [t for t in quote if t[0].isalnum()]
    return len(words) > 3 or any(t in SENTENCE_END or t in SPEAKER_WORDS for t in quote)


def split_units(tokens: list[str]) -> list[Unit]:
    """Units of a tokenized description with their roles (the last concluding unit is ``final``)."""
    units: list[Unit] = []
    sentence: list[str] = []
    quote: list[str] | None = None
    list_head: list[Unit] = []  # a unit ending in ":" whose short items follow ("emotions are:\n1. anger")

    def close_sentence() -> None:
        for part in _split_mid_conclusion(sentence):
            if list_head and sum(t[0].isalnum() for t in part) <= LIST_ITEM_WORDS:
                list_head[0].tokens.extend([","] + part)  # an item reads as part of its list's sentence
                continue
            list_head.clear()
            frame = _frame_at(part)
            if _opens_with_connective(part):
                role = CONCLUSION
            else:
                role = INFERENCE if frame >= 0 else EVIDENCE
            units.append(Unit(part, role, frame))
            ending = [t for t in part if t not in SENTENCE_END]
            if ending and ending[-1] == ":":
                list_head.append(units[-1])
        sentence.clear()

    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok in QUOTE_MARKS:
            if quote is None:
                quote = []
            elif _is_speech(quote):
                units.append(Unit(quote, QUOTE))
                sentence.append(",")  # the quote was a constituent of its host sentence: keep a boundary
                quote = None
            else:  # a quoted label ('his state is "angry"') reads as part of its sentence
                sentence.extend(quote)
                quote = None
            continue
        if quote is not None:
            quote.append(tok)
            continue
        sentence.append(tok)
        if tok in SENTENCE_END:
            prev = tokens[i - 1] if i else ""
            nxt = tokens[i + 1] if i + 1 < n else ""
            if tok == "." and (prev in ABBREVIATIONS or (prev.isdigit() and nxt.isdigit())):
                continue
            close_sentence()
    if quote:  # an unclosed quote: its words were the speaker's after all
        sentence.extend(quote)
    if sentence:
        close_sentence()
    # The last concluding unit is final unless a later inference supersedes it ("Overall, ..." closing
    # the video paragraph, then "Based on all clues, we can infer ...").
    for unit in reversed(units):
        if unit.role == INFERENCE:
            break
        if unit.role == CONCLUSION:
            unit.role = FINAL
            break
    return units
