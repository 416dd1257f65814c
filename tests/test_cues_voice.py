"""Prosody cues against generated audio whose pitch, loudness and pauses are known."""

from __future__ import annotations

import numpy as np
import pytest

from affectllm.cues.extractors.voice import prosody_cues
from affectllm.core.media_constants import SAMPLE_RATE


def sine(freq: float, seconds: float, db: float | np.ndarray = -10.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    amp = np.sqrt(2) * 10 ** (np.asarray(db) / 20)  # RMS of the sine = db dBFS
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_tone_pitch_and_voicing():
    cues = prosody_cues(sine(220, 2.0))
    assert cues["pitch_baseline_hz"] == pytest.approx(220, rel=0.02)
    assert cues["pitch_range_semitones"] < 0.5
    assert cues["voiced_ratio"] > 0.9
    assert cues["loudness_baseline_db"] == pytest.approx(-10, abs=1.0)
    voiced = [p for p in cues["pitch_hz"] if p is not None]
    assert len(cues["times"]) == len(cues["pitch_hz"]) == len(cues["loudness_db"]) and len(voiced) > 40


def test_loudness_ramp_is_measured_in_db():
    n = 4 * SAMPLE_RATE
    cues = prosody_cues(sine(300, 4.0, db=np.linspace(-30, -6, n)))
    assert cues["loudness_change_db"] == pytest.approx(24, abs=2)
    assert cues["loudness_slope_db_per_s"] == pytest.approx(6, abs=0.6)
    assert "loudness rises 24 dB over the clip" in cues["summary"]


def test_pitch_rise_relative_to_the_clips_baseline():
    audio = np.concatenate([sine(200, 2.0), sine(260, 1.0)])  # the last second is 30% higher
    cues = prosody_cues(audio)
    assert cues["pitch_baseline_hz"] == pytest.approx(200, rel=0.02)
    peak = cues["pitch_peak"]
    assert (peak["start"], peak["end"]) == (2.0, 3.0)
    assert peak["pitch_pct"] == pytest.approx(30, abs=3)
    assert "pitch 30% above baseline at 2.0-3.0 s" in cues["summary"]


def test_pause_between_two_tones():
    audio = np.concatenate([sine(220, 1.0), np.zeros(SAMPLE_RATE // 2, np.float32), sine(220, 1.0)])
    cues = prosody_cues(audio)
    assert len(cues["pauses"]) == 1
    start, end = cues["pauses"][0]
    assert start == pytest.approx(1.0, abs=0.1) and end == pytest.approx(1.5, abs=0.1)


def test_silence_has_no_voice():
    cues = prosody_cues(np.zeros(SAMPLE_RATE, np.float32))
    assert cues["present"] is False and cues["summary"] == "no audible voice (silence)"


def test_pitch_slope_and_pause_share():
    # A glide from 240 Hz down to 180 Hz over 4 s: 12*log2(180/240) = -4.98 semitones, i.e. -1.25 st/s.
    t = np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE
    freq = 240 * (180 / 240) ** (t / 4)  # exponential glide: a straight line in semitones
    glide = (0.3 * np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE)).astype(np.float32)
    cues = prosody_cues(glide)
    assert cues["pitch_slope_st_per_s"] == pytest.approx(-1.25, abs=0.1)
    assert "pitch falls 1.2 semitones/s overall" in cues["summary"]

    audio = np.concatenate([sine(220, 1.0), np.zeros(SAMPLE_RATE // 2, np.float32), sine(220, 1.0)])
    assert prosody_cues(audio)["pause_share"] == pytest.approx(0.5 / 2.5, abs=0.04)
