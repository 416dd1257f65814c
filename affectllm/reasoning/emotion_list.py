"""Turn an answer like "Frustrated, tired (0.3) and a bit anxious." into ["frustrated", "tired", "anxious"].

Words in our vocabulary are normalised through
``affectllm.emotions.default_vocabulary().normalize``; short open-vocabulary
phrases outside it are kept as written (lower-case), because the field scores
open-vocabulary answers. Long sentences fall back to
``affectllm.emotions.extract_emotions``.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Callable

# Lead-ins models put before the list itself.
_LEAD_INS = re.compile(
    r"^(?:(?:final\s+)?(?:answer|emotions?|labels?|expression)\s*[:：-]\s*)?"
    r"(?:(?:the|this|that)\s+(?:character|person|speaker|subject|individual|man|woman|face)(?:'s|’s)?\s+"
    r"(?:emotional\s+state|emotions?|expression|feelings?)\s+(?:is|are|seems?\s+to\s+be|appears?\s+to\s+be|would\s+be|can\s+be\s+described\s+as)\s*[:：]?\s*"
    r"|(?:the\s+)?(?:character|person|speaker|subject|individual|he|she|they)\s+(?:is\s+|are\s+|was\s+)?(?:most\s+likely\s+|likely\s+|probably\s+|mainly\s+|clearly\s+)?"
    r"(?:feeling|feels|felt|seems|appears|looks|sounds|is|are)\s+)?",
    re.IGNORECASE,
)
# Hedges and intensifiers that are not part of the emotion itself.
_HEDGES = {"a", "an", "the", "bit", "little", "slightly", "somewhat", "very", "quite", "rather", "really",
           "mostly", "mainly", "mildly", "extremely", "highly", "deeply", "also", "maybe", "perhaps", "possibly",
           "probably", "likely", "though", "but", "yet", "and", "or", "feeling", "feels", "feel", "being", "is",
           "are", "seems", "somewhat", "kind", "of", "sort", "more", "most", "some", "strongly"}
_NOT_EMOTIONS = {"none", "n/a", "na", "unknown", "unclear", "etc", "other", "others", "emotion", "emotions",
                 "label", "labels", "answer", "nothing", "unsure", "not sure"}
_SPLIT = re.compile(r"\s*(?:[,;/|\n、，；]|\band\b|\bor\b|\bas well as\b|\bwith\b|&|\+)\s*", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _vocab() -> tuple[Callable[[str], str | None], Callable[[str], list[str]]]:
    from affectllm.emotions import default_vocabulary, extract_emotions

    vocab = default_vocabulary()
    return vocab.normalize, extract_emotions


def normalize_emotion(word: str) -> str | None:
    """The vocabulary's canonical form of ``word``, or None when it is not in the vocabulary."""
    w = word.strip().lower()
    if not w:
        return None
    normalize, _ = _vocab()
    found = normalize(w)
    return str(found).lower() if found else None


def emotions_in_text(text: str) -> list[str]:
    """Vocabulary emotion words mentioned in free text, in order (``extract_emotions``)."""
    _, extract = _vocab()
    return dedupe(str(e).lower() for e in extract(text or ""))


def dedupe(items) -> list[str]:
    seen, out = set(), []
    for it in items:
        if it and it not in seen:
            seen.add(it)
            out.append(it)
    return out


def _items(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            loaded = json.loads(text)
            if isinstance(loaded, list):
                return [str(x) for x in loaded]
        except ValueError:
            pass
    text = re.sub(r"[\[\]{}`]", " ", text)
    return _SPLIT.split(text)


def _clean_item(item: str) -> str:
    item = _LEAD_INS.sub("", item.strip())
    item = re.sub(r"\(.*?\)|\d+(?:\.\d+)?\s*%?", " ", item)  # scores: "(0.62)", "62%", ": 0.6"
    item = re.sub(r"^\s*(?:[-*+•]|\d+[.)])\s*", "", item)
    item = re.sub(r"[\"'“”‘’*_.:!?…]+", " ", item).lower()
    words = [w for w in item.split() if w]
    while words and words[0] in _HEDGES:
        words.pop(0)
    while words and words[-1] in _HEDGES:
        words.pop()
    return " ".join(words)


def parse_emotion_list(text: str, max_words: int = 3) -> list[str]:
    """Emotions of an answer meant as a list, lower-case, order kept, no duplicates.

    Each item is normalised by the vocabulary when it is in it; otherwise an
    item of at most ``max_words`` words is kept as an open-vocabulary label,
    and a longer one is searched for vocabulary words.
    """
    out = []
    for raw in _items(text or ""):
        item = _clean_item(raw)
        if not item or item in _NOT_EMOTIONS:
            continue
        canon = normalize_emotion(item)
        if canon:
            out.append(canon)
            continue
        n_words = len(item.split())
        # "hint of surprise" names a vocabulary word inside a phrase; a short
        # phrase with none ("quietly proud") is an open-vocabulary label.
        found = emotions_in_text(item) if n_words > 1 else []
        if found:
            out.extend(found)
        elif n_words <= max_words and re.fullmatch(r"[a-z][a-z' -]*", item):
            out.append(item)
    return dedupe(out)
