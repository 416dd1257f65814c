"""Gold labels as emotion words: our vocabulary's spelling or the annotators' own, and their mean valence."""

from __future__ import annotations

from typing import Iterable


def emotion_words(labels: Iterable[str]) -> list[str]:
    """Gold labels as vocabulary words where known (joy -> joyful), open-vocabulary words kept."""
    from affectllm.emotions import default_vocabulary

    vocab, out = default_vocabulary(), []
    for label in labels:
        word = vocab.normalize(label) or label.strip().lower()
        if word and word not in out:
            out.append(word)
    return out


def open_vocabulary_words(labels: Iterable[str]) -> list[str]:
    """Open-vocabulary gold labels as the annotators wrote them (spaces trimmed, repeats dropped): the
    evaluator maps each word through the emotion wheels or our vocabulary itself, and the official wheels
    look words up as written, so a word rewritten here ("tender" -> "affectionate") could score differently."""
    out: list[str] = []
    for label in labels:
        word = str(label).strip()
        if word and word not in out:
            out.append(word)
    return out


def label_valence(words: list[str]) -> float | None:
    """Mean vocabulary valence of the words that have one (for datasets without a valence rating)."""
    from affectllm.emotions import default_vocabulary

    vals = [v for v in (default_vocabulary().valence(w) for w in words) if v is not None]
    return round(sum(vals) / len(vals), 3) if vals else None
