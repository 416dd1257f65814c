"""Prosodic and spectral statistics of one clip, for the voice head (``PROSODY_FEATURES``, in order).

The families the emotional-speech literature measures (Juslin & Laukka 2003;
the Geneva minimalistic acoustic parameter set, Eyben et al. 2016, IEEE
Trans. Affective Computing 7(2)): pitch level, range, variability and
contour; loudness level, variability and contour; timing (voiced share,
voiced segments per second, pauses); voice quality (pitch and loudness
perturbation, spectral tilt, flatness); and the spectral envelope (MFCC
means and spreads, their rate of change, centroid, bandwidth, roll-off, band contrast).
Everything is measured over the clip's sounding 20-ms frames.

Speaker independence: pitch is in semitones relative to the clip's own
median (the median itself is kept once, in semitones above 55 Hz, since
emotion also raises it); loudness is in dB relative to the clip's loudest
frame, because recording level says nothing about the speaker's state.
"""

from __future__ import annotations

import numpy as np

from affectllm.cues.extractors.sound_frames import FRAME, SoundFrames, frame_loudness_db
from affectllm.core.media_constants import SAMPLE_RATE

PITCH_MIN_HZ, PITCH_MAX_HZ = 65.0, 800.0  # acted shouting goes well above ordinary speech
PITCH_WINDOW = 1024  # samples (64 ms): two periods of the lowest pitch
N_MFCC = 20  # coefficients 1..20 (c0 is loudness, measured separately)
CONTRAST_BANDS = 6
_PITCH = ("pitch_median_st", "pitch_std_st", "pitch_p10_st", "pitch_p90_st", "pitch_range_st", "pitch_slope_st_s",
          "pitch_delta_abs_st", "pitch_delta_std_st", "pitch_jitter")
_LOUD = ("loud_mean_db", "loud_std_db", "loud_p10_db", "loud_p90_db", "loud_slope_db_s", "loud_delta_abs_db",
         "loud_shimmer_db", "loud_voiced_minus_unvoiced_db")
_TIMING = ("voiced_share", "voiced_segments_per_s", "sound_segments_per_s", "pause_share", "sound_s")
_SPECTRAL = ("centroid_mean", "centroid_std", "bandwidth_mean", "rolloff_mean", "flatness_mean", "zcr_mean",
             "alpha_ratio_db", "hammarberg_db")
PROSODY_FEATURES = (_PITCH + _LOUD + _TIMING + _SPECTRAL
                    + tuple(f"mfcc{i}_mean" for i in range(1, N_MFCC + 1))
                    + tuple(f"mfcc{i}_std" for i in range(1, N_MFCC + 1))
                    + tuple(f"mfcc{i}_delta_std" for i in range(1, N_MFCC + 1))
                    + tuple(f"contrast{i}_mean" for i in range(CONTRAST_BANDS + 1)))


def _runs(mask: np.ndarray) -> int:
    """How many runs of True ``mask`` holds."""
    return int(np.sum(np.diff(np.concatenate([[0], mask.astype(np.int8)])) == 1))


def _slope(values: np.ndarray, where: np.ndarray) -> float:
    """Straight-line trend of ``values`` over the frames ``where`` holds, per second."""
    t = np.flatnonzero(where) * FRAME / SAMPLE_RATE
    if t.size < 3 or np.ptp(t) == 0:
        return 0.0
    return float(np.polyfit(t, values[where], 1)[0])


def _pitch(audio: np.ndarray, sound: np.ndarray) -> tuple[list[float], np.ndarray]:
    """The pitch statistics and the voiced-frame mask (frames,)."""
    from affectllm.cues.extractors.pitch_track import pyin

    f0, voiced = pyin(audio, PITCH_MIN_HZ, PITCH_MAX_HZ, SAMPLE_RATE, PITCH_WINDOW, FRAME)
    n = sound.size
    f0, voiced = np.resize(f0, n), np.resize(voiced, n) & sound & np.isfinite(np.resize(f0, n))
    if voiced.sum() < 3:
        return [0.0] * len(_PITCH), voiced
    st = 12 * np.log2(f0[voiced] / 55.0)
    median = float(np.median(st))
    rel = st - median
    steps = np.diff(12 * np.log2(np.where(voiced, f0, np.nan) / 55.0))
    steps = steps[np.isfinite(steps)]  # only between consecutive voiced frames
    periods = 1.0 / f0[voiced]
    jitter = float(np.mean(np.abs(np.diff(periods))) / np.mean(periods)) if periods.size > 1 else 0.0
    p10, p90, p5, p95 = np.percentile(rel, [10, 90, 5, 95])
    full = np.zeros(n)
    full[voiced] = rel
    stats = [median, float(rel.std()), p10, p90, p95 - p5, _slope(full, voiced),
             float(np.mean(np.abs(steps))) if steps.size else 0.0, float(steps.std()) if steps.size else 0.0,
             min(jitter, 1.0)]
    return [float(x) for x in stats], voiced


