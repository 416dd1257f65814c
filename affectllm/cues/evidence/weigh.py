"""The deterministic answer: channel evidence weighed by reliability -> emotions, sentiment and an explanation.

Every channel (``affectllm.cues.evidence.channels``) gives a distribution over the
vocabulary's emotion families and a trust (reliability x how much of the clip it
could read). Neutral is the absence of evidence, not a vote: each channel sees
emotion family f with probability trust x p(f), an emotion's score is the chance
that at least one channel sees it (a noisy-OR), and neutral's score is the chance
that no channel sees any emotion. So neutral words, silence or no face leave an
emotion that another channel sees clearly standing, while a channel that reads
neutral with confidence and no other evidence still answers neutral (with a single
channel the ranking is that channel's own). The voice's prosody rules only
strengthen families another channel reads. An emotion is named only when its score
reaches ``MIN_EVIDENCE`` and beats neutral's. The top family comes first; further
families follow when they reach ``KEEP_RATIO`` of the top score (up to ``MAX_EMOTIONS``). Each family is named by the word a channel
used for it, a word said outright first; words beyond the text and face
classes (tired, calm, frustrated...) therefore appear only when a channel
named them.

The explanation cites the supporting cues after "Evidence:" and, separately,
those that point elsewhere after "Disagreeing:". ``vad`` holds the dimensions
the evidence reads: valence when a channel reads a sentiment, arousal when a
voice was heard (prosody); dominance is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from affectllm.cues.evidence.channels import Channel, cue_channels
from affectllm.cues.evidence.describe import clue_texts
from affectllm.cues.evidence.prosody_rules import voice_arousal

MIN_EVIDENCE = 0.15  # an emotion on top with a lower score is not named: the answer is neutral
NEUTRAL_AT = 0.5  # neutral comes first when no channel sees any emotion with at least this chance
KEEP_RATIO = 0.25  # further families are named when scoring at least this share of the top one
MAX_EMOTIONS = 3
WEAK_WEIGHT = 0.1  # a channel under this weight is cited as weak
VALENCE_NEUTRAL = 0.1  # a valence this close to 0 states a neutral tone


@dataclass
class FusedAnswer:
    emotions: list[str]
    valence: float  # [-1, 1]
    arousal: float  # [-1, 1], from the voice
    scores: dict[str, float]  # named word -> its family's score
    sentiment: str = "neutral"  # negative | neutral | positive
    families: dict[str, float] = field(default_factory=dict)  # family -> score, best first
    named_families: list[str] = field(default_factory=list)  # the families of ``emotions``, in order
    vad: dict[str, float] = field(default_factory=dict)  # valence / arousal on [-1, 1], where a channel reads them
    channels: list[Channel] = field(default_factory=list)
    reasoning: dict[str, str] = field(default_factory=dict)
    explanation: str = ""

    @property
    def top_family(self) -> str:
        return self.named_families[0] if self.named_families else "neutral"

    def backers(self, family: str) -> list[Channel]:
        """The channels an explanation cites for ``family``: those that support it, else the one that gives it
        the most evidence, so every emotion named has a cue behind it."""
        found = [c for c in self.channels if c.supports(family)]
        if found or family == "neutral":
            return found
        givers = [c for c in self.channels if not c.modulates and c.dist.get(family, 0.0) > 0]
        return [max(givers, key=lambda c: c.trust * c.dist[family])] if givers else []

    @property
    def support(self) -> list[Channel]:
        """Channels behind the answer: each backs one of the named families."""
        behind = {id(c) for f in self.named_families for c in self.backers(f)}
        return [c for c in self.channels if id(c) in behind]

    @property
    def against(self) -> list[Channel]:
        return [c for c in self.channels if c not in self.support]


def _seen(score: float, evidence: float) -> float:
    """Noisy-OR: the chance that ``score``'s channels or one more seeing with probability ``evidence`` see it."""
    return 1.0 - (1.0 - score) * (1.0 - min(1.0, evidence))


def family_scores(channels: list[Channel]) -> dict[str, float]:
    """family -> score in [0, 1] (see the module docstring); best first (ties by name).

    A modulating channel (the voice: it says how aroused, not which emotion) only
    strengthens emotion families the other channels already read.
    """
    emotions: dict[str, float] = {}
    nothing = 1.0  # the chance that no channel sees any emotion
    for c in channels:
        if c.modulates:
            continue
        sees = {f: c.trust * p for f, p in c.dist.items() if f != "neutral"}
        for family, evidence in sees.items():
            emotions[family] = _seen(emotions.get(family, 0.0), evidence)
        nothing *= 1.0 - min(1.0, sum(sees.values()))
    read = {f for f, s in emotions.items() if s > 0}
    for c in channels:
        if c.modulates:
            for family in read & set(c.dist):
                emotions[family] = _seen(emotions[family], c.weight * c.dist[family])
    scores = {"neutral": nothing, **emotions}
    return dict(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))


