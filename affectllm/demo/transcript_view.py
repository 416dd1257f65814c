"""The words: transcript with timings, emotionally loaded words highlighted (VADER valence, NRC emotions)."""

from __future__ import annotations

import html

from affectllm.demo.prosody_plot import word_colour


def _hit_span(surface: str, hit: dict) -> str:
    parts = [f"valence {hit['valence']:+.1f}"]
    if hit.get("nrc"):
        parts.append("NRC: " + ", ".join(hit["nrc"]))
    if hit.get("negated"):
        parts.append("negated")
    if hit.get("t") is not None:
        parts.append(f"at {hit['t']:.2f} s")
    cls = "affect-word affect-negated" if hit.get("negated") else "affect-word"
    return (f'<mark class="{cls}" style="border-color:{word_colour(hit)};color:{word_colour(hit)}" '
            f'title="{html.escape("; ".join(parts), quote=True)}">{html.escape(surface)}</mark>')


def highlighted_words(surface: list[str], hits: list[dict], times: list[float | None] | None = None) -> str:
    """Tokens joined by spaces, the hit indices highlighted; ``times`` adds a tooltip per word."""
    by_index = {h["index"]: h for h in hits}
    out = []
    for i, word in enumerate(surface):
        if i in by_index:
            out.append(_hit_span(word, by_index[i]))
        elif times and times[i] is not None:
            out.append(f'<span title="{times[i]:.2f} s">{html.escape(word)}</span>')
        else:
            out.append(html.escape(word))
    return " ".join(out)


def transcript_html(cues: dict) -> str:
    """The transcript (and the subtitle, when one was analysed instead) with loaded words marked."""
    speech = cues.get("speech") or {}
    text = cues.get("text") or {}
    words = speech.get("words") or []
    hits = text.get("hits") or []
    blocks = []
    if words:
        from_transcript = text.get("source") == "transcript"
        body = highlighted_words([w["word"] for w in words], hits if from_transcript else [],
                                 [w["start"] for w in words])
        blocks.append(f'<div class="affect-transcript"><b>Transcript</b> '
                      f'<span class="affect-dim">(local Whisper; hover a word for its time)</span><br>{body}</div>')
    elif cues.get("has_audio"):
        blocks.append('<div class="affect-transcript affect-dim">No speech recognised in the audio.</div>')
    if text.get("present") and (text.get("source") == "subtitle" or not words):
        label = "Subtitle" if cues.get("has_video") or cues.get("has_audio") else "Text"
        body = highlighted_words(text["text"].split(), hits)
        blocks.append(f'<div class="affect-transcript"><b>{label}</b> '
                      f'<span class="affect-dim">(analysed for lexical affect)</span><br>{body}</div>')
    if text.get("present"):
        blocks.append(f'<div class="affect-note">{html.escape(text.get("summary", ""))}</div>')
    if not blocks:
        return '<div class="affect-dim">No words: no speech and no text.</div>'
    legend = ('<div class="affect-legend"><mark class="affect-word" style="border-color:#1f8a4c;color:#1f8a4c">positive'
              '</mark> <mark class="affect-word" style="border-color:#c0392b;color:#c0392b">negative</mark> '
              '<mark class="affect-word" style="border-color:#b7791f;color:#b7791f">emotion-associated</mark> '
              '<mark class="affect-word affect-negated" style="border-color:#888;color:#888">negated</mark></div>')
    return "".join(blocks) + legend
