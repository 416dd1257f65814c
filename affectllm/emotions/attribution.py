"""Whose emotion is it: the described person, the scene, or someone else?

A description names emotions of things that are not the person ("a tense
situation", "relaxed background music", "the atmosphere is serious") and of
other people ("which may make the listener feel uneasy", "the other
person's anger", "his friend is sad"). Only the person's own emotions count.

Checks, on the tokens of one unit around the mention ``tokens[i:j]``:

- **scene modifier**: the emotion word modifies a scene noun ("a tense and
  serious conversation", "relaxed background music", "the tension in the room");
- **scene or other subject**: the clause's subject, before its linking verb,
  is a scene noun ("the atmosphere is tense") or another person ("the
  listener may feel uneasy", "his wife seems angry");
- **causative**: "make(s) the listener feel X", "making the atmosphere tense";
- **possessive**: "the other person's anger", "her mother's sadness";
- **directive**: "cautioning the woman not to regret", "urges him to stay calm".

The first person ("I am so angry", "you make me nervous") is the speaker, so
transcripts keep their emotions.
"""

from __future__ import annotations

from affectllm.emotions.scope import clause_start

SELF, SCENE, OTHER = "self", "scene", "other"

SCENE_NOUNS = frozenset(
    """atmosphere atmospheres ambiance ambience music song songs melody soundtrack background backgrounds situation
    situations scene scenes setting settings environment environments surroundings room place topic topics
    conversation conversations dialogue dialogues dialog discussion discussions argument arguments debate exchange
    interaction interactions meeting gathering party occasion event events weather day news issue issues matter
    matters question questions problem problems story plot film movie show lighting colors colours color colour
    relationship process experience moment moments picture image footage period communication chat talk content
    contents""".split()
)
OTHER_WORDS = frozenset(
    "other another others listener listeners audience audiences viewer viewers interlocutor interlocutors onlooker "
    "onlookers bystander bystanders opponent opponents recipient recipients else".split()
)
# People around the described person: "his friend", "her mother" (after a possessive pronoun).
RELATION_NOUNS = frozenset(
    """friend friends mother father mom dad mum parents parent wife husband son daughter sons daughters brother
    sister brothers sisters boss colleague colleagues coworker coworkers partner boyfriend girlfriend child children
    kid kids family grandfather grandmother grandpa grandma teacher classmate classmates roommate neighbor
    neighbour lover fiance fiancee uncle aunt cousin""".split()
)
POSSESSIVE_PRONOUNS = frozenset("his her their its".split())
LINKING_VERBS = frozenset(
    """is are was were be been being am seems seem seemed appears appear appeared looks look looked feels feel felt
    becomes become became becoming remains remain remained sounds sound sounded gets get got grows grew turns turned
    shows show showed displays display displayed expresses express expressed conveys convey conveyed reveals
    revealed has have had""".split()
)
# Verbs that tell someone else what to feel or do: an emotion in their "to ..." complement is the addressee's.
DIRECTIVES = frozenset(
    """advise advises advised advising warn warns warned warning caution cautions cautioned cautioning urge urges
    urged urging tell tells told telling ask asks asked asking remind reminds reminded reminding encourage
    encourages encouraged encouraging persuade persuades persuaded persuading""".split()
)
CAUSATIVES = frozenset(
    "make makes made making cause causes caused causing leave leaves leaving left render renders rendering".split()
)
# Between a scene noun's modifier and the noun: other modifiers and coordination.
MODIFIER_GAP = frozenset(
    (",", "and", "or", "overall", "whole", "general", "slightly", "somewhat", "very", "quite", "rather", "more", "most")
)
# Function words and verbs that end a noun phrase: an emotion word before them is not a scene modifier.
CLOSED_CLASS = frozenset(
    """the a an this that these those his her their its my your our he she they it i you we him them me us who
    which what when where while whom whose how why if because since as than then so but yet although though
    and or nor to of in on at by for from with without about into onto over under after before during through
    throughout toward towards against among between within upon is are was were be been being am do does did
    has have had will would can could may might must shall should not no never very also still just even
    seems seem seemed appears appear appeared looks look looked feels feel felt becomes become became
    makes make made shows show showed""".split()
)
# Prepositions after an emotion noun that place it in a scene ("the tension in the room").
PLACE_PREPOSITIONS = frozenset("in of within throughout during".split())
# Adjectives between a possessive and its emotion noun ("his own deep sadness" keeps one of them).
NOUN_MODIFIERS = frozenset("own deep obvious evident visible growing strong slight great clear apparent inner".split())
# Modals and adverbs between a subject and its verb ("the listener may also feel").
SUBJECT_SKIP = frozenset(
    "may might can could will would should must also still to not clearly obviously really further even then".split()
)
# Words a subject noun phrase does not reach back over.
NP_STOPS = frozenset(
    """and or nor with to at for from about on in into by of as than that who whom whose which when where if
    because so then""".split()
)
DETERMINERS = frozenset("the a an this that these those its entire whole overall".split())


