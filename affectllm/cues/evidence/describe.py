"""Cue dicts -> the short texts a prompt, an explanation and a training target quote.

``clue_texts`` gives one line per modality (visual, acoustic, lexical) with
numbers; ``evidence_phrases`` gives the few concrete phrases an explanation
cites ("lip corners raised", "pitch 30% above baseline", a quoted phrase);
``action_unit_list`` gives the AU rows of ExpLLM-style targets.
"""

from __future__ import annotations

from affectllm.cues.extractors.face_geometry import MEASURE_BY_NAME

# Which emotion each approximated action unit usually accompanies (FACS/EMFACS conventions).
AU_EMOTION = {"AU12": "happiness", "AU15": "sadness", "AU20": "fear", "AU23": "anger", "AU25/26": "surprise",
              "AU5": "surprise", "AU43": "fatigue", "AU1+2": "surprise", "AU4": "anger"}


def clue_texts(cues: dict) -> dict[str, str]:
    """{"visual", "acoustic", "lexical"} one line each ("" where the modality is absent)."""
    face, voice, speech, text = (cues.get(k) or {} for k in ("face", "voice", "speech", "text"))
    visual = face.get("summary", "") if cues.get("has_video") else ""
    acoustic = voice.get("summary", "") if cues.get("has_audio") else ""
    lexical = ""
    if text.get("present"):
        said = f'"{text["text"]}"' if len(text["text"]) <= 300 else f'"{text["text"][:300]}..."'
        lexical = f"{'subtitle' if text.get('source') == 'subtitle' else 'says'} {said}; {text['summary']}"
    elif cues.get("has_audio"):
        lexical = speech.get("summary", "no speech recognised")
    return {"visual": visual, "acoustic": acoustic, "lexical": lexical}


def cues_prompt_text(cues: dict) -> str:
    """The evidence block of the reasoning prompt, one labelled line per modality present."""
    clues = clue_texts(cues)
    lines = [f"{name.capitalize()}: {text}" for name, text in clues.items() if text]
    return "\n".join(lines) or "No usable evidence: no face, no audible voice, no words."


def face_phrases(face: dict, limit: int = 2) -> list[str]:
    if not face.get("present"):
        return []
    out = []
    dom = face["dominant_expression"]
    n = face["frames_with_face"]
    top = face.get("dominant_top_frames", round(face["dominant_share"] * n))
    if "expression_peak" in face:  # read at its most expressive frames (face_peak)
        out.append(f"the face reads {dom} (p={face['expression_peak'][dom]:.2f} at its peak, top in {top}/{n} face "
                   "frames)")
    else:
        out.append(f"the face reads {dom} (p={face['expression_mean'][dom]:.2f}, top in {top}/{n} face frames)")
    for m in face.get("movements", [])[:limit]:
        out.append(m["text"].split(" in ")[0])
    return out


def voice_phrases(voice: dict, limit: int = 2) -> list[str]:
    if not voice.get("present"):
        return []
    notes = [n for n in voice.get("notes", []) if not n.startswith("pitch median")]
    return notes[:limit]


def text_phrases(text: dict) -> list[str]:
    if not text.get("present"):
        return []
    c = text["vader"]["compound"]
    key = text.get("key_phrase")
    if key:
        return [f'the words "{key["text"]}" (VADER {c:+.2f})']
    return [f"the words are {'positive' if c >= 0.05 else 'negative' if c <= -0.05 else 'neutral'} (VADER {c:+.2f})"]


def evidence_phrases(cues: dict) -> list[str]:
    """The concrete cues an explanation cites, strongest modality first."""
    return (face_phrases(cues.get("face") or {}) + voice_phrases(cues.get("voice") or {})
            + text_phrases(cues.get("text") or {}))


def action_unit_list(face: dict) -> list[dict]:
    """[{au, name, intensity, emotion}] for the notable movements, as ExpLLM-style targets list them."""
    rows = []
    for m in face.get("movements", []) if face.get("present") else []:
        measure = MEASURE_BY_NAME[m["measure"]]
        up = m["intensity"] > 0
        au = measure.up_unit if up else measure.down_unit
        rows.append({"au": au, "name": measure.up_phrase if up else measure.down_phrase,
                     "intensity": abs(m["intensity"]), "emotion": AU_EMOTION.get(au, "")})
    return rows
