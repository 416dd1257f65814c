"""Verifiable rewards for GRPO: pure functions of a sample, its gold fields and one parsed completion.

Every reward is ``fn(sample, completion, context) -> float | None``; ``None``
means "not applicable to this sample" (no gold field, no cues), which counts as
0 in the total reward and is left out of the logged mean. Because all G
completions of a group share their sample, a reward that does not apply is
constant within the group and moves no advantage.

=========== ================================= ==============================================
reward      gold it needs                     value
=========== ================================= ==============================================
wheel_f1    ``emotions`` (open vocabulary)    emotion-wheel F1 of the answer's emotions, as
                                              ``affectllm eval ov`` scores one sample
label_hit   ``label`` (basic label)           hit of the label among the answer's emotions,
                                              as ``affectllm eval basic`` scores one sample
format      (none)                            1 when the answer follows the template, ended
                                              with EOS and stays within the length cap
grounded    the sample's cues                 share of the cues the answer cites that exist
                                              in its cue record (``affectllm eval grounding``)
vad         ``vad`` on its ``vad_scale``      1 - mean |predicted - gold| / 2 on [-1, 1] over
            (or plain ``valence`` ...)        the dimensions both rate; the prediction is the
                                              dimensional head's reading at the completion's
                                              answer marker (``model.vad_head.source:
                                              llm_last``), so it differs between completions
=========== ================================= ==============================================

``wheel_f1`` and ``label_hit`` score in the label space of ``affectllm eval``:
the official MER-UniBench wheels when ``train.grpo.wheel_dir`` is set, our
vocabulary (``train.grpo.level``) otherwise, so a reward is exactly the eval
score of that one answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from affectllm.eval.grounding import cited_cues, flatten_cues
from affectllm.eval.open_vocab import LabelSpace, hit_rate_scores, ov_scores
from affectllm.eval.wheel import parse_label_list
from affectllm.reasoning import ParsedAnswer, parse_emotion_list


@dataclass(frozen=True)
class Completion:
    """One sampled answer: its text, how the template's parser reads it, and how it ended."""

    text: str  # decoded completion, special tokens dropped
    parsed: ParsedAnswer
    num_tokens: int  # completion tokens, the EOS included
    finished: bool  # ended with EOS before max_new_tokens
    vad: Mapping[str, float] | None = None  # dimension -> rating on [-1, 1] from the dimensional head


@dataclass(frozen=True)
class RewardContext:
    """What the rewards need besides the sample and the completion (fixed for a run)."""

    template: str  # model.prompt: the layout answers are asked in and parsed with
    space: LabelSpace  # official wheels or our vocabulary
    format_max_tokens: int | None = None
    cues: Mapping[str, str] = field(default_factory=dict)  # sample id -> flattened cue record (flatten_cues)


RewardFn = Callable[[Mapping[str, Any], Completion, RewardContext], "float | None"]


def _maps(space: LabelSpace, items: list[str]) -> bool:
    return any(space.map_set(items, view) for view in range(space.n_views))


def wheel_f1(sample: Mapping[str, Any], completion: Completion, ctx: RewardContext) -> float | None:
    """Emotion-wheel F1 of the answer against the sample's open-vocabulary ``emotions`` (None without them)."""
    gold = [str(x) for x in parse_label_list(sample.get("emotions"))]
    if not gold or not _maps(ctx.space, gold):
        return None
    return ov_scores([gold], [list(completion.parsed.emotions)], ctx.space).ov()["f1"]


def label_hit(sample: Mapping[str, Any], completion: Completion, ctx: RewardContext) -> float | None:
    """1 when the sample's basic ``label`` is among the answer's emotions (per wheel, averaged), else 0."""
    label = sample.get("label")
    gold = [str(x) for x in parse_label_list(label)] if label is not None else []
    if not gold or not _maps(ctx.space, gold):
        return None
    return hit_rate_scores([gold], [list(completion.parsed.emotions)], ctx.space).basic()["hit_rate"]


# --------------------------------------------------------------------------- format

_THINK_ANSWER = re.compile(r"\s*<think>(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*",
                           re.DOTALL | re.IGNORECASE)