def _base(token: str) -> str:
    return token[:-2] if token.endswith("'s") else token


def _np_kind(np: list[str]) -> str:
    """Kind of a short noun phrase: OTHER when it names another person, SCENE when its head is a scene noun."""
    for k, tok in enumerate(np):
        base = _base(tok)
        if base in OTHER_WORDS:
            return OTHER
        if base in RELATION_NOUNS and k > 0 and np[k - 1] in POSSESSIVE_PRONOUNS:
            return OTHER
    if np and _base(np[-1]) in SCENE_NOUNS:
        return SCENE
    return SELF


def _modifies_scene(tokens: list[str], j: int, vocab_hit) -> bool:
    """The mention ``tokens[..j]`` modifies a scene noun: "a tense and serious conversation", "a relaxed and
    pleasant social gathering" (up to two other open-class words between), "relaxed background music"."""
    k, n = j, len(tokens)
    other_words = 0
    while k < n and k < j + 5:
        tok = tokens[k]
        if tok in SCENE_NOUNS:
            return True
        if tok in MODIFIER_GAP or vocab_hit(tok):
            k += 1
            continue
        if tok in CLOSED_CLASS or not tok[0].isalpha() or other_words == 2:
            return False
        other_words += 1
        k += 1
    return False


def _placed_in_scene(tokens: list[str], i: int, j: int, vocab_hit) -> bool:
    """ "the tension of the situation", "the tension in the room": emotion noun + preposition + scene noun.

    "in" needs a determiner before the noun: in "expressing anger in this conversation" the
    conversation is where the person feels it, not what is angry.
    """
    if j >= len(tokens) or tokens[j] not in PLACE_PREPOSITIONS:
        return False
    if tokens[j] != "of" and not (i > 0 and tokens[i - 1] in DETERMINERS):
        return False
    k = j + 1
    while k < len(tokens) and k <= j + 4 and (tokens[k] in DETERMINERS or tokens[k] in MODIFIER_GAP or vocab_hit(tokens[k])):
        k += 1
    return k < len(tokens) and tokens[k] in SCENE_NOUNS


def attribute(tokens: list[str], i: int, j: int, vocab_hit) -> str:
    """SELF, SCENE or OTHER for the mention ``tokens[i:j]``; ``vocab_hit(token)`` says whether a token is an emotion word."""
    if _modifies_scene(tokens, j, vocab_hit) or _placed_in_scene(tokens, i, j, vocab_hit):
        return SCENE
    start = clause_start(tokens, i)
    # Possessive determiner of the emotion noun: "the other person's anger", "her mother's deep sadness".
    k = i - 1
    if k > start and tokens[k] in NOUN_MODIFIERS:
        k -= 1
    if k >= start and (tokens[k].endswith("'s") or (tokens[k] == "others" and k == i - 1)):  # "others' pain"
        return _np_kind(tokens[max(start, k - 2) : k + 1])
    # Directive: "cautioning the woman not to regret", "urges his friend to stay calm": the addressee's.
    for k in range(i - 1, start - 1, -1):
        if tokens[k] in DIRECTIVES:
            if "to" in tokens[k + 2 : i]:
                return OTHER
            break
    # Causative: "makes the listener feel uneasy", "making the atmosphere tense".
    for k in range(i - 1, start - 1, -1):
        if tokens[k] in CAUSATIVES:
            kind = _np_kind([t for t in tokens[k + 1 : i] if t not in ("feel", "feeling", "become", "seem", "more")])
            if kind != SELF:
                return kind
            break
    # Subject of the nearest linking verb: "the atmosphere is tense", "the listener may feel uneasy".
    for k in range(i - 1, start - 1, -1):
        if tokens[k] in LINKING_VERBS:
            return _np_kind(_subject_before(tokens, k, start))
    return SELF


def _subject_before(tokens: list[str], k: int, start: int) -> list[str]:
    """The noun phrase right before the verb ``tokens[k]``: back over modals and adverbs, then over words
    up to a conjunction, preposition or relative word ("... with the other person and seems" -> [])."""
    m = k
    while m > start and tokens[m - 1] in SUBJECT_SKIP:
        m -= 1
    first = m
    while first > max(start, m - 5) and tokens[first - 1] not in NP_STOPS and tokens[first - 1] not in LINKING_VERBS:
        first -= 1
    return tokens[first:m]