def name_families(families: dict[str, float], channels: list[Channel]) -> list[tuple[str, str]]:
    """[(family, word)] to report: the top family, then those within KEEP_RATIO of it; neutral only on top.

    Neutral is on top when the chance that no channel sees an emotion reaches NEUTRAL_AT, or when the best
    emotion has less than MIN_EVIDENCE; otherwise the best emotion is. A family is named by the words said
    outright for it, else by the word of its strongest channel.
    """
    nothing = families.get("neutral", 1.0)
    emotions = [(f, s) for f, s in families.items() if f != "neutral"]
    if not emotions or emotions[0][1] < MIN_EVIDENCE:
        return [("neutral", "neutral")]
    ranked = [("neutral", nothing)] + emotions if nothing >= NEUTRAL_AT else emotions
    top_score = ranked[0][1]
    # A further family needs its share from channels of weight: weak ones and the voice only add to it.
    firm = family_scores([c for c in channels if c.weight >= WEAK_WEIGHT and not c.modulates])
    kept = [ranked[0][0]] + [f for f, s in ranked[1:] if f != "neutral" and s >= KEEP_RATIO * top_score
                             and firm.get(f, 0.0) >= KEEP_RATIO * top_score]
    out: list[tuple[str, str]] = []
    for family in kept:
        said = next((c.words[family] for c in channels if c.key == "said" and family in c.words), None)
        strongest = max((c for c in channels if family in c.words and family in c.dist),
                        key=lambda c: c.weight * c.dist[family], default=None)
        for word in (said or (strongest.words[family] if strongest else family)).split(", "):
            if word not in (w for _, w in out):
                out.append((family, word))
    return out[:MAX_EMOTIONS]


def fused_sentiment(channels: list[Channel]) -> tuple[str, float]:
    """(negative|neutral|positive, valence in [-1, 1]) from the channels that read a sentiment."""
    total = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
    weight = 0.0
    for c in channels:
        if c.sentiment:
            for k in total:
                total[k] += c.weight * c.sentiment.get(k, 0.0)
            weight += c.weight
    if weight <= 0:
        return "neutral", 0.0
    valence = (total["positive"] - total["negative"]) / weight
    return max(total, key=total.get), round(max(-1.0, min(1.0, valence)), 3)


def fuse(cues: dict) -> FusedAnswer:
    channels = cue_channels(cues)
    families = family_scores(channels)
    named = name_families(families, channels)
    sentiment, valence = fused_sentiment(channels)
    voice = cues.get("voice") or {}
    arousal = voice_arousal(voice).arousal
    vad = ({"valence": valence} if any(c.sentiment and c.weight > 0 for c in channels) else {}) | (
        {"arousal": arousal} if voice.get("present") else {})
    answer = FusedAnswer(
        emotions=[w for _, w in named], valence=valence, arousal=arousal, vad=vad,
        scores={w: round(families[f], 3) for f, w in named}, sentiment=sentiment,
        families={f: round(s, 3) for f, s in families.items()}, named_families=list(dict.fromkeys(f for f, _ in named)),
        channels=channels)
    answer.reasoning, answer.explanation = explain(cues, answer)
    return answer


def _cite(c: Channel, answer: FusedAnswer | None = None) -> str:
    """A channel's phrase; for each named family it backs other than its own top, that family's share too."""
    text = c.phrase
    for family in answer.named_families if answer is not None else []:
        if family != c.top and family != "neutral" and c in answer.backers(family) and c.key in ("text", "face"):
            text += f", {c.words[family]} p={c.dist[family]:.2f}"
    return text + ("; weak evidence" if c.weight < WEAK_WEIGHT else "")


def tone(valence: float) -> str:
    """The tone a valence states: negative, neutral (within VALENCE_NEUTRAL of 0) or positive."""
    return "positive" if valence > VALENCE_NEUTRAL else "negative" if valence < -VALENCE_NEUTRAL else "neutral"


def _nothing_found(cues: dict) -> str:
    """What the clip lacked, as found: no channel read anything."""
    face, speech, voice = (cues.get(k) or {} for k in ("face", "speech", "voice"))
    missing = ["the video was left out" if face.get("left_out") else
               "no face was found" if cues.get("has_video") else "there is no video"]
    if not cues.get("has_audio") or not voice.get("present"):
        missing.append("there is no audible sound" if cues.get("has_audio") else "there is no sound")
    elif not speech.get("present"):
        missing.append("the sound holds no recognisable speech")
    return "Nothing to read: " + ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1] + "."


def explain(cues: dict, answer: FusedAnswer) -> tuple[dict[str, str], str]:
    """The reasoning sections and a one-paragraph explanation citing concrete cues."""
    clues = clue_texts(cues)
    observations = "\n".join(f"{k.capitalize()} clues: {v}" for k, v in clues.items() if v)
    listed = ", ".join(answer.emotions)
    support, against = answer.support, answer.against
    if answer.top_family != "neutral":
        head = f"Most likely {listed}."
    elif len(answer.emotions) > 1:
        head = f"Most likely neutral, with weaker signs of {', '.join(answer.emotions[1:])}."
    else:
        head = "Most likely neutral: no cue points clearly to an emotion."
    parts = [head]
    if support:
        parts.append("Evidence: " + "; ".join(_cite(c, answer) for c in support) + ".")
    if against:
        parts.append("Disagreeing: " + "; ".join(f"{_cite(c)} (points to {c.reading})"
                                                   for c in against) + ".")
    if not answer.channels:
        parts.append(_nothing_found(cues))
    explanation = " ".join(parts)

    ranked = sorted(answer.channels, key=lambda c: -c.weight)
    steps = [f"the {c.key} channel ({c.modality}) reads {c.reading} with weight {c.weight:.2f}" for c in ranked]
    interpretation = ("; ".join(steps).capitalize() + "." if steps else "There is no usable evidence.")
    if against and ranked[0] in support:
        interpretation += (f" The {ranked[0].key} channel outweighs "
                           + ", ".join(f"the {c.key} channel" for c in against) + ".")
    conclusion = (f"The person most likely feels {listed}; the overall tone is {tone(answer.valence)} "
                  f"(valence {answer.valence:+.2f}).")
    return {"observations": observations, "interpretation": interpretation, "conclusion": conclusion}, explanation
