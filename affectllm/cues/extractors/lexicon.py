"""Lexical affect of what is said: VADER valence and NRC emotion associations.

VADER (MIT) scores the whole utterance (it handles negation, intensifiers and
"but") and rates single words on -4..+4. The NRC Emotion Lexicon (bundled by
``nrclex``; research/non-commercial terms) links words to Plutchik's eight
emotions; we read its JSON directly instead of going through TextBlob.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

from affectllm.bundled.packages import nrc_lexicon_file

if TYPE_CHECKING:
    from affectllm.cues.schema import TextCues

NRC_EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")
NEGATORS = frozenset({"not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot",
                      "without", "hardly"})
NEGATION_REACH = 3  # a negator flips the next few words ("not very happy")
MIN_WORD_VALENCE = 1.0  # |VADER word score| worth reporting
PHRASE_RADIUS = 3  # words quoted on each side of the strongest affect word
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=1)
def vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def nrc_lexicon() -> dict[str, tuple[str, ...]]:
    with open(nrc_lexicon_file(), encoding="utf-8") as f:
        raw = json.load(f)
    return {w: tuple(e for e in emos if e in NRC_EMOTIONS) for w, emos in raw.items()}


def _nrc_lookup(token: str) -> tuple[str, ...]:
    lex = nrc_lexicon()
    for cand in (token, token[:-1] if token.endswith("s") else None, token[:-2] if token.endswith("ed") else None,
                 token[:-3] if token.endswith("ing") else None):
        if cand and cand in lex:
            return lex[cand]
    return ()


def _negated(tokens: list[str], surface: list[str], i: int) -> bool:
    """A negator among the few words before ``i``, within the same clause (punctuation ends its reach)."""
    for j in range(i - 1, max(-1, i - 1 - NEGATION_REACH), -1):
        if surface[j].rstrip().endswith((",", ".", ";", ":", "!", "?")):
            return False
        if tokens[j] in NEGATORS or tokens[j].endswith("n't"):
            return True
    return False


def lexical_cues(text: str, words: list[dict] | None = None, source: str = "transcript") -> TextCues:
    """Affect of ``text``; ``words`` (with "word", "start") time-stamps the hits when given."""
    text = (text or "").strip()
    out: TextCues = {"present": bool(text), "source": source, "text": text}
    if not text:
        out["summary"] = "no words to analyse"
        return out
    if words:
        tokens = [(_TOKEN.findall(w["word"].lower()) or [""])[0] for w in words]
        stamps = [w.get("start") for w in words]
        surface = [w["word"] for w in words]
    else:
        surface = text.split()
        tokens = [(_TOKEN.findall(s.lower()) or [""])[0] for s in surface]
        stamps = [None] * len(tokens)
    scores = vader().polarity_scores(text)
    out["vader"] = {k: round(float(v), 3) for k, v in scores.items()}
    hits, counts = [], Counter()
    for i, tok in enumerate(tokens):
        if not tok:
            continue
        valence = float(vader().lexicon.get(tok, 0.0))
        emos = _nrc_lookup(tok)
        if abs(valence) < MIN_WORD_VALENCE and not emos:
            continue
        neg = _negated(tokens, surface, i)
        hits.append({"word": tok, "index": i, "t": stamps[i], "valence": round(valence, 2), "nrc": list(emos),
                     "negated": neg})
        if not neg:
            counts.update(emos)
    out["hits"] = hits
    out["nrc_counts"] = {e: counts[e] for e in NRC_EMOTIONS if counts[e]}
    strongest = max((h for h in hits if h["valence"]), key=lambda h: abs(h["valence"]), default=None)
    if strongest is not None:
        i = strongest["index"]
        phrase = " ".join(surface[max(0, i - PHRASE_RADIUS):i + PHRASE_RADIUS + 1]).strip(" ,.;:!?")
        out["key_phrase"] = {"text": phrase, "word": strongest["word"], "t": strongest["t"]}
    out["summary"] = _summary(out)
    return out


def _summary(cues: dict) -> str:
    c = cues["vader"]["compound"]
    tone = "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"
    parts = [f"VADER compound {c:+.2f} ({tone})"]
    words = [h for h in cues["hits"] if abs(h["valence"]) >= MIN_WORD_VALENCE]
    if words:
        listed = ", ".join(f'"{h["word"]}" ({"not " if h["negated"] else ""}{h["valence"]:+.1f})' for h in words[:6])
        parts.append(f"affect words {listed}")
    if cues["nrc_counts"]:
        parts.append("NRC emotions " + ", ".join(f"{e} x{n}" for e, n in
                                                  sorted(cues["nrc_counts"].items(), key=lambda kv: -kv[1])))
    return "; ".join(parts)