def _loudness(loud: np.ndarray, sound: np.ndarray, voiced: np.ndarray) -> list[float]:
    rel = loud - float(loud.max())
    level = rel[sound]
    steps = np.abs(np.diff(rel))[(sound[1:] & sound[:-1])]
    shimmer = np.abs(np.diff(rel))[(voiced[1:] & voiced[:-1])]
    unvoiced = sound & ~voiced
    gap = float(rel[voiced].mean() - rel[unvoiced].mean()) if voiced.any() and unvoiced.any() else 0.0
    p10, p90 = np.percentile(level, [10, 90])
    return [float(level.mean()), float(level.std()), float(p10), float(p90), _slope(rel, sound),
            float(steps.mean()) if steps.size else 0.0, float(shimmer.mean()) if shimmer.size else 0.0, gap]


def _timing(sound: np.ndarray, voiced: np.ndarray) -> list[float]:
    first, last = np.flatnonzero(sound)[[0, -1]]
    span_s = (last - first + 1) * FRAME / SAMPLE_RATE
    inside = sound[first:last + 1]
    return [float(voiced.sum() / sound.sum()), _runs(voiced) / span_s, _runs(sound) / span_s,
            float((~inside).mean()), float(sound.sum() * FRAME / SAMPLE_RATE)]


def _band_db(power: np.ndarray, freqs: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return 10 * np.log10(power[(freqs >= lo) & (freqs < hi)].sum(0) + 1e-10)


def _spectral(audio: np.ndarray, sound: np.ndarray) -> list[float]:
    """Spectral-envelope statistics over the sounding frames: shape, tilt, MFCCs, band contrast."""
    from affectllm.cues.extractors import spectrum

    spec = spectrum.power_spectrogram(audio, 2 * FRAME, FRAME)
    spec = spec[:, :sound.size] if spec.shape[1] >= sound.size else np.pad(spec, ((0, 0), (0, sound.size - spec.shape[1])))
    s = spec[:, sound]
    freqs = spectrum.fft_frequencies(SAMPLE_RATE, 2 * FRAME)
    mag = np.sqrt(s)
    centroid = spectrum.spectral_centroid(mag, freqs)
    low = _band_db(s, freqs, 50, 1000)
    shape = [centroid.mean() / 1000, centroid.std() / 1000,
             spectrum.spectral_bandwidth(mag, freqs).mean() / 1000,
             spectrum.spectral_rolloff(mag, freqs).mean() / 1000,
             spectrum.spectral_flatness(mag).mean(),
             spectrum.zero_crossing_rate(audio, 2 * FRAME, FRAME)[:sound.size][sound].mean(),
             float(np.mean(_band_db(s, freqs, 1000, 5000) - low)),
             float(np.mean(10 * np.log10(s[(freqs >= 2000) & (freqs < 5000)].max(0) + 1e-10)
                           - 10 * np.log10(s[freqs < 2000].max(0) + 1e-10)))]
    mel = spectrum.mel_power(s, SAMPLE_RATE, 40)
    mfcc = spectrum.mfcc(spectrum.power_to_db(mel), N_MFCC + 1)[1:]
    delta = np.diff(mfcc, axis=1) if mfcc.shape[1] > 1 else np.zeros((N_MFCC, 1))
    contrast = spectrum.spectral_contrast(mag, freqs, CONTRAST_BANDS, 100.0)
    return ([float(x) for x in shape] + list(mfcc.mean(1) / 10) + list(mfcc.std(1) / 10)
            + list(delta.std(1) / 10) + list(contrast.mean(1) / 10))


def prosody_statistics(audio: np.ndarray, frames: SoundFrames) -> np.ndarray:
    """audio (samples,) float32 at SAMPLE_RATE -> (len(PROSODY_FEATURES),) float32; zeros without sound."""
    sound = frames.mask
    if sound.sum() < 3:
        return np.zeros(len(PROSODY_FEATURES), dtype=np.float32)
    pitch, voiced = _pitch(audio, sound)
    loud = frame_loudness_db(audio)
    values = pitch + _loudness(loud, sound, voiced) + _timing(sound, voiced) + _spectral(audio, sound)
    return np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
