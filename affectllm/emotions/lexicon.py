"""First-generation extractor (``method="lexicon"``): every vocabulary word in the text unless negated.

Kept selectable for comparison with the discourse-aware extractor in
:mod:`affectllm.emotions.extract`, which shares only this file's tokenizer
(:data:`TOKEN`).

Lexicon lookup with longest-phrase matching and the morphology of
:mod:`affectllm.emotions.vocabulary`, plus a small negation model:

- a negator ("not", "no", "never", "without", "n't", "lack of", "rather than",
  "free of", ...) negates an emotion at most three words later in the same
  clause ("no sign of anger", "does not seem to be angry");
- punctuation and contrast words ("but", "though", "however") end a clause;
- a negated emotion passes its negation on through "or"/"nor"
  ("neither angry nor sad", "without fear or anxiety");
- "cannot hide her anger" is not a negation (concealment verbs cancel it);
- hedges ("slightly", "somewhat", "a bit") are kept: the emotion still counts.
"""

from __future__ import annotations

import re

from affectllm.emotions.vocabulary import EmotionVocabulary, default_vocabulary, surface_key

NEGATORS = frozenset(
    "not no never without nor neither none nothing hardly cannot lack lacks lacking lacked absence absent".split()
)
# Two-word negators, keyed by their first word.
NEGATOR_PAIRS = {"rather": "than", "instead": "of", "free": "of", "devoid": "of"}
CLAUSE_BREAKS = frozenset("but yet although though however whereas while except".split())
# "cannot hide her anger" asserts the anger: these verbs undo a pending negation.
CONCEALMENT = frozenset(
    "hide hides hiding hid conceal conceals concealing concealed mask masks masking masked suppress "
    "suppresses suppressing suppressed contain contains containing contained help disguise disguises "
    "disguising".split()
)
NEGATION_REACH = 3  # words allowed between a negator and the emotion it negates

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[^\sa-z0-9']")


def is_word(token: str) -> bool:
    return token[0].isalnum()


def lexicon_emotions(text: str, vocabulary: EmotionVocabulary | None = None) -> list[str]:
    """Canonical emotion words mentioned (and not negated) in ``text``.

    Order of first appearance, no duplicates. Example::

        lexicon_emotions("She seems slightly anxious but clearly not angry; frustration builds.")
        -> ["anxious", "frustrated"]
    """
    vocab = vocabulary or default_vocabulary()
    tokens = TOKEN.findall(surface_key(text or ""))
    found: list[str] = []
    reach = 0  # > 0 while a negation is pending: how many more words it may skip
    carry = False  # the previous emotion was negated: "or"/"nor" extends the negation
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if not is_word(tok) or tok in CLAUSE_BREAKS:
            reach, carry = 0, False
            i += 1
            continue
        if tok in ("or", "nor") and carry:
            reach, carry = NEGATION_REACH, False
            i += 1
            continue
        carry = False
        if tok in NEGATORS or tok.endswith("n't"):
            if not (tok == "not" and i + 1 < n and tokens[i + 1] == "only"):
                reach = NEGATION_REACH + 1
                i += 1
                continue
        if tok in NEGATOR_PAIRS and i + 1 < n and tokens[i + 1] == NEGATOR_PAIRS[tok]:
            reach = NEGATION_REACH + 1
            i += 2
            continue
        if tok in CONCEALMENT:
            reach = 0
        word, width = vocab.match_at(tokens, i)
        if word is not None:
            if reach > 0:
                carry = True
            elif word not in found:
                found.append(word)
            reach = 0
            i += width
            continue
        reach = max(reach - 1, 0)
        i += 1
    return found
