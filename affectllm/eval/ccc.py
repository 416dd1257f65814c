"""Lin's concordance correlation coefficient (CCC) for valence / arousal / dominance.

CCC = 2·cov(x, y) / (var(x) + var(y) + (mean(x) − mean(y))²), population
(1/n) moments, as in the AVEC challenges. 1 = perfect agreement; it drops
with both weak correlation and any shift or scale difference.
"""

from __future__ import annotations

import math
from typing import Sequence

from affectllm.core.errors import AffectLLMError


def ccc(gold: Sequence[float], pred: Sequence[float]) -> float:
    """CCC of two equally long sequences; 0.0 when both are constant and differ, 1.0 when identical constants."""
    n = len(gold)
    if n != len(pred):
        raise ValueError(f"gold has {n} values but pred has {len(pred)}")
    if n == 0:
        raise AffectLLMError("no samples to score: no gold record has a value for this dimension")
    mg = math.fsum(gold) / n
    mp = math.fsum(pred) / n
    vg = math.fsum((g - mg) ** 2 for g in gold) / n
    vp = math.fsum((p - mp) ** 2 for p in pred) / n
    cov = math.fsum((g - mg) * (p - mp) for g, p in zip(gold, pred)) / n
    denom = vg + vp + (mg - mp) ** 2
    if denom == 0:
        return 1.0  # identical constant sequences
    return 2 * cov / denom
