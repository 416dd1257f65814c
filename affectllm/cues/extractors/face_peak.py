"""A face read at its peak: the frames where it is most expressive carry the clip's expression.

An acted or spontaneous expression rises to an apex and falls back, and a clip
also holds frames where the face is neutral, turning or blurred. The plain mean
over the face frames lets those frames dilute the apex until the clip reads
neutral; the peak reading averages only the most expressive share of the face
frames, and keeps which frames those were so an explanation can cite them.
A face that is neutral throughout stays neutral: its most expressive frames are
still neutral ones.
"""

from __future__ import annotations

import math

import numpy as np

from affectllm.cues.extractors.face_expression import EXPRESSIONS

# The most expressive third of the face frames (6 of 16 sampled): enough frames that one odd frame cannot make
# the reading on its own, few enough that an expression held for a quarter of the clip outweighs the rest.
PEAK_SHARE = 1 / 3
EMOTIONAL = np.array([e != "neutral" for e in EXPRESSIONS])


def expressiveness(probs: np.ndarray) -> np.ndarray:
    """(frames, 7) probabilities over EXPRESSIONS -> (frames,) the strongest non-neutral probability.

    A confidently neutral face scores near 0, an unreadable one (uniform) 1/7, a clear expression near 1.
    """
    return probs[:, EMOTIONAL].max(axis=1)


def peak_rows(probs: np.ndarray, share: float = PEAK_SHARE) -> np.ndarray:
    """(frames, 7) -> indices of the ceil(share x frames) most expressive rows (at least 1), in time order.

    Ties go to the earlier frame, so the choice is deterministic.
    """
    k = max(1, math.ceil(share * len(probs)))
    order = np.argsort(-expressiveness(probs), kind="stable")
    return np.sort(order[:k])


def peak_reading(probs: np.ndarray, share: float = PEAK_SHARE) -> dict:
    """(frames, 7) per-frame probabilities of one clip's face frames -> the clip's peak reading:

    ``probs`` (7,) the mean over the peak rows, ``rows`` the peak rows (time order), ``top`` the class on top
    of that mean, ``agreement`` the share of peak rows whose own top class is ``top``.
    """
    rows = peak_rows(probs, share)
    mean = probs[rows].mean(axis=0)
    top = int(mean.argmax())
    agreement = float(np.mean(probs[rows].argmax(axis=1) == top))
    return {"probs": mean, "rows": rows, "top": EXPRESSIONS[top], "agreement": agreement}
