"""The numpy spectrum measures against librosa's, which the voice head was trained on."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from affectllm.cues.extractors import spectrum
from affectllm.cues.extractors.sound_frames import FRAME, sound_frames
from affectllm.cues.heads.voice_prosody import CONTRAST_BANDS, N_MFCC, _band_db, _spectral
from affectllm.core.media_constants import SAMPLE_RATE

librosa = pytest.importorskip("librosa")
N_FFT = 2 * FRAME


def close(ours, theirs, atol: float = 1e-6) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=atol)


def voiced(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """A 14-harmonic tone around 180 Hz with 5-Hz vibrato, a slow loudness swell and a little noise."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(180 + 12 * np.sin(2 * np.pi * 5 * t)) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 15)) * (0.05 + 0.1 * np.sin(np.pi * t / seconds))
    return (tone + 0.005 * np.random.default_rng(seed).standard_normal(t.size)).astype(np.float32)


def padded(core: np.ndarray, before: int, after: int) -> np.ndarray:
    return np.concatenate([np.zeros(before, np.float32), core, np.zeros(after, np.float32)])


CLIPS = {
    "voiced": voiced(),
    "voiced_float64": voiced(1.0, seed=1).astype(np.float64),
    "shorter_than_a_frame": voiced(0.01, seed=2)[:150],
    "one_window": voiced(0.04, seed=3)[:N_FFT],
    "odd_length_in_silence": padded(voiced(0.5, seed=4)[:7777], 1601, 333),
    "silence": np.zeros(2001, np.float32),
}


def librosa_spectra(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_fft larger than the signal
        power = np.abs(librosa.stft(audio, n_fft=N_FFT, hop_length=FRAME, center=True)) ** 2
    return power, np.sqrt(power), librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=N_FFT)


@pytest.mark.parametrize("name", CLIPS)
def test_power_spectrogram_and_zero_crossings(name):
    audio = CLIPS[name]
    power, _, freqs = librosa_spectra(audio)
    ours = spectrum.power_spectrogram(audio, N_FFT, FRAME)
    assert ours.dtype == power.dtype
    close(ours, power)
    close(spectrum.fft_frequencies(SAMPLE_RATE, N_FFT), freqs)
    close(spectrum.zero_crossing_rate(audio, N_FFT, FRAME),
          librosa.feature.zero_crossing_rate(audio, frame_length=N_FFT, hop_length=FRAME)[0])


@pytest.mark.parametrize("name", CLIPS)
def test_spectral_shape(name):
    _, mag, freqs = librosa_spectra(CLIPS[name])
    close(spectrum.spectral_centroid(mag, freqs), librosa.feature.spectral_centroid(S=mag, freq=freqs)[0])
    close(spectrum.spectral_bandwidth(mag, freqs), librosa.feature.spectral_bandwidth(S=mag, freq=freqs)[0])
    close(spectrum.spectral_rolloff(mag, freqs), librosa.feature.spectral_rolloff(S=mag, freq=freqs)[0])
    close(spectrum.spectral_flatness(mag), librosa.feature.spectral_flatness(S=mag)[0])


@pytest.mark.parametrize("name", CLIPS)
def test_mel_cepstrum_and_contrast(name):
    power, mag, freqs = librosa_spectra(CLIPS[name])
    close(spectrum.mel_filters(SAMPLE_RATE, N_FFT, 40), librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=40))
    mel = librosa.feature.melspectrogram(S=power, sr=SAMPLE_RATE, n_mels=40)
    close(spectrum.mel_power(power, SAMPLE_RATE, 40), mel)
    db = librosa.power_to_db(mel)
    close(spectrum.power_to_db(mel), db)
    cepstrum = librosa.feature.mfcc(S=db, n_mfcc=N_MFCC + 1)  # float32: rounding scales with the largest value
    close(spectrum.mfcc(db, N_MFCC + 1), cepstrum, atol=1e-6 * np.abs(cepstrum).max())
    close(spectrum.spectral_contrast(mag, freqs, CONTRAST_BANDS, 100.0),
          librosa.feature.spectral_contrast(S=mag, freq=freqs, n_bands=CONTRAST_BANDS, fmin=100.0))


def test_orthonormal_dct():
    basis = spectrum.dct_matrix(40)
    close(basis @ basis.T, np.eye(40))


def librosa_spectral(audio: np.ndarray, sound: np.ndarray) -> list[float]:
    """``_spectral`` as it was, on librosa."""
    spec = np.abs(librosa.stft(audio, n_fft=2 * FRAME, hop_length=FRAME, center=True)) ** 2
    spec = spec[:, :sound.size] if spec.shape[1] >= sound.size else np.pad(spec, ((0, 0), (0, sound.size - spec.shape[1])))
    s = spec[:, sound]
    freqs = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=2 * FRAME)
    mag = np.sqrt(s)
    centroid = librosa.feature.spectral_centroid(S=mag, freq=freqs)[0]
    low = _band_db(s, freqs, 50, 1000)
    shape = [centroid.mean() / 1000, centroid.std() / 1000,
             librosa.feature.spectral_bandwidth(S=mag, freq=freqs)[0].mean() / 1000,
             librosa.feature.spectral_rolloff(S=mag, freq=freqs)[0].mean() / 1000,
             librosa.feature.spectral_flatness(S=mag)[0].mean(),
             librosa.feature.zero_crossing_rate(audio, frame_length=2 * FRAME, hop_length=FRAME)[0][:sound.size][sound].mean(),
             float(np.mean(_band_db(s, freqs, 1000, 5000) - low)),
             float(np.mean(10 * np.log10(s[(freqs >= 2000) & (freqs < 5000)].max(0) + 1e-10)
                           - 10 * np.log10(s[freqs < 2000].max(0) + 1e-10)))]
    mel = librosa.feature.melspectrogram(S=s, sr=SAMPLE_RATE, n_mels=40)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC + 1)[1:]
    delta = np.diff(mfcc, axis=1) if mfcc.shape[1] > 1 else np.zeros((N_MFCC, 1))
    contrast = librosa.feature.spectral_contrast(S=mag, freq=freqs, n_bands=CONTRAST_BANDS, fmin=100.0)
    return ([float(x) for x in shape] + list(mfcc.mean(1) / 10) + list(mfcc.std(1) / 10)
            + list(delta.std(1) / 10) + list(contrast.mean(1) / 10))


@pytest.mark.parametrize("audio", [voiced(), padded(voiced(1.3, seed=5)[:20001], 4000, 3999)],
                         ids=["voiced", "odd_length_in_silence"])
def test_spectral_statistics_match_librosa(audio):
    sound = sound_frames(audio).mask
    assert sound.sum() >= 3
    ours = _spectral(audio, sound)
    assert len(ours) == 8 + 3 * N_MFCC + CONTRAST_BANDS + 1
    close(ours, librosa_spectral(audio, sound))


def test_spectrum_imports_no_scipy_librosa_or_numba():
    code = ("import sys, numpy as np; from affectllm.cues.extractors import spectrum as s; "
            "a = np.random.default_rng(0).standard_normal(16000).astype(np.float32); "
            "p = s.power_spectrogram(a, 640, 320); m = np.sqrt(p); f = s.fft_frequencies(16000, 640); "
            "s.spectral_bandwidth(m, f); s.spectral_rolloff(m, f); s.spectral_flatness(m); "
            "s.zero_crossing_rate(a, 640, 320); s.spectral_contrast(m, f, 6, 100.0); "
            "s.mfcc(s.power_to_db(s.mel_power(p, 16000, 40)), 21); "
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'scipy', 'librosa', 'numba'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
