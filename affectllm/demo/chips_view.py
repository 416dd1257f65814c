"""The answer's emotions as chips, grouped by emotion family, coloured by valence, with a score where known."""

from __future__ import annotations

import html

from affectllm.demo.timeline import valence_colour


def emotion_scores(record) -> dict[str, float]:
    """{emotion: share of the listed emotions' cue scores} when the cue-fusion rule answered, else {}.

    Only the deterministic rule scores its words; an LLM's or a checkpoint's
    list has no calibrated confidence, so none is shown for them.
    """
    if record.extra.get("answered_by") != "cue-fusion":
        return {}
    raw = record.extra.get("cue_scores") or {}
    listed = {e: float(raw[e]) for e in record.emotions if e in raw}
    total = sum(listed.values())
    return {e: s / total for e, s in listed.items()} if total > 0 else {}


def chips_html(record) -> str:
    """HTML chips: one group per family in the answer's order; each chip shows its share when scored."""
    from affectllm.emotions import default_vocabulary

    if not record.emotions:
        return '<div class="affect-chips affect-empty">no emotion named</div>'
    vocab = default_vocabulary()
    scores = emotion_scores(record)
    groups: dict[str, list[str]] = {}
    for word in record.emotions:
        groups.setdefault(vocab.family(word) or "other", []).append(word)
    parts = []
    for family, words in groups.items():
        chips = []
        for w in words:
            val = vocab.valence(w) or 0.0
            conf = f'<span class="affect-conf">{100 * scores[w]:.0f}%</span>' if w in scores else ""
            tip = f"family {family}, valence {val:+.1f}" + (f", {100 * scores[w]:.0f}% of the cue score" if w in scores else "")
            chips.append(f'<span class="affect-chip" style="background:{valence_colour(val)}" '
                         f'title="{html.escape(tip, quote=True)}">{html.escape(w)}{conf}</span>')
        parts.append(f'<div class="affect-family"><span class="affect-family-name">{html.escape(family)}</span>'
                     f'{"".join(chips)}</div>')
    by = record.extra.get("answered_by")
    note = {"llm": "answered by the LLM over the cues",
            "cue-fusion": "answered by the cue-fusion rule" + (f" (LLM answer rejected: {record.extra['llm_rejected']})"
                                                               if record.extra.get("llm_rejected") else "")}.get(by, "")
    footer = f'<div class="affect-note">{html.escape(note)} · model {html.escape(record.model)}</div>'
    return f'<div class="affect-chips">{"".join(parts)}</div>{footer}'
