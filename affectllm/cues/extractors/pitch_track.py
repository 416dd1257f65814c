"""Pitch and voicing of a clip, frame by frame: probabilistic YIN (pYIN) in numpy alone.

pYIN (Mauch & Dixon 2014, ICASSP) finds candidate periods in each frame with the
YIN difference function under a spread of thresholds, turns them into
probabilities over pitch bins a tenth of a semitone apart, and picks one path
through time with a hidden Markov model whose states are "voiced at bin b" and
"unvoiced" (Viterbi decoding). The settings are the reference plug-in's, as
librosa 0.10-0.11 also uses them (100 thresholds with a Beta(2, 18) prior,
Boltzmann trough prior 2, at most 35.92 octaves/s of pitch movement, switch
probability 0.01, no-trough probability 0.01), and the arithmetic follows
librosa's ``pyin`` step for step, so the voice head, trained on librosa's
tracks, reads the same numbers (``tests/test_cues_pitch_track.py`` compares
them). Doing it here keeps librosa, scipy and numba, more than two seconds of
imports, out of a cold caption.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np

from affectllm.cues.extractors.spectrum import frames

N_THRESHOLDS = 100
BETA_PRIOR = (2, 18)
BOLTZMANN = 2.0
RESOLUTION_BINS = 10  # pitch bins per semitone
MAX_OCTAVES_PER_S = 35.92
SWITCH_PROB = 0.01
NO_TROUGH_PROB = 0.01


def _fast_length(n: int) -> int:
    """The smallest length >= n with no prime factor above 5 (a fast real FFT)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


@lru_cache(maxsize=1)
def _beta_probs() -> np.ndarray:
    """(N_THRESHOLDS,) prior mass of each threshold interval under the Beta prior (integer parameters)."""
    a, b = BETA_PRIOR
    n = a + b - 1
    x = np.linspace(0, 1, N_THRESHOLDS + 1)
    cdf = sum(comb(n, j) * x ** j * (1 - x) ** (n - j) for j in range(a, n + 1))
    return np.diff(cdf)


def _difference(y_frames: np.ndarray, min_period: int, max_period: int) -> np.ndarray:
    """(length, frames) -> (max_period - min_period + 1, frames) cumulative-mean-normalised YIN difference."""
    size = _fast_length(2 * y_frames.shape[0] - 1)
    spectrum = np.fft.rfft(y_frames, n=size, axis=0)
    acf = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=size, axis=0)[:max_period + 1]
    diff = np.cumsum(np.square(y_frames), axis=0)
    lags = slice(1, max_period + 1)
    diff[0] = 0
    diff[lags] = 2 * (acf[0:1] - acf[lags]) - diff[:max_period]
    mean = np.cumsum(diff[lags], axis=0) / np.arange(1, max_period + 1)[:, None]
    denominator = mean[min_period - 1:max_period]
    return diff[min_period:max_period + 1] / (denominator + np.finfo(denominator.dtype).tiny)


def _parabolic_shifts(yin: np.ndarray) -> np.ndarray:
    """(lags, frames) -> the sub-lag offset of a parabola through each point and its neighbours (0 at the ends
    and wherever it would move more than one lag)."""
    shifts = np.zeros_like(yin)
    left, mid, right = yin[:-2], yin[1:-1], yin[2:]
    a = right + left - 2 * mid
    b = (right - left) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts[1:-1] = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)
    return shifts


