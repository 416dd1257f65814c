"""Inflectional and derivational morphology onto the emotion vocabulary.

A word that is not a listed form is rewritten by suffix rules into candidate
base forms; the first candidate that *is* a listed form gives the canonical
word. Candidates are only ever looked up, never invented, so a rule cannot
create an emotion the vocabulary does not know.

Rules cover the ways descriptions turn an emotion into another part of speech:

=============================  ==================================================
noun -> adjective              helplessness -> helpless, dissatisfaction -> dissatisfied,
                               disappointment -> disappointed, reluctance -> reluctant,
                               hesitancy -> hesitant, timidity -> timid
verb/participle -> adjective   worries -> worry, angered -> anger, frustrating -> frustrated
adverb -> adjective            nervously -> nervous, happily -> happy, sarcastically -> sarcastic
=============================  ==================================================

Prefixes are never stripped ("unhappy", "dissatisfied", "insecure" name the
opposite or another feeling), nor is "-less" ("helpless" is not "help").
"""

from __future__ import annotations

from typing import Iterator

# (suffix, replacement), most specific first. Inflection, then derivation.
SUFFIX_RULES: tuple[tuple[str, str], ...] = (
    ("iness", "y"),
    ("ily", "y"),
    ("ies", "y"),
    ("ied", "y"),
    ("ally", ""),
    ("fully", "ful"),
    ("ness", ""),
    ("ly", ""),
    ("ations", "ation"),
    ("ation", "ated"),
    ("ation", "ate"),
    ("ation", "ed"),
    ("ation", "e"),
    ("ation", ""),
    ("ions", "ion"),
    ("ion", "ed"),
    ("ion", "e"),
    ("ion", ""),
    ("ments", "ment"),
    ("ment", "ed"),
    ("ment", ""),
    ("ance", "ant"),
    ("ancy", "ant"),
    ("ence", "ent"),
    ("ency", "ent"),
    ("ity", ""),
    ("ity", "e"),
    ("ure", "ed"),
    ("es", ""),
    ("s", ""),
    ("ed", ""),
    ("ed", "e"),
    ("ing", ""),
    ("ing", "e"),
)
_RULES_BY_LAST: dict[str, tuple[tuple[str, str], ...]] = {}
for _rule in SUFFIX_RULES:  # only rules whose suffix ends in a word's last letter can apply to it
    _RULES_BY_LAST[_rule[0][-1]] = _RULES_BY_LAST.get(_rule[0][-1], ()) + (_rule,)
MIN_STEM = 3  # letters a stem keeps after a suffix is removed ("sadness" -> "sad")

# Words the rules would wrongly turn into emotions: "lovely" is not "love", "concerning the plan" is
# a preposition, "stresses the point" is emphasis, "cautioning her" is warning, "an impression" is no feeling.
NOT_EMOTION_WORDS = frozenset(
    """lovely likely hopefully surely cheers stresses stressing concerning feelings passing sorely tenses
    impression impressions cautioning cautioned surprisingly shockingly amazingly alarmingly""".split()
)


def base_candidates(word: str) -> Iterator[str]:
    """Candidate base forms of one lower-case word, in rule order (the word itself is not included).

    >>> list(base_candidates("helplessness"))[:1]
    ['helpless']
    """
    if word in NOT_EMOTION_WORDS:
        return
    for suffix, repl in _RULES_BY_LAST.get(word[-1:], ()):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            yield word[: len(word) - len(suffix)] + repl
