"""The question a checkpoint was trained to answer, recorded with it and asked again at inference.

A model fine-tuned on one question ("Which emotions does the character show? Answer with one
sentence: ...") answers that question, not another template's: asked a description question, a
label-trained model repeats fragments of it. So `affectllm train` writes into ``training.json``
(``"questions"``) what its manifests asked and how the answers were written::

    {"samples": 9989, "distinct": 1,
     "prompts": [{"text": "Which emotions does the character show? ...", "count": 9989}],
     "styles": [{"style": "affectgpt_hybrid", "count": 9989}],
     "answer_tokens": {"max": 14}}

``prompts`` are the distinct last user turns without media tags, most common first (the first
``SHOWN``); ``styles`` the manifests' ``style`` fields (the template whose parser reads the
answers); ``answer_tokens`` the length of the trained answers in the model's tokens.
``explain``, ``caption --model`` and the demo (``affectllm.caption.checkpoint_backend``) ask
``default_question`` of such a checkpoint; a checkpoint without the record keeps its template.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

from affectllm.core.manifest import MEDIA_TAG_RE, prompt_turns

QUESTIONS_KEY = "questions"
SHOWN = 5
# The most common prompt is the checkpoint's question only when it is what most samples asked; prompts that
# differ per sample (each holding its own cues) are no question to ask of another input.
MAJORITY = 0.5
# Answers whose length is measured: the longest by characters are the longest in tokens too, near enough.
MEASURED_ANSWERS = 256


@dataclass(frozen=True)
class TrainedQuestion:
    """What a checkpoint was trained on: ``text`` (None when no prompt dominated) and ``style``."""

    text: str | None
    style: str | None


def question_text(sample: dict[str, Any]) -> str | None:
    """A manifest sample's question: its last user turn, media tags removed (inference sets its own)."""
    turns = [t for t in prompt_turns(sample) if t.get("role") == "user"]
    if not turns or not isinstance(turns[-1].get("content"), str):
        return None
    return MEDIA_TAG_RE.sub("", turns[-1]["content"]).strip() or None


def _answer(sample: dict[str, Any]) -> str:
    messages = sample.get("messages") or []
    return next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "assistant"), "")


def answer_tokens(samples: list[dict[str, Any]], tokenizer) -> dict[str, int] | None:
    """``{"max"}``: the longest trained answer in tokens (None without answers)."""
    answers = sorted((a for a in map(_answer, samples) if a), key=len, reverse=True)[:MEASURED_ANSWERS]
    if not answers:
        return None
    return {"max": max(len(ids) for ids in tokenizer(answers, add_special_tokens=False)["input_ids"])}


def summarize_questions(samples: Iterable[dict[str, Any]], tokenizer=None) -> dict[str, Any]:
    """The ``"questions"`` record of ``training.json`` for the training ``samples`` (module docstring)."""
    samples = list(samples)
    prompts = Counter(q for q in map(question_text, samples) if q is not None)
    styles = Counter(str(s["style"]) for s in samples if s.get("style"))
    out: dict[str, Any] = {
        "samples": len(samples), "distinct": len(prompts),
        "prompts": [{"text": q, "count": n} for q, n in prompts.most_common(SHOWN)],
        "styles": [{"style": s, "count": n} for s, n in styles.most_common()],
    }
    if tokenizer is not None:
        out["answer_tokens"] = answer_tokens(samples, tokenizer)
    return out


def default_question(training_record: dict[str, Any] | None) -> TrainedQuestion | None:
    """The question and answer style to ask a checkpoint by default, from its ``training.json`` (None when it
    records none: an older checkpoint, asked its template's question as before)."""
    record = (training_record or {}).get(QUESTIONS_KEY)
    if not isinstance(record, dict) or not record.get("samples"):
        return None
    prompts = [p for p in record.get("prompts") or [] if isinstance(p, dict) and isinstance(p.get("text"), str)]
    styles = [s for s in record.get("styles") or [] if isinstance(s, dict) and isinstance(s.get("style"), str)]
    text = None
    if prompts and int(prompts[0].get("count") or 0) >= MAJORITY * int(record["samples"]):
        text = prompts[0]["text"]
    style = styles[0]["style"] if styles else None
    return TrainedQuestion(text, style) if text or style else None


def trained_answer_tokens(training_record: dict[str, Any] | None) -> int | None:
    """The longest answer (in tokens) a checkpoint was trained to give, when its ``training.json`` says."""
    record = ((training_record or {}).get(QUESTIONS_KEY) or {}).get("answer_tokens") or {}
    value = record.get("max") if isinstance(record, dict) else None
    return int(value) if isinstance(value, int) and value > 0 else None
