"""What the words around an emotion mention do to it: negation, comparatives, hedges, concealment.

Each check looks at the tokens of one unit (see
:mod:`affectllm.emotions.discourse`) around the mention ``tokens[i:j]`` and
never past a clause break (punctuation, "but", "although", "which", ...).

========================= ================================= =================
rule                      example                           effect
========================= ================================= =================
negation                  "not angry", "no sign of fear",   dropped
                          "without any trace of sadness",
                          "not entirely calm", "rather
                          than angry", "lack of confidence"
concealment undoes it     "cannot hide her anger"           kept
negation through or/nor   "neither angry nor sad"           both dropped
comparative               "less optimistic", "more           dropped
                          worried than angry" (angry)
wish, not feeling         "hopes to receive an answer"      dropped
display, not feeling      "tries to appear calm",           dropped
                          "pretends to be happy",
                          "may seem excited, but ...",
                          "although she looks relaxed"
earlier state             "from serious to relaxed",        weight x SOURCE
                          "initially happy", "anger turns
                          into sadness"
degree hedge              "slightly anxious", "a hint of    weight x HEDGE
                          sadness"
========================= ================================= =================
"""

from __future__ import annotations

from affectllm.emotions.lexicon import CLAUSE_BREAKS as LEXICON_CLAUSE_BREAKS
from affectllm.emotions.lexicon import CONCEALMENT as LEXICON_CONCEALMENT
from affectllm.emotions.lexicon import NEGATOR_PAIRS as LEXICON_NEGATOR_PAIRS
from affectllm.emotions.lexicon import NEGATORS

# The first-generation extractor's negation words, extended.
NEGATOR_PAIRS = {**LEXICON_NEGATOR_PAIRS, "far": "from"}  # keyed by their first word
CLAUSE_BREAKS = LEXICON_CLAUSE_BREAKS | {"because", "which", "unless"}
# "cannot hide her anger" asserts the anger: these verbs undo a pending negation.
CONCEALMENT = LEXICON_CONCEALMENT | frozenset("restrain restrains restraining control controls controlling".split())
CLAUSE_LOOKBACK = 12  # no rule looks further back than this; long clauses are cut here
NEGATION_REACH = 3  # counted words allowed between a negator and the emotion it negates
# Words that do not count toward the reach ("no obvious sign of anger", "not show any trace of fear").
REACH_FREE = frozenset(
    "any a an the much obvious clear real genuine apparent visible sign signs trace traces hint hints of".split()
)
# Trying, pretending, feigning: the emotion is displayed, not felt.
EFFORT = frozenset(
    """try tries tried trying attempt attempts attempted attempting pretend pretends pretended pretending strive
    strives striving struggle struggles struggling""".split()
)
DISPLAY = frozenset("appear seem look be stay remain keep sound act".split())
FEIGN = frozenset("feign feigns feigned feigning fake faked faking forced pretended false".split())
APPEARANCE = frozenset(
    "appear appears appeared appearing seem seems seemed seemingly look looks looked sound sounds sounded".split()
)
# Words that on their own say the emotion is only on the outside.
SURFACE = frozenset("outwardly superficially ostensibly".split())
MODALS = frozenset("may might could".split())
# Words of a correcting clause that say what is really felt ("..., but actually worried").
REALITY = frozenset("actually really truly inside inwardly underneath beneath deep fact".split())
CONCESSIVE = frozenset("although though despite".split())  # not "while"/"whereas": they contrast two people as often
CONTRAST = frozenset("but yet however though".split())
# A contrast followed by these adds a feeling instead of correcting the first ("happy, but also nervous").
ADDITIVE = frozenset("also too additionally".split())
WISH_VERBS = frozenset("hope hopes hoped hoping trust trusts".split())
CHANGE_VERBS = frozenset("turns turned turning changes changed changing shifts shifted gives gave gradually".split())
SOURCE_MARKERS = frozenset("initially originally previously formerly".split())
DEGREE_HEDGES = frozenset(
    "slightly somewhat mildly faintly relatively fairly bit little hint touch trace tinge slight".split()
)

SOURCE = 0.75  # weight of an earlier state ("from serious to relaxed": serious)
HEDGE = 0.8  # weight of a degree-hedged mention ("slightly anxious")


def is_break(token: str) -> bool:
    """Punctuation or a word that ends a clause."""
    return not token[0].isalnum() or token in CLAUSE_BREAKS


