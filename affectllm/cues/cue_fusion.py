"""The deterministic answer: a fixed rule that turns cues into emotions, valence and an explanation.

Used when the LLM's answer is unusable, and on its own when no LLM is wanted.
Each modality votes for vocabulary words with a weight; the face's 7-class
probabilities and AU movements, the words (emotion words said outright, NRC
associations, VADER valence) and the voice's arousal (pitch excursions,
loudness, rate) combine, so the same cues always give the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from affectllm.cues.describe import clue_texts, evidence_phrases
from affectllm.emotions import default_vocabulary, extract_emotions

EXPRESSION_WORD = {"angry": "angry", "disgust": "disgusted", "fear": "afraid", "happy": "happy", "sad": "sad",
                   "surprise": "surprised", "neutral": "neutral"}
NRC_WORD = {"anger": "angry", "anticipation": "hopeful", "disgust": "disgusted", "fear": "afraid", "joy": "happy",
            "sadness": "sad", "surprise": "surprised", "trust": "trusting"}
# AU movement -> (word, weight per unit of intensity)
MOVEMENT_WORD = {("lip_corner_raise", 1): ("happy", 0.3), ("lip_corner_raise", -1): ("sad", 0.3),
                 ("brow_height", -1): ("angry", 0.2), ("brow_gap", -1): ("frustrated", 0.2),
                 ("brow_height", 1): ("surprised", 0.15), ("eye_open", 1): ("surprised", 0.15),
                 ("eye_open", -1): ("tired", 0.1)}
SAID_WEIGHT = 0.9  # an emotion word said outright ("I am so happy")
NRC_WEIGHT = 0.15  # per associated word, capped
NRC_CAP = 0.45
VALENCE_WEIGHT = 0.3  # per unit of VADER compound beyond +-0.5
KEEP_RATIO = 0.5  # further emotions kept when scoring at least this share of the top one
MAX_EMOTIONS = 3


@dataclass
class FusedAnswer:
    emotions: list[str]
    valence: float  # [-1, 1]
    arousal: float  # [-1, 1], from the voice
    scores: dict[str, float]
    reasoning: dict[str, str] = field(default_factory=dict)
    explanation: str = ""


def voice_arousal(voice: dict) -> float:
    """[-1, 1]: animated (pitch excursions, wide range, rising loudness, fast speech) vs flat and slow."""
    if not voice.get("present") or "pitch_range_semitones" not in voice:
        return 0.0
    a = 0.0
    rng = voice["pitch_range_semitones"]
    a += 0.35 if rng >= 8 else -0.3 if rng < 3 else 0.0
    peak = (voice.get("pitch_peak") or {}).get("pitch_pct") or 0.0
    a += 0.3 if peak >= 25 else 0.0
    change = voice.get("loudness_change_db", 0.0)
    a += 0.2 if change >= 6 else -0.1 if change <= -6 else 0.0
    rate = voice.get("speaking_rate_wps")
    if rate is not None:
        a += 0.2 if rate >= 3.3 else -0.25 if rate < 2.0 else 0.0
    return max(-1.0, min(1.0, a))


def fuse(cues: dict) -> FusedAnswer:
    vocab = default_vocabulary()
    scores: dict[str, float] = defaultdict(float)
    valences: list[tuple[float, float]] = []  # (valence, weight)

    face = cues.get("face") or {}
    if face.get("present"):
        share = face["frames_with_face"] / max(face["frames"], 1)
        for expr, p in face["expression_mean"].items():
            scores[EXPRESSION_WORD[expr]] += share * p
        for m in face.get("movements", []):
            word = MOVEMENT_WORD.get((m["measure"], 1 if m["intensity"] > 0 else -1))
            if word:
                scores[word[0]] += word[1] * abs(m["intensity"]) * share
        face_val = sum(p * (vocab.valence(EXPRESSION_WORD[e]) or 0.0) for e, p in face["expression_mean"].items())
        valences.append((face_val, share))

    text = cues.get("text") or {}
    if text.get("present"):
        for word in extract_emotions(text["text"]):
            scores[word] += SAID_WEIGHT
        for emo, n in (text.get("nrc_counts") or {}).items():
            scores[NRC_WORD[emo]] += min(NRC_CAP, NRC_WEIGHT * n)
        compound = text["vader"]["compound"]
        # Clearly positive or negative words with no emotion word still say which way the feeling goes.
        if abs(compound) >= 0.5:
            scores["happy" if compound > 0 else "upset"] += VALENCE_WEIGHT * abs(compound)
        valences.append((compound, min(1.0, 0.3 + abs(compound))))

    arousal = voice_arousal(cues.get("voice") or {})
    valence = sum(v * w for v, w in valences) / sum(w for _, w in valences) if valences else 0.0
    # The voice adds arousal to whichever side the face and words lean.
    if arousal >= 0.3:
        scores["excited" if valence > 0.2 else "frustrated" if valence < -0.2 else "tense"] += 0.4 * arousal
    elif arousal <= -0.3:
        scores["calm" if valence > 0.2 else "tired" if valence < -0.2 else "calm"] += 0.4 * -arousal
    if not scores:
        scores["neutral"] = 0.1

    ranked = sorted(((w, s) for w, s in scores.items() if vocab.normalize(w)), key=lambda ws: -ws[1])
    top = ranked[0][1]
    emotions = [vocab.normalize(w) for w, s in ranked if s >= KEEP_RATIO * top][:MAX_EMOTIONS]
    # "neutral" next to real emotions says nothing: drop it unless it stands alone.
    if len(emotions) > 1 and "neutral" in emotions:
        emotions.remove("neutral")
    answer = FusedAnswer(emotions=emotions, valence=round(valence, 3), arousal=round(arousal, 3),
                         scores={w: round(s, 3) for w, s in ranked})
    answer.reasoning, answer.explanation = explain(cues, answer)
    return answer


def explain(cues: dict, answer: FusedAnswer) -> tuple[dict[str, str], str]:
    """The reasoning sections and a one-paragraph explanation citing concrete cues."""
    clues = clue_texts(cues)
    observations = "\n".join(f"{k.capitalize()} clues: {v}" for k, v in clues.items() if v)
    leaning = "positive" if answer.valence > 0.2 else "negative" if answer.valence < -0.2 else "mixed or neutral"
    parts = [f"Taken together the evidence leans {leaning} (valence {answer.valence:+.2f})"]
    face_val = (cues.get("face") or {}).get("dominant_expression")
    text_c = ((cues.get("text") or {}).get("vader") or {}).get("compound")
    if face_val and text_c is not None:
        face_pos = face_val == "happy"
        face_neg = face_val in ("angry", "disgust", "fear", "sad")
        if (face_pos and text_c <= -0.3) or (face_neg and text_c >= 0.3):
            parts.append(f"the face ({face_val}) and the words (VADER {text_c:+.2f}) disagree, so confidence is lower")
        elif (face_pos and text_c >= 0.3) or (face_neg and text_c <= -0.3):
            parts.append(f"the face ({face_val}) and the words (VADER {text_c:+.2f}) agree")
    if answer.arousal >= 0.3:
        parts.append("the voice is animated, which points to high arousal")
    elif answer.arousal <= -0.3:
        parts.append("the voice is flat and slow, which points to low arousal")
    interpretation = "; ".join(parts) + "."
    listed = ", ".join(answer.emotions)
    conclusion = f"The person most likely feels {listed}."
    evidence = evidence_phrases(cues)
    if evidence:
        explanation = f"Most likely {listed}. Evidence: " + "; ".join(evidence) + "."
    else:
        explanation = f"Most likely {listed}: no face, audible voice or words were found, so nothing points to an emotion."
    return {"observations": observations, "interpretation": interpretation, "conclusion": conclusion}, explanation
