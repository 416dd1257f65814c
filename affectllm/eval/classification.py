"""Accuracy and weighted F1 (WAF) for closed label sets, without scikit-learn.

``weighted_f1`` equals ``sklearn.metrics.f1_score(y_true, y_pred,
average="weighted")`` (per-label F1 weighted by the label's support in
``y_true``; a label never predicted or never true has F1 0).
"""

from __future__ import annotations

from collections import Counter
from typing import Hashable, Sequence

from affectllm.core.errors import AffectLLMError


def accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    _check(y_true, y_pred)
    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)


def weighted_f1(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    _check(y_true, y_pred)
    support = Counter(y_true)
    predicted = Counter(y_pred)
    correct = Counter(t for t, p in zip(y_true, y_pred) if t == p)
    total = 0.0
    for label, n_true in support.items():
        tp = correct[label]
        # F1 = 2tp / (|true| + |pred|); 0 when there is no true positive.
        f1 = 2.0 * tp / (n_true + predicted[label]) if tp else 0.0
        total += n_true * f1
    return total / len(y_true)


def _check(y_true: Sequence, y_pred: Sequence) -> None:
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    if not y_true:
        raise AffectLLMError("no samples to score: the gold file has no usable labels for this task")


def closed_set_scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """``{"waf", "acc"}`` for a closed-set dataset (labels compared after lower-casing and stripping)."""
    g = [str(x).lower().strip() for x in gold]
    p = [str(x).lower().strip() for x in pred]
    return {"waf": weighted_f1(g, p), "acc": accuracy(g, p)}
