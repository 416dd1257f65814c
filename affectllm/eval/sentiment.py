"""Sentiment scores (MER-UniBench CMU-MOSI/MOSEI/SIMS style): accuracy and weighted F1 on polarity.

Official rule (reference ``evaluation-scoreonly.py``): the prediction string
"positive" -> 1, "negative" -> -1, anything else (including "neutral") -> 0;
samples with gold valence exactly 0 are dropped; then y_true = gold > 0 and
y_pred = value > 0. Quirk reproduced: a "neutral" (or unparseable)
prediction counts as a *negative* prediction, so it is right on every
negative sample.

Strict variant (``strict=True``): the same samples, but a prediction that is
neither "positive" nor "negative" is its own class and is always wrong, and
case and surrounding spaces of the prediction string are ignored.
"""

from __future__ import annotations

from typing import Any, Sequence

from affectllm.emotions import EmotionVocabulary
from affectllm.eval.classification import accuracy, weighted_f1

POLARITY = {"positive": 1, "negative": -1}


def polarity_of_emotions(emotions: list[str], vocabulary: EmotionVocabulary) -> str:
    """'positive' / 'negative' / 'neutral' from the mean valence of the known emotion words."""
    values = [v for v in (vocabulary.valence(e) for e in emotions) if v is not None]
    mean = sum(values) / len(values) if values else 0.0
    return "positive" if mean > 0 else "negative" if mean < 0 else "neutral"


def prediction_polarity(rec: dict[str, Any] | None, emotions: list[str], vocabulary: EmotionVocabulary) -> str:
    """The sentiment string of a prediction: its ``sentiment`` field, else derived from its emotions."""
    if rec is not None and rec.get("sentiment") is not None:
        return str(rec["sentiment"])
    return polarity_of_emotions(emotions, vocabulary)


def sentiment_scores(gold_valence: Sequence[float], pred_sentiment: Sequence[str], strict: bool = False) -> dict[str, float]:
    """``{"waf", "acc"}`` over samples with non-zero gold valence."""
    y_true, y_pred = polarity_pairs(gold_valence, pred_sentiment, strict)
    return {"waf": weighted_f1(y_true, y_pred), "acc": accuracy(y_true, y_pred)}


def polarity_pairs(gold_valence: Sequence[float], pred_sentiment: Sequence[str],
                   strict: bool = False) -> tuple[list[bool], list[bool | None]]:
    """(gold is positive, prediction is positive) per sample with non-zero gold valence, as scored (strict:
    None for a prediction that is neither positive nor negative)."""
    y_true, y_pred = [], []
    for valence, sentiment in zip(gold_valence, pred_sentiment):
        valence = float(valence)
        if valence == 0:
            continue
        if not isinstance(sentiment, str):
            value = 0
        elif strict:
            value = POLARITY.get(sentiment.lower().strip(), 0)
        else:
            # The reference compares the raw string: "Positive" or " positive" is not positive.
            value = POLARITY.get(sentiment, 0)
        y_true.append(valence > 0)
        if strict:
            y_pred.append(value > 0 if value != 0 else None)
        else:
            y_pred.append(value > 0)
    return y_true, y_pred