def _trough_probs(yin: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """(lags, frames) -> (lags, frames) probability that each lag is the frame's period."""
    probs = np.zeros_like(yin)
    thresholds = np.linspace(0, 1, N_THRESHOLDS + 1)[1:]
    scale = np.exp(-BOLTZMANN)
    for i, frame in enumerate(yin.T):
        trough = np.zeros(frame.size, dtype=bool)
        trough[1:-1] = (frame[1:-1] < frame[:-2]) & (frame[1:-1] <= frame[2:])
        trough[-1] = frame[-1] < frame[-2]
        trough[0] = frame[0] < frame[1]
        (where,) = np.nonzero(trough)
        if where.size == 0:
            continue
        heights = frame[where]
        below = np.less.outer(heights, thresholds)  # (troughs, thresholds)
        rank = np.cumsum(below, axis=0) - 1  # smaller periods first
        count = np.count_nonzero(below, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            prior = (1 - scale) / (1 - np.exp(-BOLTZMANN * count)) * np.exp(-BOLTZMANN * rank)
        prior[~below] = 0
        p = prior.dot(beta)
        lowest = np.argmin(heights)
        p[lowest] += NO_TROUGH_PROB * np.sum(beta[:np.count_nonzero(~below[lowest])])
        probs[where, i] = p
    return probs


@lru_cache(maxsize=8)
def _log_transitions(n_bins: int, width: int) -> np.ndarray:
    """(2 n_bins, 2 n_bins) log transition matrix, transposed (row: to, column: from), of the voiced and
    unvoiced pitch states: a triangular band of ``width`` bins within a voicing state, SWITCH_PROB across."""
    half = np.arange(1, (width + 1) // 2 + 1)
    rise = (2 * half - 1) / width if width % 2 == 0 else 2 * half / (width + 1)
    window = np.concatenate([rise, rise[::-1]]) if width % 2 == 0 else np.concatenate([rise, rise[-2::-1]])
    local = np.zeros((n_bins, n_bins))
    row = np.zeros(n_bins)
    left = (n_bins - width) // 2
    row[left:left + width] = window
    for i in range(n_bins):
        shifted = np.roll(row, n_bins // 2 + i + 1)
        shifted[min(n_bins, i + width // 2 + 1):] = 0
        shifted[:max(0, i - width // 2)] = 0
        local[i] = shifted
    local /= local.sum(axis=1, keepdims=True)
    stay = 1 - SWITCH_PROB
    switch = np.array([[stay, 1 - stay], [1 - stay, stay]])
    transition = np.kron(switch, local)
    return np.ascontiguousarray(np.log(transition + np.finfo(np.float64).tiny).T)


def _viterbi(log_prob: np.ndarray, log_trans_t: np.ndarray, log_init: np.ndarray) -> np.ndarray:
    """(frames, states) log observation probabilities -> (frames,) most probable state path (first best on ties)."""
    steps, states = log_prob.shape
    pointers = np.zeros((steps, states), dtype=np.int64)
    value = log_prob[0] + log_init
    columns = np.arange(states)
    for t in range(1, steps):
        scores = value[None, :] + log_trans_t  # (to, from)
        best = np.argmax(scores, axis=1)
        pointers[t] = best
        value = log_prob[t] + scores[columns, best]
    path = np.zeros(steps, dtype=np.int64)
    path[-1] = np.argmax(value)
    for t in range(steps - 2, -1, -1):
        path[t] = pointers[t + 1, path[t + 1]]
    return path


def pyin(y: np.ndarray, fmin: float, fmax: float, sr: int, frame_length: int, hop_length: int
         ) -> tuple[np.ndarray, np.ndarray]:
    """y (samples,) -> (f0 (frames,) Hz with NaN where unvoiced, voiced (frames,) bool), frames centred on
    multiples of ``hop_length``."""
    y_frames = frames(y, frame_length, hop_length)
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    yin = _difference(y_frames, min_period, max_period)
    shifts = _parabolic_shifts(yin)
    probs = _trough_probs(yin, _beta_probs())

    n_bins = int(np.floor(12 * RESOLUTION_BINS * np.log2(fmax / fmin))) + 1
    lag, frame = np.nonzero(probs)
    f0_candidates = sr / (min_period + lag + shifts[lag, frame])
    bins = np.clip(np.round(12 * RESOLUTION_BINS * np.log2(f0_candidates / fmin)), 0, n_bins).astype(int)
    observed = np.zeros((2 * n_bins, yin.shape[1]))
    observed[bins, frame] = probs[lag, frame]
    voiced_prob = np.clip(np.sum(observed[:n_bins], axis=0, keepdims=True), 0, 1)
    observed[n_bins:] = (1 - voiced_prob) / n_bins

    width = round(MAX_OCTAVES_PER_S * 12 * hop_length / sr) * RESOLUTION_BINS + 1
    tiny = np.finfo(observed.dtype).tiny
    init = np.log(np.full(2 * n_bins, 1.0 / (2 * n_bins)) + tiny)
    states = _viterbi(np.log(observed + tiny).T, _log_transitions(n_bins, width), init)
    f0 = fmin * 2 ** (np.arange(n_bins) / (12 * RESOLUTION_BINS))
    voiced = states < n_bins
    return np.where(voiced, f0[states % n_bins], np.nan), voiced
