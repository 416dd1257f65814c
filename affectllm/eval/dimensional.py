"""``eval vad``: predicted valence / arousal / dominance against gold ratings, scored on the gold's scale.

Gold: a manifest sample's ``vad`` ratings on their ``vad_scale`` (a recipe's
output), or plain ``valence`` / ``arousal`` / ``dominance`` fields, taken as
on [-1, 1] (``affectllm.core.dimensions.sample_ratings``).

Prediction, per dimension, first found wins (the ``source`` counted in the
scores):

- ``vad``: the record's ``"vad": {"valence": ..., "arousal": ...}`` (a
  dimensional head, the cue path), on the record's ``vad_scale`` when it has
  one and on [-1, 1] otherwise;
- ``field``: a plain ``valence`` / ``arousal`` / ``dominance`` field, on
  [-1, 1] (older result records);
- ``lexicon`` (valence only): the mean vocabulary valence of the predicted
  emotion words (0 when none is known, and for a missing record).

Predictions are mapped onto the gold's scale (``affectllm.core.dimensions.rescale``)
and each dimension reports CCC, Pearson's r and the mean absolute error there,
with the number of pairs scored. A dimension whose gold records use several
scales is scored on [-1, 1] instead, with a note. A gold rating with no
prediction for its dimension (arousal from a model that predicts only
valence) is not scored and is counted in a note.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Callable, Sequence

from affectllm.core.dimensions import UNIT_SCALE, VAD_DIMENSIONS, Scale, check_scale, finite_number, rescale, sample_ratings
from affectllm.core.errors import AffectLLMError
from affectllm.eval.ccc import ccc


def pearson(gold: Sequence[float], pred: Sequence[float]) -> float | None:
    """Pearson's r (population moments); None when either side is constant (r is undefined)."""
    n = len(gold)
    mg, mp = math.fsum(gold) / n, math.fsum(pred) / n
    vg = math.fsum((g - mg) ** 2 for g in gold)
    vp = math.fsum((p - mp) ** 2 for p in pred)
    if vg == 0 or vp == 0:
        return None
    return math.fsum((g - mg) * (p - mp) for g, p in zip(gold, pred)) / math.sqrt(vg * vp)


def mae(gold: Sequence[float], pred: Sequence[float]) -> float:
    """Mean absolute error."""
    return math.fsum(abs(g - p) for g, p in zip(gold, pred)) / len(gold)


def prediction_rating(rec: dict[str, Any] | None, dim: str, sid: str,
                      emotion_valence: Callable[[dict[str, Any] | None], float]) -> tuple[float, Scale, str] | None:
    """(value, its scale, source) of one predicted dimension, or None when the record does not predict it."""
    where = f'prediction record "{sid}"'
    if rec is not None:
        vad = rec.get("vad")
        if vad is not None and not isinstance(vad, dict):
            raise AffectLLMError(f'{where}: "vad" must be an object of dimension -> value, got {vad!r}')
        if vad and vad.get(dim) is not None:
            scales = rec.get("vad_scale") or {}
            scale = check_scale(scales[dim], f'{where}: "vad_scale.{dim}"') if dim in scales else UNIT_SCALE
            return finite_number(vad[dim], f'{where}: "vad.{dim}"'), scale, "vad"
        if rec.get(dim) is not None:
            return finite_number(rec[dim], f'{where}: "{dim}"'), UNIT_SCALE, "field"
    if dim == "valence":
        return emotion_valence(rec), UNIT_SCALE, "lexicon"
    return None


def vad_scores(gold: dict[str, dict[str, Any]], ids: list[str], recs: list[dict[str, Any] | None],
               emotion_valence: Callable[[dict[str, Any] | None], float]) -> tuple[dict[str, Any], list[str]]:
    """``{"ccc", "pearson", "mae", "n", "scale", "source"}`` (each dimension -> value) and notes.

    ``emotion_valence(record)`` is the lexicon valence of a record's emotion words (see the module docstring)."""
    ratings = {sid: sample_ratings(gold[sid], f'gold record "{sid}"') for sid in ids}
    scores: dict[str, dict[str, Any]] = {k: {} for k in ("ccc", "pearson", "mae", "n", "scale", "source")}
    notes: list[str] = []
    for dim in VAD_DIMENSIONS:
        rated = [(sid, rec, ratings[sid][dim]) for sid, rec in zip(ids, recs) if dim in ratings[sid]]
        if not rated:
            continue
        gold_scales = {scale or UNIT_SCALE for _, _, (_, scale) in rated}
        target = next(iter(gold_scales)) if len(gold_scales) == 1 else UNIT_SCALE
        if len(gold_scales) > 1:
            notes.append(f"{dim}: the gold ratings use several scales; scores are on [-1, 1]")
        g_vals, p_vals, sources, unpredicted = [], [], Counter(), 0
        for sid, rec, (value, scale) in rated:
            predicted = prediction_rating(rec, dim, sid, emotion_valence)
            if predicted is None:
                unpredicted += 1
                continue
            p_value, p_scale, source = predicted
            g_vals.append(rescale(value, scale or UNIT_SCALE, target))
            p_vals.append(rescale(p_value, p_scale, target))
            sources[source] += 1
        if unpredicted:
            notes.append(f"{dim}: {unpredicted} of {len(rated)} gold ratings have no predicted {dim} and are not scored")
        if not g_vals:
            continue
        r = pearson(g_vals, p_vals)
        if r is None:
            notes.append(f"{dim}: Pearson's r is undefined (the gold or the predicted values are constant)")
        scores["ccc"][dim], scores["pearson"][dim], scores["mae"][dim] = ccc(g_vals, p_vals), r, mae(g_vals, p_vals)
        scores["n"][dim], scores["scale"][dim], scores["source"][dim] = len(g_vals), list(target), dict(sources)
    if not scores["ccc"]:
        raise AffectLLMError("vad: no gold record has valence, arousal or dominance with a matching prediction")
    return scores, notes
