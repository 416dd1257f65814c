"""Calibrated face-expression probabilities: q = softmax(log p / T + b), and the scores that choose T and b.

The expression graph's probabilities ``p`` (``face_expression``) are rescaled by
one temperature ``T`` (how sure the model may be) and shifted by one bias per
class ``b`` (how far its training class priors are undone). Both were chosen on
real faces: FER2013's validation crops (``../shared/data/fer2013_val``, research
use only), the half whose path hashes to the fit side (``fit_half``), with
``benchmarks/bench_face_channel.py``, which reports the other half. Only these
eight numbers ship; no FER2013 image, and no weight trained on it, does.

- ``b = strength x (log(1/7) - log prior)`` is a prior-shift correction (Saerens
  et al. 2002, Neural Computation 14(1)): the classifier learned FER2013's class
  frequencies (disgust 1.5%, happy 25%), which make it name disgust and fear too
  rarely. ``strength`` 0 keeps the training priors, 1 assumes all seven classes
  equally likely; the benchmark takes the strength on a 0.25 grid with the best
  mean of accuracy and UA (mean per-class recall) on the fit half: UA alone
  would buy rare-class recall with accuracy and calibration on the common ones.
- ``T`` then minimises the negative log-likelihood on the fit half, so the
  probabilities a channel reports mean what they say.

The classifier was itself trained on FER2013, so it reads these faces better
than others: the scale fitted here is a floor on its overconfidence elsewhere.
"""

from __future__ import annotations

import hashlib

import numpy as np

PROB_FLOOR = 1e-6  # the graph's softmax can underflow to 0; log needs a floor far below any reading
# Chosen by benchmarks/bench_face_channel.py on the fit half of FER2013 val (2,692 of its 5,383 crops; see
# the module docstring): prior-correction strength 0.5 over the fit half's class frequencies, then T.
TEMPERATURE = 1.0971
# angry, disgust, fear, happy, sad, surprise, neutral (face_expression.EXPRESSIONS order)
CLASS_BIAS = (0.0361, 1.1192, -0.0156, -0.2855, -0.082, 0.1236, -0.0921)
ECE_BINS = 15


def calibrate(probs: np.ndarray, temperature: float = TEMPERATURE,
              bias: tuple[float, ...] | np.ndarray = CLASS_BIAS) -> np.ndarray:
    """(..., 7) probabilities -> (..., 7) softmax(log p / temperature + bias)."""
    z = np.log(np.maximum(np.asarray(probs, dtype=np.float64), PROB_FLOOR)) / temperature + np.asarray(bias)
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def prior_bias(priors: np.ndarray, strength: float) -> np.ndarray:
    """(7,) class frequencies the model learned -> (7,) log-odds shift toward equal priors, by ``strength``."""
    priors = np.asarray(priors, dtype=np.float64)
    return strength * (np.log(1.0 / len(priors)) - np.log(priors / priors.sum()))


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log q[label] over (N, 7) probabilities and (N,) class indices."""
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], PROB_FLOOR))))


def fit_temperature(probs: np.ndarray, labels: np.ndarray, bias: np.ndarray | None = None,
                    bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature minimising the NLL of ``calibrate(probs, T, bias)``; (N, 7) raw probabilities, (N,) labels.

    The NLL is convex in 1/T (a log-sum-exp of affine functions), so a golden-section search finds its minimum.
    """
    bias = np.zeros(probs.shape[1]) if bias is None else bias
    lo, hi = 1.0 / bounds[1], 1.0 / bounds[0]
    ratio = (np.sqrt(5) - 1) / 2

    def loss(inverse: float) -> float:
        return negative_log_likelihood(calibrate(probs, 1.0 / inverse, bias), labels)

    for _ in range(80):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if loss(a) <= loss(b):
            hi = b
        else:
            lo = a
    return 1.0 / ((lo + hi) / 2)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-1 ECE (Guo et al. 2017): |accuracy - confidence| over equal-width confidence bins, weighted by size."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for k in range(bins):
        inside = which == k
        if inside.any():
            gap += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(gap)


def recall_scores(probs: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Accuracy, UA (mean per-class recall over the classes present) and per-class recall."""
    predicted = probs.argmax(axis=1)
    recall = {name: float(np.mean(predicted[labels == k] == k)) for k, name in enumerate(classes) if (labels == k).any()}
    return {"accuracy": float(np.mean(predicted == labels)), "ua": float(np.mean(list(recall.values()))),
            "recall": recall}


def fit_half(name: str) -> bool:
    """A fixed half of a data set by file path (e.g. "fear/123.jpg"): True for the half that fits, False for
    the half that reports. SHA-1 so the split is the same on every machine and Python version."""
    return hashlib.sha1(name.encode()).digest()[0] % 2 == 0
