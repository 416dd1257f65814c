"""Open-vocabulary emotion scores: emotion-wheel precision/recall/F1 (``ov``) and hit rate (``basic``).

Both map gold and predicted items into clusters on one or more *views*
(official mode: the level1 groups of the 5 MER-UniBench wheels; default
mode: our vocabulary's families), score per view, then average over views.

``ov`` per view k: a sample whose mapped gold set G is empty is skipped;
with mapped prediction P, precision = |G∩P|/|P| and recall = |G∩P|/|G|
(both 0 when P is empty); P_k and R_k are means over scored samples and
F_k = 2·P_k·R_k/(P_k+R_k) (0 when both are 0). Reported f1, precision,
recall are plain means of F_k, P_k, R_k over views.

``basic`` per view k: G = mapped {gold label} (skipped when empty, so a gold
"neutral" that maps nowhere is not scored), hit = |G∩P|; HR_k = mean hit;
hit_rate = mean of HR_k over views.

Where the reference divides by zero (a view with no scored sample) it yields
NaN; we leave that view out of the mean instead and say so in ``skipped_views``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

from affectllm.emotions import EmotionVocabulary
from affectllm.core.errors import AffectLLMError


class LabelSpace(Protocol):
    """Maps an item list into a set of clusters on each of ``n_views`` views."""

    n_views: int
    name: str

    def map_set(self, items: list[str], view: int) -> set[str]: ...


@dataclass(frozen=True)
class VocabularySpace:
    """Default mode: our own vocabulary, one view at ``level`` "family" or "word".

    With ``empty_is_neutral`` a prediction naming no emotion word counts as
    ``{"neutral"}`` (family level) so neutral gold labels are scored, not skipped.
    """

    vocabulary: EmotionVocabulary
    level: str = "family"
    empty_is_neutral: bool = False
    n_views: int = 1

    @property
    def name(self) -> str:
        return f"vocabulary-{self.level}"

    def map_set(self, items: list[str], view: int = 0) -> set[str]:
        out = set()
        for item in items:
            word = self.vocabulary.normalize(str(item))
            if word is not None:
                out.add(self.vocabulary.family_of[word] if self.level == "family" else word)
        return out


@dataclass(frozen=True)
class WheelSpace:
    """Official mode: the 5 MER-UniBench wheels at level1."""

    wheels: object  # affectllm.eval.wheel.OfficialWheels (kept loose so importing this needs no openpyxl)
    n_views: int = 5
    name: str = "official-wheels"

    def map_set(self, items: list[str], view: int) -> set[str]:
        return self.wheels.map_set(items, view)


@dataclass
class ViewScores:
    """Scores on one view; ``scored`` samples had a non-empty mapped gold set. ``per_sample``: for every
    sample, None when it is not scored on this view, else its (precision, recall) for ``ov`` or (hit,) for
    ``basic`` (what the bootstrap of ``affectllm.eval.uncertainty`` resamples)."""

    scored: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    hit_rate: float = 0.0
    per_sample: list[tuple[float, ...] | None] = field(default_factory=list, repr=False)


@dataclass
class OpenVocabScores:
    views: list[ViewScores]
    skipped_views: list[int] = field(default_factory=list)

    def _mean(self, attr: str) -> float:
        used = [getattr(v, attr) for i, v in enumerate(self.views) if i not in self.skipped_views]
        return sum(used) / len(used)

    def ov(self) -> dict[str, float]:
        return {"f1": self._mean("f1"), "precision": self._mean("precision"), "recall": self._mean("recall")}

    def basic(self) -> dict[str, float]:
        return {"hit_rate": self._mean("hit_rate")}


def _empty_prediction(space: LabelSpace, view: int) -> set[str]:
    return {"neutral"} if getattr(space, "empty_is_neutral", False) else set()


def ov_scores(
    gold: Sequence[list[str]], pred: Sequence[list[str]], space: LabelSpace, pred_space: LabelSpace | None = None
) -> OpenVocabScores:
    """Emotion-wheel precision/recall/F1 of aligned gold and predicted item lists.

    ``pred_space`` (default: ``space``) maps the predictions when they follow other rules than gold.
    """
    pred_space = pred_space or space
    views = []
    for view in range(space.n_views):
        p_sum = r_sum = 0.0
        scored = 0
        per_sample: list[tuple[float, ...] | None] = []
        for g_items, p_items in zip(gold, pred):
            g = space.map_set(g_items, view)
            if not g:
                per_sample.append(None)
                continue
            scored += 1
            p = pred_space.map_set(p_items, view) or _empty_prediction(space, view)
            common = len(g & p)
            precision, recall = (common / len(p), common / len(g)) if p else (0.0, 0.0)
            p_sum += precision
            r_sum += recall
            per_sample.append((precision, recall))
        vs = ViewScores(scored=scored, per_sample=per_sample)
        if scored:
            vs.precision, vs.recall = p_sum / scored, r_sum / scored
            total = vs.precision + vs.recall
            vs.f1 = 2 * vs.precision * vs.recall / total if total else 0.0
        views.append(vs)
    return _finish(views, space)


def hit_rate_scores(
    gold_labels: Sequence[list[str]], pred: Sequence[list[str]], space: LabelSpace, pred_space: LabelSpace | None = None
) -> OpenVocabScores:
    """Hit rate of aligned gold labels (each a one-item list, or the reference's parsed string) and predictions."""
    pred_space = pred_space or space
    views = []
    for view in range(space.n_views):
        hits = 0
        scored = 0
        per_sample: list[tuple[float, ...] | None] = []
        for g_items, p_items in zip(gold_labels, pred):
            g = space.map_set(g_items, view)
            if not g:
                per_sample.append(None)
                continue
            scored += 1
            hit = len(g & (pred_space.map_set(p_items, view) or _empty_prediction(space, view)))
            hits += hit
            per_sample.append((float(hit),))
        vs = ViewScores(scored=scored, hit_rate=hits / scored if scored else 0.0, per_sample=per_sample)
        views.append(vs)
    return _finish(views, space)


def _finish(views: list[ViewScores], space: LabelSpace) -> OpenVocabScores:
    skipped = [i for i, v in enumerate(views) if v.scored == 0]
    if len(skipped) == len(views):
        raise AffectLLMError(
            f"no gold label maps into the {space.name} label space, so nothing can be scored; "
            "check the gold file's emotion words (or the --wheel-dir files)"
        )
    return OpenVocabScores(views, skipped)
