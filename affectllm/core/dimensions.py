"""Dimensional emotion (valence, arousal, dominance): the rating scales datasets use and the unit scale.

Datasets rate on their own scales: IEMOCAP V/A/D on 1..5, MSP-Podcast on
1..7, MER valence on -5..5, CMU-MOSI/MOSEI sentiment on -3..3, CH-SIMS on
-1..1. A manifest sample keeps the ratings as the dataset gives them and
records the scale beside them::

    "vad": {"valence": 2.5, "arousal": 3.5, "dominance": 4.0},
    "vad_scale": {"valence": [1, 5], "arousal": [1, 5], "dominance": [1, 5]}

(only the dimensions the dataset rates). The sample's ``valence`` field keeps
its older meaning, polarity on -1..1 (``to_unit`` of the rated valence), which
``eval sentiment`` reads. A model head trains on ``to_unit`` of each rating
(``unit_targets``) and reports on the dataset's scale with ``from_unit``. A
prediction record's ``vad`` is on -1..1 unless it carries its own
``vad_scale``. ``to_unit`` / ``from_unit`` are the one place the mapping lives.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from affectllm.core.errors import AffectLLMError

VAD_DIMENSIONS = ("valence", "arousal", "dominance")
Scale = tuple[float, float]
UNIT_SCALE: Scale = (-1.0, 1.0)


def to_unit(value: float, scale: Scale) -> float:
    """``value`` on ``scale`` = (lo, hi) mapped linearly to [-1, 1] (lo -> -1, hi -> 1, midpoint -> 0)."""
    lo, hi = scale
    return 2.0 * (float(value) - lo) / (hi - lo) - 1.0


def from_unit(value: float, scale: Scale) -> float:
    """The inverse of ``to_unit``: a value on [-1, 1] back on ``scale`` = (lo, hi)."""
    lo, hi = scale
    return lo + (float(value) + 1.0) * (hi - lo) / 2.0


def rescale(value: float, source: Scale, target: Scale) -> float:
    """``value`` on ``source`` expressed on ``target`` (through the unit scale)."""
    return from_unit(to_unit(value, source), target) if source != target else float(value)


def check_scale(raw: Any, where: str) -> Scale:
    """``[lo, hi]`` as a (lo, hi) pair of finite numbers with lo < hi; one error line naming ``where`` otherwise."""
    if (not isinstance(raw, (list, tuple)) or len(raw) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in raw)
            or not raw[0] < raw[1]):
        raise AffectLLMError(f"{where} must be [lo, hi] with two finite numbers, lo < hi, got {raw!r}")
    return float(raw[0]), float(raw[1])


def finite_number(raw: Any, where: str) -> float:
    """A finite number from a record's field (a number or numeric text); one error line naming ``where``
    (the record and field) for NaN, Infinity, text or anything else."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise AffectLLMError(f"{where} must be a number, got {raw!r}")
    try:
        out = float(raw)
    except ValueError:
        raise AffectLLMError(f"{where} must be a number, got {raw!r}") from None
    if not math.isfinite(out):
        raise AffectLLMError(f"{where} is {raw!r}, not a finite number; give a number")
    return out


def sample_ratings(sample: Mapping[str, Any], where: str) -> dict[str, tuple[float, Scale | None]]:
    """dimension -> (rating, its scale or None) of a manifest sample or gold record.

    Reads ``vad`` with ``vad_scale`` (each rating must lie on its scale), or,
    for records without ``vad``, the plain ``valence`` / ``arousal`` /
    ``dominance`` fields with no scale. Malformed values are one error line
    naming ``where`` and the field.
    """
    vad = sample.get("vad")
    if vad is None:
        return {d: (finite_number(sample[d], f'{where}: "{d}"'), None) for d in VAD_DIMENSIONS if sample.get(d) is not None}
    if not isinstance(vad, Mapping):
        raise AffectLLMError(f'{where}: "vad" must be an object of dimension -> rating, got {vad!r}')
    unknown = sorted(set(vad) - set(VAD_DIMENSIONS))
    if unknown:
        raise AffectLLMError(f'{where}: "vad" has unknown dimension(s) {", ".join(unknown)}; '
                             f"use {', '.join(VAD_DIMENSIONS)}")
    scales = sample.get("vad_scale") or {}
    if not isinstance(scales, Mapping):
        raise AffectLLMError(f'{where}: "vad_scale" must be an object of dimension -> [lo, hi], got {scales!r}')
    out: dict[str, tuple[float, Scale | None]] = {}
    for dim in VAD_DIMENSIONS:
        if vad.get(dim) is None:
            continue
        value = finite_number(vad[dim], f'{where}: "vad.{dim}"')
        if dim not in scales:
            raise AffectLLMError(f'{where}: "vad.{dim}" has no scale; add "vad_scale": {{"{dim}": [lo, hi]}}')
        scale = check_scale(scales[dim], f'{where}: "vad_scale.{dim}"')
        if not scale[0] <= value <= scale[1]:
            raise AffectLLMError(f'{where}: "vad.{dim}" is {value:g}, outside its scale [{scale[0]:g}, {scale[1]:g}]')
        out[dim] = (value, scale)
    return out


def unit_targets(sample: Mapping[str, Any], where: str = "sample") -> dict[str, float]:
    """dimension -> rating on [-1, 1], for the dimensions the sample rates (a missing one is absent, not 0).

    Ratings without a recorded scale (plain ``valence`` fields) are taken as already on [-1, 1]."""
    return {d: (to_unit(v, s) if s is not None else v) for d, (v, s) in sample_ratings(sample, where).items()}


def rated_fields(ratings: Mapping[str, float | None], scale: Scale | Mapping[str, Scale]) -> dict[str, Any]:
    """The manifest fields for a recipe's ratings: ``{"vad": {...}, "vad_scale": {...}}``, or {} when none is rated.

    ``scale`` is one (lo, hi) for every dimension or one per dimension."""
    values = {d: float(ratings[d]) for d in VAD_DIMENSIONS if ratings.get(d) is not None}
    if not values:
        return {}
    scales = {d: list(scale[d] if isinstance(scale, Mapping) else scale) for d in values}
    return {"vad": values, "vad_scale": scales}
