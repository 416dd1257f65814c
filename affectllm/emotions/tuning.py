"""Choosing the discourse extractor's settings by cross-validation, so that its reported scores are held out.

Settings tuned and scored on the same descriptions overstate what the extractor does on new ones. Here:

1. the descriptions are split into ``k`` folds *by clip* (a clip described twice, as EMER v1 and v2 do,
   has both descriptions in one fold), with a fixed seed (:func:`folds_by_clip`);
2. for each fold, the settings are chosen on the other folds only (:func:`choose_settings`: the highest
   F1 among the grid points whose precision reaches ``precision_floor``, the highest F1 when none does);
3. the held-out fold is scored with them; the pooled held-out predictions give the reported F1/P/R
   (:func:`cross_validate`);
4. the shipped settings are what the same choice picks on all folds.

Mentions are found once per text (:func:`affectllm.emotions.extract.extract_mentions`); a grid point
only re-weighs them (:func:`affectllm.emotions.extract.select_emotions`), so a grid of thousands of
points scores in minutes. Scoring is passed in (``score(gold_lists, predicted_lists) -> {"f1",
"precision", "recall"}``), e.g. ``affectllm.eval.open_vocab.ov_scores`` on the official wheels.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass, fields
from typing import Callable, Sequence

from affectllm.emotions.extract import ExtractorSettings, extract_mentions, select_emotions

Scorer = Callable[[list[list[str]], list[list[str]]], dict[str, float]]

# Candidate values per setting, around the hand-set ones; 10,125 points. (A wider grid, 28,800 points with
# the edges the folds chose pushed out, chose more extreme settings and scored no better held out.)
GRID: dict[str, tuple[float, ...]] = {
    "final": (0.6, 0.7, 0.8, 0.9, 1.0),
    "conclusion": (0.3, 0.45, 0.6),
    "inference": (0.5, 0.6, 0.7, 0.8, 0.9),
    "evidence": (0.3, 0.45, 0.6),
    "quote": (0.1, 0.25, 0.4),
    "keep_ratio": (0.5, 0.6, 0.7, 0.8, 0.9),
    "repeat": (0.1, 0.3, 0.5),
}
PRECISION_FLOOR = 0.75
TOLERANCE = 0.0  # F1 points within this of the best count as tied


@dataclass(frozen=True)
class Description:
    clip: str  # what the description is of: descriptions of one clip share a fold
    gold: tuple[str, ...]
    text: str


@dataclass
class CrossValidation:
    """Per fold the settings chosen on the other folds and their held-out score; pooled held-out scores."""

    folds: list[dict]  # {"fold", "held_out", "settings", "train", "held_out_scores"}
    held_out: dict[str, float]  # pooled over every fold's held-out predictions
    held_out_settings: list[ExtractorSettings]  # per description: the settings its fold was scored with
    shipped: ExtractorSettings  # the choice on all folds
    shipped_scores: dict[str, float]  # those settings on all descriptions (in-sample: not a held-out score)


def folds_by_clip(clips: Sequence[str], k: int, seed: int = 0) -> list[int]:
    """The fold (0 .. k-1) of each description: clips shuffled with ``seed`` and dealt round-robin."""
    order = sorted(set(clips))
    random.Random(seed).shuffle(order)
    fold_of = {clip: i % k for i, clip in enumerate(order)}
    return [fold_of[c] for c in clips]


def grid_settings(grid: dict[str, tuple[float, ...]] = GRID) -> list[ExtractorSettings]:
    """Every combination of the grid's values (settings it does not name keep their shipped value)."""
    names = [f.name for f in fields(ExtractorSettings) if f.name in grid]
    return [ExtractorSettings(**dict(zip(names, values))) for values in itertools.product(*(grid[n] for n in names))]


class GridPredictions:
    """Each grid point's labels for every description, computed once and shared by all folds."""

    def __init__(self, descriptions: Sequence[Description], grid: Sequence[ExtractorSettings]):
        mentions = [extract_mentions(d.text) for d in descriptions]
        self.grid = list(grid)
        self.labels = [[tuple(e.label for e in select_emotions(m, s)) for m in mentions] for s in self.grid]


