"""Arousal from the voice: rules over rate, pitch range and contour, loudness trend and pauses.

The directions come from the reviews of vocal emotion expression, which agree
that the voice carries *arousal* well and *valence* poorly:

- Juslin, P. N. & Laukka, P. (2003). Communication of emotions in vocal
  expression and music performance: Different channels, same code?
  Psychological Bulletin 129(5), 770-814 (meta-analysis of 104 vocal studies).
- Scherer, K. R. (2003). Vocal communication of emotion: A review of research
  paradigms. Speech Communication 40(1-2), 227-256.
- Banse, R. & Scherer, K. R. (1996). Acoustic profiles in vocal emotion
  expression. Journal of Personality and Social Psychology 70(3), 614-636.

High-arousal states (anger, fear, joy) go with fast speech, loud and rising
intensity, high and variable pitch; low-arousal states (sadness, tiredness,
tenderness) with slow speech, many and long pauses, falling intensity, low,
monotonous and falling pitch. Each rule below is one of those directions;
the numeric thresholds are ours (where a direction turns into a notable
cue), set on clear cases and written next to the rule. Valence is left to
the face and the words.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = "Juslin & Laukka 2003; Scherer 2003; Banse & Scherer 1996"
NOTABLE_AROUSAL = 0.25  # |arousal| below this is not used as evidence


@dataclass(frozen=True)
class ProsodyRule:
    """One literature direction: when ``measure`` passes ``threshold`` (``above`` or not), arousal moves by ``delta``."""

    measure: str  # key in the voice cue dict
    above: bool
    threshold: float
    delta: float
    phrase: str  # how the cue reads, formatted with the value
    direction: str  # the literature's statement the rule encodes


RULES: tuple[ProsodyRule, ...] = (
    ProsodyRule("speaking_rate_wps", True, 3.5, +0.3, "fast speech ({:.1f} words/s)",
                "fast speech rate: anger, fear, joy"),
    ProsodyRule("speaking_rate_wps", False, 2.2, -0.3, "slow speech ({:.1f} words/s)",
                "slow speech rate: sadness, tenderness, tiredness"),
    ProsodyRule("pitch_range_semitones", True, 9.0, +0.25, "wide pitch range ({:.1f} semitones)",
                "large F0 variability: anger, joy, fear"),
    ProsodyRule("pitch_range_semitones", False, 4.0, -0.2, "monotone pitch ({:.1f} semitones range)",
                "small F0 variability: sadness, tenderness"),
    ProsodyRule("pitch_slope_st_per_s", False, -0.5, -0.2, "pitch falls {:.1f} semitones/s",
                "falling F0 contour: sadness"),
    ProsodyRule("pitch_slope_st_per_s", True, 0.5, +0.15, "pitch rises {:.1f} semitones/s",
                "rising F0 contour: anger, fear, joy"),
    ProsodyRule("loudness_change_db", False, -6.0, -0.25, "loudness falls {:.0f} dB over the clip",
                "decreasing intensity: sadness"),
    ProsodyRule("loudness_change_db", True, 6.0, +0.2, "loudness rises {:.0f} dB over the clip",
                "increasing intensity: anger"),
    ProsodyRule("pause_share", True, 0.25, -0.2, "pauses fill {:.0%} of the speaking time",
                "many and long pauses: sadness"),
)


@dataclass
class ArousalReading:
    """The voice's arousal in [-1, 1] and the rule phrases that moved it (as cited in explanations)."""

    arousal: float
    raised_by: list[str]
    lowered_by: list[str]

    @property
    def notable(self) -> bool:
        return abs(self.arousal) >= NOTABLE_AROUSAL

    @property
    def phrases(self) -> list[str]:
        return self.raised_by if self.arousal > 0 else self.lowered_by


def voice_arousal(voice: dict) -> ArousalReading:
    """Apply RULES to a voice cue dict (``affectllm.cues.extractors.voice.prosody_cues``)."""
    if not voice.get("present"):
        return ArousalReading(0.0, [], [])
    total, up, down = 0.0, [], []
    for rule in RULES:
        value = voice.get(rule.measure)
        if value is None or not (value > rule.threshold if rule.above else value < rule.threshold):
            continue
        total += rule.delta
        shown = abs(value) if "falls" in rule.phrase else value
        (up if rule.delta > 0 else down).append(rule.phrase.format(shown))
    return ArousalReading(round(max(-1.0, min(1.0, total)), 3), up, down)
