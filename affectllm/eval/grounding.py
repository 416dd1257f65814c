"""Explanation grounding: the share of cues an explanation cites that exist in the sample's cue record.

A *cited cue* is either

- a quoted span of the explanation ("..." or “...”, at least two words),
  grounded when it occurs in the cue record's text (e.g. the transcript); or
- a mention of an observable cue concept (smile, frown, tears, pitch,
  loudness, ...; see ``CUE_CONCEPTS``), grounded when the cue record
  contains any of that concept's evidence words (``"smile"`` is grounded by
  a face cue "happy" or an action unit ``au12``).

The cue record is the result record's ``cues`` object, flattened to
lower-case text (keys and values). Samples that cite nothing are not scored.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

# concept -> (words that cite it in an explanation, evidence words in a cue record). Prefix match on word starts.
CUE_CONCEPTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "smile": (("smil", "grin", "beam"), ("smil", "happy", "happiness", "joy", "au12", "lip_corner_pull", "lip corner")),
    "frown": (("frown", "scowl", "furrow"), ("frown", "au4", "brow_lower", "brow lower", "angry", "anger", "sad")),
    "raised brows": (("raised eyebrow", "raised brow", "eyebrows raised", "brows raised"), ("brow_raise", "brow raise", "au1", "au2", "surprise")),
    "tears": (("tear", "crying", "cries", "cried", "weep", "sob"), ("tear", "cry", "sob", "sad")),
    "laughter": (("laugh", "chuckl", "giggl"), ("laugh", "chuckl", "giggl", "happy")),
    "wide eyes": (("wide eye", "eyes wide", "widened eye"), ("eye_wide", "eye wide", "au5", "surprise", "fear")),
    "grimace": (("grimac", "wince", "winc"), ("grimac", "wince", "au20", "disgust", "fear")),
    "nose wrinkle": (("wrinkled nose", "nose wrinkl", "wrinkles her nose", "wrinkles his nose"), ("nose_wrinkl", "nose wrinkl", "au9", "disgust")),
    "pitch": (("pitch",), ("pitch", "f0")),
    "loudness": (("loud", "shout", "yell", "volume", "raised voice"), ("loud", "energy", "rms", "volume", "db")),
    "quiet voice": (("quiet", "soft voice", "softly", "whisper", "mumbl", "murmur"), ("quiet", "energy", "rms", "volume", "db", "whisper")),
    "speech rate": (("speaks quickly", "speaks fast", "rapid speech", "fast speech", "speaks slowly", "slow speech", "speech rate", "speaking rate"), ("rate", "tempo", "syllable", "words_per", "wpm")),
    "pauses": (("pause", "halting"), ("pause", "silence")),
    "trembling voice": (("trembl", "shaky voice", "voice shak", "quaver"), ("jitter", "shimmer", "trembl", "tremor")),
    "sigh": (("sigh",), ("sigh", "breath")),
    "head movement": (("nod", "shakes his head", "shakes her head", "head shake", "head tilt", "tilts"), ("head", "pose", "yaw", "pitch_deg", "nod")),
    "gaze": (("gaze", "looks away", "eye contact", "stare", "glanc"), ("gaze", "eye", "look")),
    "transcript": (("says", "said", "words", "transcript", "subtitle", "states", "mentions"), ("transcript", "subtitle", "text", "asr")),
}

_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_SPACE = re.compile(r"\s+")


def flatten_cues(cues: Any) -> str:
    """All keys and scalar values of a cue record as one lower-case string."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                parts.append(str(key))
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)
        elif node is not None:
            parts.append(str(node))

    walk(cues)
    return _SPACE.sub(" ", " ".join(parts).lower())


def _mentions(text: str, stems: Sequence[str]) -> bool:
    return any(re.search(r"(?<![a-z0-9])" + re.escape(stem), text) for stem in stems)


def cited_cues(explanation: str, cue_text: str) -> list[tuple[str, bool]]:
    """(cited cue, grounded?) pairs for one explanation against its flattened cue record."""
    text = _SPACE.sub(" ", (explanation or "").lower())
    out = []
    for quote in _QUOTE.findall(explanation or ""):
        quote_key = _SPACE.sub(" ", quote.lower()).strip(" .,!?;:")
        if len(quote_key.split()) >= 2:
            out.append((f'"{quote_key}"', quote_key in cue_text))
    for concept, (cites, evidence) in CUE_CONCEPTS.items():
        if _mentions(text, cites):
            out.append((concept, _mentions(cue_text, evidence)))
    return out


def grounding_scores(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """``{"grounding", "samples", "cited"}``: mean per-sample grounded share over samples citing a cue."""
    shares = []
    cited_total = 0
    for rec in records:
        pairs = cited_cues(str(rec.get("explanation") or ""), flatten_cues(rec.get("cues") or {}))
        if pairs:
            cited_total += len(pairs)
            shares.append(sum(ok for _, ok in pairs) / len(pairs))
    return {
        "grounding": sum(shares) / len(shares) if shares else 0.0,
        "samples": len(shares),
        "cited": cited_total,
    }