def _scores(score: Scorer, descriptions: Sequence[Description], labels: Sequence[tuple[str, ...]],
            rows: Sequence[int]) -> dict[str, float]:
    return score([list(descriptions[i].gold) for i in rows], [list(labels[i]) for i in rows])


def _centre_distance(grid: Sequence[ExtractorSettings]) -> list[float]:
    """Each point's distance from the middle of the grid, every setting's steps scaled to [0, 1]."""
    names = [f.name for f in fields(ExtractorSettings)]
    values = {n: sorted({getattr(s, n) for s in grid}) for n in names}
    steps = {n: {v: i / max(1, len(vs) - 1) for i, v in enumerate(vs)} for n, vs in values.items()}
    return [sum((steps[n][getattr(s, n)] - 0.5) ** 2 for n in names if len(values[n]) > 1) for s in grid]


def choose_settings(descriptions: Sequence[Description], predictions: GridPredictions, rows: Sequence[int],
                    score: Scorer, precision_floor: float = PRECISION_FLOOR,
                    tolerance: float = TOLERANCE) -> tuple[int, dict[str, float]]:
    """(grid index, scores) of the choice on ``rows`` only: among the points whose precision reaches
    ``precision_floor`` (all points when none does), those within ``tolerance`` of the best F1 tie, and the
    tie goes to the point nearest the middle of the grid: many points label every description alike, and
    the grid's edge is no better a guess than its middle."""
    cache: dict[tuple, dict[str, float]] = {}
    scores = []
    for labels in predictions.labels:
        key = tuple(labels[i] for i in rows)
        if key not in cache:
            cache[key] = _scores(score, descriptions, labels, rows)
        scores.append(cache[key])
    eligible = [i for i, s in enumerate(scores) if s["precision"] >= precision_floor] or list(range(len(scores)))
    best_f1 = max(scores[i]["f1"] for i in eligible)
    tied = [i for i in eligible if scores[i]["f1"] >= best_f1 - tolerance - 1e-9]
    distance = _centre_distance(predictions.grid)
    index = min(tied, key=lambda i: (distance[i], i))
    return index, scores[index]


def cross_validate(descriptions: Sequence[Description], score: Scorer, k: int = 5, seed: int = 0,
                   grid: Sequence[ExtractorSettings] | None = None,
                   precision_floor: float = PRECISION_FLOOR, tolerance: float = TOLERANCE) -> CrossValidation:
    """``k``-fold cross-validation by clip (module docstring); ``grid`` defaults to :data:`GRID`'s points."""
    predictions = GridPredictions(descriptions, grid if grid is not None else grid_settings())
    fold_of = folds_by_clip([d.clip for d in descriptions], k, seed)
    held_out_labels: list[tuple[str, ...]] = [()] * len(descriptions)
    held_out_settings: list[ExtractorSettings] = [predictions.grid[0]] * len(descriptions)
    folds = []
    for fold in range(k):
        train = [i for i, f in enumerate(fold_of) if f != fold]
        test = [i for i, f in enumerate(fold_of) if f == fold]
        index, train_scores = choose_settings(descriptions, predictions, train, score, precision_floor, tolerance)
        labels = predictions.labels[index]
        for i in test:
            held_out_labels[i], held_out_settings[i] = labels[i], predictions.grid[index]
        folds.append({"fold": fold, "held_out": len(test), "settings": asdict(predictions.grid[index]),
                      "train": _rounded(train_scores), "held_out_scores": _rounded(
                          _scores(score, descriptions, labels, test))})
    everything = range(len(descriptions))
    index, all_scores = choose_settings(descriptions, predictions, everything, score, precision_floor, tolerance)
    pooled = _scores(score, descriptions, held_out_labels, everything)
    return CrossValidation(folds, _rounded(pooled), held_out_settings, predictions.grid[index], _rounded(all_scores))


def _rounded(scores: dict[str, float]) -> dict[str, float]:
    return {key: round(float(value), 4) for key, value in scores.items()}