# The labelled line that carries the emotion list in each template's target (prompts/*.yaml).
_LIST_LINE = {
    "emer": r"emotions?", "hef_hint": r"emotions?", "expllm": r"expression", "chain_of_empathy": r"emotions?",
    "emotion_cause": r"emotions?",
}


def follows_template(template: str, text: str, parsed: ParsedAnswer) -> bool:
    """Whether ``text`` has the structure ``template`` asks for.

    ``think_answer``: exactly ``<think>…</think><answer>…</answer>`` with non-empty reasoning and an emotion list
    in the answer. Labelled templates: the labelled emotion line of the template plus at least one reasoning
    part, as the parser reads them. ``affectgpt_hybrid`` (a free description or the label sentence): an answer
    the parser reads emotions from.
    """
    if template == "think_answer":
        m = _THINK_ANSWER.fullmatch(text)
        return bool(m and m.group("think").strip() and parse_emotion_list(m.group("answer")))
    if not parsed.ok:
        return False
    label = _LIST_LINE.get(template)
    if label is None:
        return True
    has_list = re.search(rf"^[ \t#*>-]*(?:final[ \t]+)?{label}[ \t*]*[:：][ \t*]*\S", text, re.IGNORECASE | re.MULTILINE)
    return bool(has_list) and any(parsed.sections[k].strip() for k in ("observations", "interpretation", "conclusion"))


def format_reward(sample: Mapping[str, Any], completion: Completion, ctx: RewardContext) -> float:
    """1 when the completion ended (EOS), is within ``format_max_tokens`` and follows the template, else 0."""
    if not completion.finished:
        return 0.0
    if ctx.format_max_tokens is not None and completion.num_tokens > ctx.format_max_tokens:
        return 0.0
    return 1.0 if follows_template(ctx.template, completion.text, completion.parsed) else 0.0


# --------------------------------------------------------------------------- evidence and dimensions

def grounded(sample: Mapping[str, Any], completion: Completion, ctx: RewardContext) -> float | None:
    """Share of the cues the answer cites that exist in the sample's cue record; 0 when it cites none.

    The cue record comes from ``train.grpo.cues`` (by sample id) or the sample's own ``cues`` field; a sample
    with neither gets None. Citing is read as ``affectllm eval grounding`` reads it (quoted spans, cue concepts).
    """
    cue_text = ctx.cues.get(str(sample.get("id")))
    if cue_text is None and sample.get("cues"):
        cue_text = flatten_cues(sample["cues"])
    if not cue_text:
        return None
    pairs = cited_cues(completion.parsed.explanation or completion.text, cue_text)
    return sum(ok for _, ok in pairs) / len(pairs) if pairs else 0.0


VAD_RANGE = 2.0  # ratings compared on the unit scale [-1, 1]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def vad(sample: Mapping[str, Any], completion: Completion, ctx: RewardContext) -> float | None:
    """1 - mean over dimensions of |predicted - gold| / 2 on [-1, 1], for the dimensions both sides have (None
    if none). Gold is the sample's ratings mapped from their own scale (``affectllm.core.dimensions.unit_targets``)."""
    from affectllm.core.dimensions import unit_targets

    if not completion.vad:
        return None
    gaps = []
    for dim, gold in unit_targets(sample, f"sample {sample.get('id', '?')!r}").items():
        pred = completion.vad.get(dim)
        if _finite(pred):
            gaps.append(min(abs(float(pred) - gold) / VAD_RANGE, 1.0))
    return 1.0 - sum(gaps) / len(gaps) if gaps else None


REWARDS: dict[str, RewardFn] = {
    "wheel_f1": wheel_f1,
    "label_hit": label_hit,
    "format": format_reward,
    "grounded": grounded,
    "vad": vad,
}
# The gold fields each reward reads (any one will do), for the start-up check that a manifest can feed it.
GOLD_FIELDS = {"wheel_f1": ("emotions",), "label_hit": ("label",), "vad": ("vad", "valence", "arousal", "dominance")}


def score(sample: Mapping[str, Any], completion: Completion, ctx: RewardContext,
          names: list[str]) -> dict[str, float | None]:
    """Every named reward of one completion."""
    return {name: REWARDS[name](sample, completion, ctx) for name in names}


def total_reward(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> float:
    """Weighted sum; a reward that does not apply (None) adds nothing."""
    return sum(weights[name] * value for name, value in scores.items() if value is not None)
