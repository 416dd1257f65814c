"""Cues -> the cue-fusion answer; with an LLM chosen (opt-in), EMER prompt -> LLM -> parsed, validated answer.

Without ``--llm`` the deterministic cue-fusion rule answers. With one, the
model's answer is checked before it is used: its emotions must be
words of our vocabulary, must not contradict strong valence evidence, and its
reasoning must quote at least one concrete cue and not loop. An answer that
fails any check is replaced by the deterministic cue-fusion answer, and the
result says which path answered and why.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from affectllm.cues.evidence.weigh import FusedAnswer, fuse
from affectllm.cues.evidence.describe import cues_prompt_text
from affectllm.emotions import default_vocabulary

TEMPLATE = "emer"
SYSTEM = "You analyse emotions in video clips from the extracted evidence. Quote the evidence you use."
# The answer is started for the model so it follows the template's labelled layout.
ANSWER_PREFIX = "Visual clues:"
FUSION_MODEL = "cue-fusion"  # the record's ``model`` when the rule answered
STRONG_VALENCE = 0.3  # cue valence beyond which an LLM answer of the opposite sign is rejected
_EMOTIONS_LINE = re.compile(r"^\W*emotions?\s*:", re.I | re.M)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class ReasonedAnswer:
    emotions: list[str]
    reasoning: dict[str, str]
    explanation: str
    answered_by: str  # "llm" or "cue-fusion"
    valence: float
    extra: dict = field(default_factory=dict)
    model: str = ""  # what answered: FUSION_MODEL or the LLM's name


def _cited(text: str, cues: dict) -> bool:
    """Does ``text`` quote a concrete cue: an AU code, a number from the evidence, or a word said in the clip?"""
    evidence = cues_prompt_text(cues)
    if re.search(r"\bAU\d", text):
        return True
    numbers = set(_NUMBER.findall(evidence)) - {"0", "1"}
    if numbers & set(_NUMBER.findall(text)):
        return True
    hits = [h["word"] for h in (cues.get("text") or {}).get("hits", [])]
    return any(re.search(rf"\b{re.escape(w)}\b", text, re.I) for w in hits)


def _loops(text: str, n: int = 6) -> bool:
    """A run of ``n`` words said twice: small models fall into such loops, real reasoning rarely does."""
    words = re.findall(r"[a-z0-9+.]+", text.lower())
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return len(grams) != len(set(grams))


def validate(parsed, cues: dict, fused: FusedAnswer) -> tuple[list[str], str | None]:
    """Vocabulary emotions of a parsed answer and the reason it is unusable (None when usable)."""
    vocab = default_vocabulary()
    emotions = vocab.normalize_all(parsed.emotions)
    if not emotions:
        return [], "no emotion word of the vocabulary in the answer"
    # Emotion words picked out of unfinished prose are not an answer: the model must reach its list.
    if not _EMOTIONS_LINE.search(parsed.raw):
        return emotions, "the answer never states its emotion list"
    if not (parsed.sections.get("interpretation") or parsed.sections.get("conclusion")):
        return emotions, "the answer gives no reasoning or conclusion"
    body = " ".join(parsed.sections.values())
    if _loops(parsed.raw):
        return emotions, "the answer repeats itself"
    if not _cited(body, cues):
        return emotions, "the reasoning quotes no concrete cue"
    llm_valence = sum(vocab.valence(e) for e in emotions) / len(emotions)
    if abs(fused.valence) >= STRONG_VALENCE and llm_valence * fused.valence < 0:
        return emotions, f"emotions of valence {llm_valence:+.2f} contradict the cues ({fused.valence:+.2f})"
    return emotions, None


class CueReasoner:
    """Answers from cues: the cue-fusion rule, or an instruct LLM checked against it (``llm``: an ``--llm`` value)."""

    def __init__(self, llm: str | bool | None = None, max_new_tokens: int = 120):
        from affectllm.cues.llm import llm_choice

        self.llm_spec = llm_choice(llm)  # None: no LLM
        self.max_new_tokens = max_new_tokens

    @property
    def llm_name(self) -> str | None:
        from affectllm.cues.llm import llm_display_name

        return None if self.llm_spec is None else llm_display_name(self.llm_spec)

    def load(self) -> None:
        """Load the LLM now (cached), so a broken model fails before the first clip."""
        if self.llm_spec is not None:
            from affectllm.cues.llm import load_llm

            load_llm(self.llm_spec)

    def answer(self, cues: dict, subtitle: str | None = None) -> ReasonedAnswer:
        t = time.perf_counter()
        fused = fuse(cues)
        extra: dict = {"vad": fused.vad,
                       "cue_valence": fused.valence, "cue_arousal": fused.arousal, "cue_scores": fused.scores,
                       "sentiment": fused.sentiment, "cue_channels": [c.to_dict() for c in fused.channels],
                       "fusion_seconds": round(time.perf_counter() - t, 4)}
        if self.llm_spec is not None:
            from affectllm.cues.llm import load_llm
            from affectllm.reasoning.prompts import render_prompt
            from affectllm.reasoning import parse_output

            llm = load_llm(self.llm_spec)
            prompt = render_prompt(TEMPLATE, cues=cues_prompt_text(cues), subtitle=subtitle or "")
            t = time.perf_counter()
            raw = ANSWER_PREFIX + " " + llm.chat(SYSTEM, prompt, self.max_new_tokens, answer_prefix=ANSWER_PREFIX)
            extra["llm_seconds"] = round(time.perf_counter() - t, 3)
            extra["llm_raw"] = raw
            parsed = parse_output(TEMPLATE, raw)
            emotions, problem = validate(parsed, cues, fused)
            if problem is None:
                extra.pop("sentiment")  # the rule's polarity; the LLM's own emotions say theirs
                return ReasonedAnswer(emotions=emotions, reasoning=dict(parsed.sections),
                                      explanation=parsed.explanation, answered_by="llm", valence=fused.valence,
                                      extra=extra, model=llm.name)
            extra["llm_rejected"] = problem
        return ReasonedAnswer(emotions=fused.emotions, reasoning=fused.reasoning, explanation=fused.explanation,
                              answered_by="cue-fusion", valence=fused.valence, extra=extra, model=FUSION_MODEL)
