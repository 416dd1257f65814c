"""What a paper needs beside a score: samples scored and skipped, per-class tables, a confusion matrix and
95 % bootstrap intervals.

Intervals are percentile intervals over ``RESAMPLES`` resamples of the scored samples (drawn with
replacement, ``SEED`` fixed, so a rerun gives the same interval). Every score is recomputed on each
resample exactly as on the full set: WAF and accuracy from the resampled confusion counts, ``ov``'s
F1 from the resampled per-view precision and recall means, hit rate from the resampled per-view hits.
Two models scored on the same samples see the same resamples, so the interval of their *difference*
(:func:`difference_interval`) is a paired bootstrap.

Each ``*_details`` function returns ``(details, resampled)``: ``details`` is JSON (``counts``, ``ci``,
``per_class``, ``confusion``), ``resampled`` the resample values of each score (kept for comparisons).
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Callable, Sequence

import numpy as np

RESAMPLES = 1000
SEED = 0
LEVEL = 0.95
NONE_LABEL = "(none)"  # the column of predictions that name no class
_BLOCK = 100  # resamples drawn at a time: (block, samples) count matrices stay small


def resample_counts(n: int, resamples: int = RESAMPLES, seed: int = SEED):
    """Blocks of (block, n) counts: how often each of the ``n`` samples is drawn in each resample."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _BLOCK):
        b = min(_BLOCK, resamples - start)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


def bootstrap(statistic: Callable[[np.ndarray], dict[str, np.ndarray]], n: int) -> dict[str, np.ndarray]:
    """Each score's values over the resamples; ``statistic(counts)`` maps (block, n) counts to (block,) arrays."""
    parts: dict[str, list[np.ndarray]] = {}
    for counts in resample_counts(n):
        for key, values in statistic(counts).items():
            parts.setdefault(key, []).append(values)
    return {key: np.concatenate(values) for key, values in parts.items()}


def interval(values: np.ndarray) -> list[float] | None:
    """The central ``LEVEL`` percentile interval (resamples where the score is undefined are left out)."""
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    tail = 100 * (1 - LEVEL) / 2
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return [round(float(lo), 4), round(float(hi), 4)]


def difference_interval(a: np.ndarray, b: np.ndarray) -> list[float] | None:
    """The paired interval of score a minus score b (both from :func:`bootstrap` on the same samples)."""
    if a.shape != b.shape:
        return None
    return interval(a - b)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def classification_details(y_true: Sequence[str], y_pred: Sequence[str]) -> tuple[dict, dict[str, np.ndarray]]:
    """WAF / accuracy intervals, per-class precision, recall and F1 (the gold classes) and the confusion
    matrix (rows: gold classes by support; columns: those, then other predicted labels)."""
    classes = [c for c, _ in Counter(y_true).most_common()]
    others = sorted({p for p in y_pred if p not in classes})
    columns = classes + others
    col = {c: j for j, c in enumerate(columns)}
    g = np.array([col[t] for t in y_true])
    p = np.array([col[x] for x in y_pred])
    k = len(classes)
    gold_hot = np.eye(len(columns))[g][:, :k]
    pred_hot = np.eye(len(columns))[p][:, :k]
    true_hot = gold_hot * (g == p)[:, None]

    def statistic(counts: np.ndarray) -> dict[str, np.ndarray]:
        support, predicted, tp = counts @ gold_hot, counts @ pred_hot, counts @ true_hot
        f1 = _safe_divide(2 * tp, support + predicted)
        total = counts.sum(axis=1)
        return {"waf": (support * f1).sum(axis=1) / total, "acc": tp.sum(axis=1) / total}

    resampled = bootstrap(statistic, len(g))
    matrix = np.zeros((k, len(columns)), dtype=int)
    np.add.at(matrix, (g, p), 1)
    per_class = {}
    for j, c in enumerate(classes):
        tp, support, predicted = int(matrix[j, j]), int(matrix[j].sum()), int(matrix[:, j].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support
        per_class[c] = {"support": support, "precision": round(precision, 4), "recall": round(recall, 4),
                        "f1": round(2 * tp / (support + predicted), 4) if tp else 0.0}
    details = {"ci": {key: interval(v) for key, v in resampled.items()}, "per_class": per_class,
               "confusion": {"gold": classes, "predicted": [NONE_LABEL if c.startswith("\0") else c for c in columns],
                             "matrix": matrix.tolist()},
               "counts": {"scored": len(g), "skipped": 0}}
    return details, resampled


def open_vocab_details(views: list, skipped_views: list[int], task: str,
                       labels: Sequence[str] | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Intervals for ``ov`` (f1, precision, recall) or ``basic`` (hit_rate) from the per-sample view scores of
    ``affectllm.eval.open_vocab``; for ``basic`` also each gold label's support and hit rate (``labels``)."""
    used = [v for i, v in enumerate(views) if i not in skipped_views]
    n = len(views[0].per_sample)
    scored = np.array([[s is not None for s in v.per_sample] for v in used], dtype=np.float64)  # (views, n)
    values = np.array([[s if s is not None else (0.0,) * (2 if task == "ov" else 1) for s in v.per_sample]
                       for v in used], dtype=np.float64)  # (views, n, 2 | 1)

    flat = values.transpose(1, 0, 2).reshape(n, -1)  # (n, views * k): one matrix product per block

    def statistic(counts: np.ndarray) -> dict[str, np.ndarray]:
        weight = counts @ scored.T  # (block, views)
        sums = (counts @ flat).reshape(len(counts), len(used), -1)
        means = sums / np.where(weight > 0, weight, np.nan)[:, :, None]
        if task == "basic":
            return {"hit_rate": np.nanmean(means[:, :, 0], axis=1)}
        precision, recall = means[:, :, 0], means[:, :, 1]
        f1 = _safe_divide(2 * precision * recall, precision + recall)
        f1 = np.where(np.isnan(precision), np.nan, f1)
        return {"f1": np.nanmean(f1, axis=1), "precision": np.nanmean(precision, axis=1),
                "recall": np.nanmean(recall, axis=1)}

    with warnings.catch_warnings():  # a resample that draws no scorable sample: its score is undefined (NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        resampled = bootstrap(statistic, n) if n else {}
    details: dict = {"ci": {key: interval(v) for key, v in resampled.items()},
                     "counts": {"scored": int(scored.any(axis=0).sum()), "skipped": int(n - scored.any(axis=0).sum())}}
    if task == "basic" and labels is not None:
        hit_share = (values[:, :, 0] * scored).sum(axis=0) / np.maximum(scored.sum(axis=0), 1)
        per_label: dict[str, list[float]] = {}
        for label, share, on in zip(labels, hit_share, scored.any(axis=0)):
            if on:
                per_label.setdefault(label, []).append(float(share))
        details["per_class"] = {label: {"support": len(v), "hit_rate": round(sum(v) / len(v), 4)}
                                for label, v in sorted(per_label.items(), key=lambda kv: -len(kv[1]))}
    return details, resampled
