"""Emotions per time window of a long clip: the clip's cues cut by time, each window fused on its own.

The clip-level cues already hold time-stamped evidence (face frames, words,
the audio itself), so a window's cues are rebuilt from them with the cue
path's own summarisers, and the deterministic cue-fusion rule names the
window's emotions. No model runs again except the pitch tracker on the
window's audio.
"""

from __future__ import annotations

import html

import numpy as np

WINDOW_S = 4.0  # s per timeline segment
MIN_WINDOWS = 2  # a clip needs at least this many full windows (plus a bit) to get a timeline


def windows(duration: float, window_s: float = WINDOW_S) -> list[tuple[float, float]]:
    """[(start, end)] s covering ``duration``; a tail shorter than half a window joins the last one."""
    if duration <= window_s * (MIN_WINDOWS - 1) + window_s / 2:
        return []
    edges = list(np.arange(0.0, duration, window_s))
    spans = [(float(a), float(min(a + window_s, duration))) for a in edges]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < window_s / 2:
        spans[-2] = (spans[-2][0], spans[-1][1])
        spans.pop()
    return [(round(a, 3), round(b, 3)) for a, b in spans]


def window_cues(clip, cues: dict, start: float, end: float) -> dict:
    """The cue dict of the [start, end) part of ``clip`` (a MediaClip), from the clip-level ``cues``."""
    from affectllm.cues.extract import text_cues
    from affectllm.cues.extractors.face import summarize_faces
    from affectllm.cues.extractors.voice import prosody_cues
    from affectllm.core.media_constants import SAMPLE_RATE

    out: dict = {"duration": round(end - start, 3), "has_video": bool(cues.get("has_video")),
                 "has_audio": bool(cues.get("has_audio"))}
    face = cues.get("face") or {}
    if out["has_video"] and "track" in face:
        track = [f for f in face["track"] if start <= f["t"] < end]
        out["has_video"] = bool(track)
        out["face"] = summarize_faces(track, tuple(face["frame_size"])) if track else {"present": False}
    words = [w for w in (cues.get("speech") or {}).get("words", []) if start <= w["start"] < end]
    said = " ".join(w["word"] for w in words)
    out["speech"] = {"present": bool(words), "text": said, "words": words,
                     "summary": f'says: "{said}"' if said else "no speech recognised"}
    if out["has_audio"] and clip.has_audio:
        audio = clip.audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
        local = [{**w, "start": w["start"] - start, "end": w["end"] - start} for w in words]
        out["voice"] = prosody_cues(audio, SAMPLE_RATE, words=local or None)
    out["text"] = text_cues(said, words=words or None, source="transcript")
    return out


def segment_timeline(clip, cues: dict, window_s: float = WINDOW_S) -> list[dict]:
    """[{"start", "end", "emotions", "valence", "evidence"}] per window; [] for clips shorter than two windows."""
    from affectllm.cues.evidence.weigh import fuse
    from affectllm.cues.evidence.describe import evidence_phrases

    out = []
    for start, end in windows(float(cues.get("duration") or 0.0), window_s):
        part = window_cues(clip, cues, start, end)
        fused = fuse(part)
        out.append({"start": start, "end": end, "emotions": fused.emotions, "valence": fused.valence,
                    "evidence": evidence_phrases(part)[:3]})
    return out


def valence_colour(valence: float) -> str:
    """A background colour from red (negative) through grey to green (positive)."""
    v = max(-1.0, min(1.0, valence))
    if v >= 0:
        r, g, b = 236 - 110 * v, 236 - 40 * v, 236 - 110 * v
    else:
        r, g, b = 236 + 10 * v, 236 + 120 * v, 236 + 120 * v
    return f"rgb({r:.0f},{g:.0f},{b:.0f})"


def timeline_html(timeline: list[dict], duration: float) -> str:
    """One band per window, as wide as the window, coloured by valence, with the emotions and evidence."""
    if not timeline:
        return ""
    total = max(duration, timeline[-1]["end"]) or 1.0
    cells = []
    for seg in timeline:
        width = 100 * (seg["end"] - seg["start"]) / total
        tip = html.escape("; ".join(seg["evidence"]) or "no notable cue", quote=True)
        cells.append(
            f'<div class="affect-seg" style="width:{width:.2f}%;background:{valence_colour(seg["valence"])}" '
            f'title="{tip}"><div class="affect-seg-time">{seg["start"]:.0f}–{seg["end"]:.0f} s</div>'
            f'<div class="affect-seg-emo">{html.escape(", ".join(seg["emotions"]))}</div>'
            f'<div class="affect-seg-val">valence {seg["valence"]:+.2f}</div></div>')
    return (f'<div class="affect-timeline-title">Emotions per {timeline[0]["end"] - timeline[0]["start"]:.0f} s '
            f'window (hover a window for its evidence)</div><div class="affect-timeline">{"".join(cells)}</div>')
