"""Voice prosody cues, each relative to the clip's own baseline.

Pitch (probabilistic YIN, ``affectllm.cues.extractors.pitch_track``, with voicing), loudness (RMS in dBFS),
pauses, voiced ratio and, when word timings are given, speaking rate. The
baseline is the clip's own median, so "pitch 30% above baseline" means above
this speaker's usual level in this clip, whatever their voice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from affectllm.core.media_constants import SAMPLE_RATE

if TYPE_CHECKING:
    from affectllm.cues.schema import VoiceCues

HOP_S = 0.04  # s between analysis frames (25 frames/s: enough for intonation, cheap for pYIN)
FRAME_LENGTH = 1024  # samples (64 ms at 16 kHz): two periods of the lowest pitch we track
PITCH_MIN_HZ, PITCH_MAX_HZ = 65.0, 500.0
SILENCE_BELOW_PEAK_DB = 35.0  # frames this far under the loudest frame count as silence
SILENCE_FLOOR_DB = -55.0  # ... and anything under this level always does
MIN_PAUSE_S = 0.25
WINDOW_S = 1.0  # windows compared with the baseline
NOTABLE_PITCH_PCT = 15.0
NOTABLE_LOUDNESS_DB = 4.0
NOTABLE_PITCH_SLOPE = 0.5  # semitones/s of the clip's overall pitch trend worth mentioning


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where ``mask`` is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _fmt_span(a: float, b: float) -> str:
    return f"{a:.1f}-{b:.1f} s"


def prosody_cues(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, words: list[dict] | None = None) -> VoiceCues:
    """audio (samples,) float32 mono -> the voice cue dict.

    ``words``: optional transcript words with "start"/"end" seconds (speaking rate).
    Tracks are time-stamped: ``times`` (s), ``pitch_hz`` (None where unvoiced), ``loudness_db``.
    """
    from affectllm.cues.extractors.pitch_track import pyin
    from affectllm.cues.extractors.spectrum import frames

    hop = int(round(HOP_S * sample_rate))
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size < FRAME_LENGTH:
        audio = np.pad(audio, (0, FRAME_LENGTH - audio.size))
    rms = np.sqrt(np.mean(np.square(frames(audio, FRAME_LENGTH, hop)), axis=0))
    loud = 20 * np.log10(np.maximum(rms, 1e-10))
    n = len(loud)
    times = np.arange(n) * hop / float(sample_rate)
    peak = float(loud.max())
    active = loud > max(SILENCE_FLOOR_DB, peak - SILENCE_BELOW_PEAK_DB)
    out: VoiceCues = {"present": bool(active.any()), "hop_s": HOP_S, "duration": round(len(audio) / sample_rate, 3)}
    if not active.any():
        out.update(times=[], pitch_hz=[], loudness_db=[], pauses=[], summary="no audible voice (silence)")
        return out

    f0, voiced = pyin(audio, PITCH_MIN_HZ, PITCH_MAX_HZ, sample_rate, FRAME_LENGTH, hop)
    f0 = f0[:n]
    voiced = voiced[:n] & active & np.isfinite(f0)

    first, last = np.flatnonzero(active)[[0, -1]]
    pauses = [(times[a], times[b]) for a, b in _runs(~active[first:last + 1])
              if (b - a) * HOP_S >= MIN_PAUSE_S for a, b in [(a + first, b + first)]]

    out.update(
        times=[round(float(t), 3) for t in times],
        pitch_hz=[round(float(v), 1) if ok else None for v, ok in zip(f0, voiced)],
        loudness_db=[round(float(v), 1) for v in loud],
        pauses=[[round(float(a), 2), round(float(b), 2)] for a, b in pauses],
        # Share of the speaking span (first to last audible frame) spent in pauses.
        pause_share=round(sum(b - a for a, b in pauses) / max(float(times[last] - times[first]), HOP_S), 3),
        active_s=round(float(active.sum() * HOP_S), 2),
        voiced_ratio=round(float(voiced.sum() / max(active.sum(), 1)), 3),
    )
    loud_base = float(np.median(loud[active]))
    out["loudness_baseline_db"] = round(loud_base, 1)
    notes = _loudness_trend(out, times, loud, active)
    if voiced.any():
        notes += _pitch_cues(out, times, f0, voiced, loud, active, loud_base, len(audio) / sample_rate)
    else:
        notes.append("no voiced (pitched) sound")
    notes += _pause_and_rate(out, pauses, words)
    out["voiced_note"] = f"voiced {100 * out['voiced_ratio']:.0f}% of audible time"
    out["notes"] = notes
    out["summary"] = "; ".join(notes + [out["voiced_note"]])
    return out


def _pause_and_rate(out: dict, pauses: list, words: list[dict] | None) -> list[str]:
    """Notes on the pauses and, with transcript words, the speaking rate (into ``out``)."""
    notes = []
    if pauses:
        longest = max(b - a for a, b in pauses)
        notes.append(f"{len(pauses)} pause{'s' if len(pauses) > 1 else ''} (longest {longest:.1f} s)")
    if words:
        span = words[-1]["end"] - words[0]["start"]
        if span > 0:
            out["speaking_rate_wps"] = round(len(words) / span, 2)
            notes.append(f"speaking rate {out['speaking_rate_wps']:.1f} words/s")
    return notes


def _loudness_trend(out: dict, times: np.ndarray, loud: np.ndarray, active: np.ndarray) -> list[str]:
    """A straight-line fit of loudness over the audible frames (n,): the overall rise or fall, into ``out``."""
    first, last = np.flatnonzero(active)[[0, -1]]
    if active.sum() < 3 or times[last] <= times[first]:
        return []
    slope = float(np.polyfit(times[active], loud[active], 1)[0])
    change = slope * float(times[last] - times[first])
    out["loudness_slope_db_per_s"] = round(slope, 2)
    out["loudness_change_db"] = round(change, 1)
    if abs(change) >= NOTABLE_LOUDNESS_DB:
        return [f"loudness {'rises' if change > 0 else 'falls'} {abs(change):.0f} dB over the clip"]
    return []


def _pitch_cues(out: dict, times: np.ndarray, f0: np.ndarray, voiced: np.ndarray, loud: np.ndarray,
                active: np.ndarray, loud_base: float, end: float) -> list[str]:
    """Pitch baseline, range and contour over the voiced frames (n,), and the windows that stand out, into ``out``."""
    pitch = f0[voiced]
    base = float(np.median(pitch))
    lo, hi = np.percentile(pitch, [5, 95])
    out["pitch_baseline_hz"] = round(base, 1)
    out["pitch_range_semitones"] = round(float(12 * np.log2(hi / lo)), 2)
    notes = [f"pitch median {base:.0f} Hz, range {out['pitch_range_semitones']:.1f} semitones"]
    if voiced.sum() >= 10 and np.ptp(times[voiced]) > 0:
        # The overall contour: a straight line through the voiced frames, in semitones per second.
        slope = float(np.polyfit(times[voiced], 12 * np.log2(f0[voiced] / base), 1)[0])
        out["pitch_slope_st_per_s"] = round(slope, 2)
        if abs(slope) >= NOTABLE_PITCH_SLOPE:
            notes.append(f"pitch {'rises' if slope > 0 else 'falls'} {abs(slope):.1f} semitones/s overall")
    windows = _window_deviations(times, f0, voiced, loud, active, base, loud_base, end)
    out["windows"] = windows
    if not windows:
        return notes
    w = max(windows, key=lambda w: abs(w["pitch_pct"]) if w["pitch_pct"] is not None else -1)
    if w["pitch_pct"] is not None and abs(w["pitch_pct"]) >= NOTABLE_PITCH_PCT:
        out["pitch_peak"] = w
        direction = "above" if w["pitch_pct"] > 0 else "below"
        notes.append(f"pitch {abs(w['pitch_pct']):.0f}% {direction} baseline at {_fmt_span(w['start'], w['end'])}")
    w = max(windows, key=lambda w: w["loudness_db"])
    if w["loudness_db"] >= NOTABLE_LOUDNESS_DB:
        out["loudness_peak"] = w
        notes.append(f"loudness {w['loudness_db']:.0f} dB above baseline at {_fmt_span(w['start'], w['end'])}")
    return notes


def _window_deviations(times: np.ndarray, f0: np.ndarray, voiced: np.ndarray, loud: np.ndarray,
                       active: np.ndarray, pitch_base: float, loud_base: float, end: float) -> list[dict]:
    """Per WINDOW_S window: median pitch in % of the baseline, mean loudness in dB over the baseline.

    A last window shorter than half WINDOW_S is left out: a few frames make no level.
    """
    out = []
    for start in np.arange(0.0, end - WINDOW_S / 2, WINDOW_S):
        sel = (times >= start) & (times < start + WINDOW_S)
        if not (sel & active).any():
            continue
        v = sel & voiced
        # Windows with only a few voiced frames give unstable medians: ignore their pitch.
        pct = 100 * (float(np.median(f0[v])) / pitch_base - 1) if v.sum() >= 5 else None
        out.append({"start": round(float(start), 2), "end": round(float(min(start + WINDOW_S, end)), 2),
                    "pitch_pct": None if pct is None else round(pct, 1),
                    "loudness_db": round(float(np.mean(loud[sel & active])) - loud_base, 1)})
    return out
