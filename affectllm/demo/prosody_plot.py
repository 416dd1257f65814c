"""Pitch and loudness over time, pauses shaded, loaded words and timeline windows marked.

Drawn with matplotlib's object API on an Agg canvas (no pyplot state), so
concurrent requests never share a figure.
"""

from __future__ import annotations

import numpy as np

PAUSE_COLOUR = "#c9ced6"
LOUDNESS_RANGE_DB = 50.0  # dB shown below the loudest frame
LABEL_ROWS = 3  # loaded-word labels cycle through this many heights so neighbours do not overlap
WORD_POSITIVE, WORD_NEGATIVE, WORD_OTHER = "#1f8a4c", "#c0392b", "#b7791f"
# Drawn at about the size the page shows it (the full evidence width at a 1280 px window), so points stay points.
WIDTH_PX, HEIGHT_PX = 1100, 400
TICK_PT, LABEL_PT, LEGEND_PT, WORD_PT = 10, 11, 9.5, 11
LABEL_BAND_PX = 30  # blank band on top: the page lays the panel's label over the image


def word_colour(hit: dict) -> str:
    """Colour of a loaded word: green positive, red negative, amber emotion-associated but neutral."""
    v = -hit["valence"] if hit.get("negated") else hit["valence"]
    return WORD_POSITIVE if v > 0 else WORD_NEGATIVE if v < 0 else WORD_OTHER


def prosody_image(voice: dict, text: dict | None = None, window_edges: list[float] | None = None,
                  width_px: int = WIDTH_PX, height_px: int = HEIGHT_PX) -> np.ndarray | None:
    """The voice cue dict -> (H, W, 3) uint8 RGB plot; None when the clip has no audible voice.

    ``text``: the lexical cue dict; its time-stamped hits are marked on the pitch axis.
    """
    if not voice.get("present") or not voice.get("times"):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax_p, ax_l = fig.subplots(2, 1, sharex=True)
    t = np.asarray(voice["times"], dtype=float)
    pitch = np.array([np.nan if v is None else v for v in voice["pitch_hz"]], dtype=float)
    _draw_tracks(ax_p, ax_l, voice, t, pitch, np.asarray(voice["loudness_db"], dtype=float))
    for i, (a, b) in enumerate(voice.get("pauses") or []):
        for ax in (ax_p, ax_l):
            ax.axvspan(a, b, color=PAUSE_COLOUR, alpha=0.6, lw=0, label="pause" if i == 0 and ax is ax_l else None)
    for edge in window_edges or []:
        for ax in (ax_p, ax_l):
            ax.axvline(edge, color="#718096", ls=":", lw=1)
    _mark_words(ax_p, pitch, [h for h in (text or {}).get("hits", []) if h.get("t") is not None])
    ax_l.set_xlim(0, max(float(voice.get("duration") or 0.0), float(t[-1])))
    for ax in (ax_p, ax_l):
        ax.legend(loc="lower right", fontsize=LEGEND_PT, framealpha=0.8)
        ax.grid(alpha=0.25)
        ax.tick_params(labelsize=TICK_PT)
    fig.tight_layout(rect=(0, 0, 1, 1 - LABEL_BAND_PX / height_px))
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def _draw_tracks(ax_p, ax_l, voice: dict, t: np.ndarray, pitch: np.ndarray, loud: np.ndarray) -> None:
    """Pitch (Hz, NaN where unvoiced) and loudness (dBFS) over time (n,), each with its baseline."""
    ax_p.plot(t, pitch, color="#2b6cb0", lw=1.8, label="pitch")
    if voice.get("pitch_baseline_hz"):
        ax_p.axhline(voice["pitch_baseline_hz"], color="#2b6cb0", ls="--", lw=0.9, alpha=0.6,
                     label=f"baseline {voice['pitch_baseline_hz']:.0f} Hz")
    ax_p.set_ylabel("pitch (Hz)", fontsize=LABEL_PT)
    ax_l.plot(t, loud, color="#6b46c1", lw=1.4, label="loudness")
    if voice.get("loudness_baseline_db") is not None:
        ax_l.axhline(voice["loudness_baseline_db"], color="#6b46c1", ls="--", lw=0.9, alpha=0.6,
                     label=f"baseline {voice['loudness_baseline_db']:.0f} dBFS")
    ax_l.set_ylabel("loudness (dBFS)", fontsize=LABEL_PT)
    # Silence sits at the -200 dB floor of the RMS; show the speech range, not the floor.
    ax_l.set_ylim(max(float(loud.min()), float(loud.max()) - LOUDNESS_RANGE_DB) - 2, float(loud.max()) + 3)
    ax_l.set_xlabel("time (s)", fontsize=LABEL_PT)


def _mark_words(ax_p, pitch: np.ndarray, timed: list[dict]) -> None:
    """A line per time-stamped loaded word, its label in the headroom above the pitch track."""
    finite = pitch[np.isfinite(pitch)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = max(10.0, 0.15 * (hi - lo))
        ax_p.set_ylim(lo - pad, hi + (1.2 + 0.9 * LABEL_ROWS) * pad)  # headroom for the word labels
        label_y, label_step = hi + 1.2 * pad, 0.9 * pad
    else:
        ax_p.text(0.5, 0.5, "no voiced (pitched) sound", transform=ax_p.transAxes, ha="center", color="#718096")
        label_y = None
    for i, hit in enumerate(timed):
        colour = word_colour(hit)
        ax_p.axvline(hit["t"], color=colour, lw=1, alpha=0.7)
        if label_y is not None:
            ax_p.text(hit["t"], label_y + (i % LABEL_ROWS) * label_step, ("not " if hit.get("negated") else "")
                      + hit["word"], color=colour, fontsize=WORD_PT, ha="left", va="bottom", fontweight="bold")