def clause_start(tokens: list[str], i: int) -> int:
    """Index of the first token of the clause holding ``tokens[i]`` (looking back at most ``CLAUSE_LOOKBACK``)."""
    k = i - 1
    floor = max(i - CLAUSE_LOOKBACK, 0)
    while k >= floor and not is_break(tokens[k]):
        k -= 1
    return k + 1


def clause_end(tokens: list[str], j: int) -> int:
    """Index one past the last token of the clause that continues after ``tokens[j-1]``."""
    k = j
    while k < len(tokens) and not is_break(tokens[k]):
        k += 1
    return k


def negated(tokens: list[str], i: int, floor: int = 0) -> bool:
    """Whether a negator within reach before ``tokens[i]`` negates it (same clause, no concealment verb between).

    The look-back stops at ``floor`` (the end of the previous emotion mention): "free of worry and
    relaxed" negates "worry" only.
    """
    counted = 0
    k = i - 1
    while k >= floor and counted <= NEGATION_REACH:
        tok = tokens[k]
        if is_break(tok):
            return False
        if tok in CONCEALMENT:
            return False
        if tok in NEGATORS or tok.endswith("n't"):
            return not (tok == "not" and k + 1 < len(tokens) and tokens[k + 1] == "only")
        if k >= 1 and NEGATOR_PAIRS.get(tokens[k - 1]) == tok:
            return True
        if tok not in REACH_FREE:
            counted += 1
        k -= 1
    return False


def comparative_less(tokens: list[str], i: int) -> bool:
    """ "less optimistic", "less and less patient", "least happy", "more worried than angry": less of the
    emotion (or the standard it is outdone by), not the emotion."""
    k = i - 1
    while k >= 0 and tokens[k] in ("and", "less", "least", "much", "far", "even", "than", "truly", "really", "actually"):
        if tokens[k] in ("less", "least", "than"):
            return True
        k -= 1
    return False


def displayed_not_felt(tokens: list[str], i: int, j: int) -> bool:
    """The emotion is put on or only apparent: "tries to appear calm", "pretends to be happy",
    "a forced calm", "although she looks relaxed, ...", "outwardly calm", and an appearance that
    is hedged or corrected later in the sentence ("may seem excited, but ...", "looks calm, but
    actually ..."). A plain "seems anxious but not angry" keeps "anxious"."""
    start = clause_start(tokens, i)
    window = tokens[max(start, i - 6) : i]
    if any(t in FEIGN for t in window[-2:]):
        return True
    for k, tok in enumerate(window):
        if tok in EFFORT and "to" in window[k + 1 :] and any(t in DISPLAY for t in window[k + 1 :]):
            return True
    near = window[-4:]
    if any(t in SURFACE for t in near) or (start + 2 < i and tokens[start : start + 3] == ["on", "the", "surface"]):
        return True
    if not any(t in APPEARANCE for t in near):
        return False
    if (start > 0 and tokens[start - 1] in CONCESSIVE) or tokens[start] in CONCESSIVE:
        return True
    # Is the appearance corrected after a contrast later in the sentence?
    k = clause_end(tokens, j)
    while k < len(tokens) and tokens[k] in (",", ";"):
        k += 1
    if k >= len(tokens) or tokens[k] not in CONTRAST or (k + 1 < len(tokens) and tokens[k + 1] in ADDITIVE):
        return False
    return any(t in MODALS for t in near) or any(t in REALITY for t in tokens[k + 1 : clause_end(tokens, k + 1) + 1][:8])


def wish_not_feeling(tokens: list[str], i: int, j: int) -> bool:
    """ "hopes to receive an answer", "hoping that the other person feels better": a verb of wanting with
    its complement names an intention, not a felt emotion ("full of hope", "hopeful" stay)."""
    return j - i == 1 and tokens[i] in WISH_VERBS and j < len(tokens) and tokens[j] in ("to", "that")


def state_weight(tokens: list[str], i: int, j: int) -> float:
    """Weight for an earlier state ("from X to ...", "initially X") and degree hedges ("slightly X")."""
    weight = 1.0
    start = clause_start(tokens, i)
    before = tokens[max(start, i - 6) : i]
    after = tokens[j : clause_end(tokens, j)][:8]
    if any(t in SOURCE_MARKERS for t in before):
        weight *= SOURCE
    elif "from" in before and ("to" in after or "into" in after):
        weight *= SOURCE
    elif after[:1] and after[0] in CHANGE_VERBS and ("to" in after[1:3] or "into" in after[1:3] or after[1:2] == ["way"]):
        weight *= SOURCE  # "his anger turns into sadness", "the calm gives way to panic"
    if any(t in DEGREE_HEDGES for t in before[-3:]):
        weight *= HEDGE
    return weight
