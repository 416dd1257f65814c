"""The short-time spectrum of a clip and the spectral-shape measures the voice head reads.

numpy only, so reading a voice pulls in neither scipy nor librosa nor numba. Each measure
follows librosa 0.11's conventions and dtypes (centred frames, periodic Hann window,
Slaney mel scale, orthonormal DCT-II, 80-dB floor): the trained voice head was fitted on
librosa's numbers, and these agree with them to float rounding.
"""

from __future__ import annotations

import numpy as np

AMIN = 1e-10  # power floor before taking logs
TOP_DB = 80.0  # decibel values are clipped this far under the array's maximum
ZERO_BAND = 1e-10  # samples this close to zero count as zero (positive) for zero crossings
FFT_BLOCK = 128  # frames per FFT call: cache-sized pieces run ~3x faster than one call over the clip
ROLLOFF_SHARE = 0.85  # roll-off: the frequency under which this share of the magnitude lies
CONTRAST_QUANTILE = 0.02  # contrast: the share of each band's bins averaged as its peak and as its valley


def frames(x: np.ndarray, length: int, hop: int, pad: str = "constant") -> np.ndarray:
    """x (samples,) -> (length, 1 + samples // hop) frames centred every hop samples: x padded by half a frame
    on each side (zeros, or ``pad="edge"``: the end samples repeated), a strided view of the padded copy."""
    padded = np.pad(x, length // 2, mode=pad)
    return np.lib.stride_tricks.sliding_window_view(padded, length)[::hop].T


def hann(n: int) -> np.ndarray:
    """(n,) periodic Hann window."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def power_spectrogram(audio: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """audio (samples,) -> (1 + n_fft // 2, 1 + samples // hop) |STFT|**2 of zero-padded centred frames."""
    windows, window = frames(audio, n_fft, hop).T, hann(n_fft)
    spectrum = np.empty((windows.shape[0], n_fft // 2 + 1), np.result_type(audio.dtype, np.complex64))
    for start in range(0, windows.shape[0], FFT_BLOCK):
        spectrum[start:start + FFT_BLOCK] = np.fft.rfft(windows[start:start + FFT_BLOCK] * window, axis=-1)
    return np.abs(spectrum.T) ** 2


def fft_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    """(1 + n_fft // 2,) centre frequency in Hz of each FFT bin."""
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)


def _column_shares(spec: np.ndarray) -> np.ndarray:
    """spec (bins, frames) -> same, each column divided by its sum (all-zero columns left as they are)."""
    total = spec.astype(np.float64).sum(axis=0, keepdims=True)
    total[total < np.finfo(spec.dtype).tiny] = 1.0
    return (spec / total).astype(spec.dtype)


def spectral_centroid(mag: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """mag (bins, frames), freqs (bins,) -> (frames,) magnitude-weighted mean frequency in Hz."""
    return np.sum(freqs[:, None] * _column_shares(mag), axis=0)


def spectral_bandwidth(mag: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """mag (bins, frames), freqs (bins,) -> (frames,) magnitude-weighted spread in Hz around the centroid."""
    deviation = np.abs(np.subtract.outer(spectral_centroid(mag, freqs), freqs)).T  # librosa's summation order
    return np.sum(_column_shares(mag) * deviation ** 2, axis=0) ** 0.5


def spectral_rolloff(mag: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """mag (bins, frames), freqs (bins,) -> (frames,) lowest bin frequency with ROLLOFF_SHARE of the magnitude below."""
    total = np.cumsum(mag, axis=0)
    return freqs[np.argmax(total >= ROLLOFF_SHARE * total[-1], axis=0)]


def spectral_flatness(mag: np.ndarray) -> np.ndarray:
    """mag (bins, frames) -> (frames,) geometric over arithmetic mean of the power."""
    power = np.maximum(AMIN, mag ** 2.0)
    return np.exp(np.mean(np.log(power), axis=0)) / np.mean(power, axis=0)


def zero_crossing_rate(audio: np.ndarray, length: int, hop: int) -> np.ndarray:
    """audio (samples,) -> (1 + samples // hop,) share of sign changes in edge-padded centred frames."""
    x = frames(audio, length, hop, pad="edge")
    negative = np.signbit(np.where(np.abs(x) <= ZERO_BAND, 0, x))
    return np.sum(negative[1:] != negative[:-1], axis=0) / length


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    above = 1000.0 / (200.0 / 3) + np.log(np.maximum(hz, 1000.0) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, above, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of hz_to_mel."""
    mel = np.asarray(mel, dtype=np.float64)
    start = 1000.0 / (200.0 / 3)
    return np.where(mel >= start, 1000.0 * np.exp(np.log(6.4) / 27.0 * (mel - start)), (200.0 / 3) * mel)


def mel_filters(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) float32 Slaney-normalised triangular filters from 0 Hz to Nyquist."""
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2))
    ramps = edges[:, None] - fft_frequencies(sample_rate, n_fft)[None, :]
    width = np.diff(edges)
    rising, falling = -ramps[:-2] / width[:-1, None], ramps[2:] / width[1:, None]
    weights = np.maximum(0, np.minimum(rising, falling)).astype(np.float32)
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def mel_power(power: np.ndarray, sample_rate: int, n_mels: int) -> np.ndarray:
    """power (bins, frames) -> (n_mels, frames) power in mel bands (n_fft read off the bin count)."""
    return mel_filters(sample_rate, 2 * (power.shape[0] - 1), n_mels) @ power


def power_to_db(power: np.ndarray) -> np.ndarray:
    """power (...) -> same, 10 log10 of power floored at AMIN, and at TOP_DB under the array's maximum."""
    db = 10.0 * np.log10(np.maximum(AMIN, power))
    return np.maximum(db, db.max() - TOP_DB)


def dct_matrix(n: int) -> np.ndarray:
    """(n, n) orthonormal DCT-II: row k is sqrt((1 or 2) / n) cos(pi k (2 i + 1) / 2n) over i."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    basis = np.cos(np.pi * k * (2 * i + 1) / (2 * n)) * np.sqrt(2.0 / n)
    basis[0] = np.sqrt(1.0 / n)
    return basis


def mfcc(mel_db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """mel_db (n_mels, frames) -> (n_mfcc, frames) cepstral coefficients c0..c(n_mfcc - 1), in mel_db's dtype."""
    return (dct_matrix(mel_db.shape[0])[:n_mfcc] @ mel_db).astype(mel_db.dtype)


def spectral_contrast(mag: np.ndarray, freqs: np.ndarray, n_bands: int, fmin: float) -> np.ndarray:
    """mag (bins, frames), freqs (bins,) -> (n_bands + 1, frames) peak-over-valley dB of octave bands from fmin."""
    edges = np.zeros(n_bands + 2)
    edges[1:] = fmin * 2.0 ** np.arange(n_bands + 1)
    valley, peak = np.zeros((2, n_bands + 1, mag.shape[1]))
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        band = (freqs >= lo) & (freqs <= hi)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1:] = True
        sub = mag[band][:-1] if k < n_bands else mag[band]
        take = max(int(np.rint(CONTRAST_QUANTILE * band.sum())), 1)
        ordered = np.sort(sub, axis=0)
        valley[k], peak[k] = ordered[:take].mean(axis=0), ordered[-take:].mean(axis=0)
    return power_to_db(peak) - power_to_db(valley)
