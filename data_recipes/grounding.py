"""Label-conditioned reasoning chains for label-only samples, grounded in the cues of the sample's own media.

    ChainGrounder().chain(["sad"], video=Path("clips/x.mp4"), subtitle="It is over.")
    -> {"clues": {...}, "reasoning": {"observations", "interpretation", "conclusion"},
        "action_units": [...], "description": "...", "grounding": {"support": [...], "against": [...]}}

The cue extractors of ``affectllm.cues`` (face expression and action-unit
geometry, prosody, transcript, lexical affect) run on the clip, image or
audio; a text-only sample uses its subtitle's lexical affect alone. No LLM is
involved. Each modality with a verdict is weighed against the gold label:

- the face: its dominant expression is in the gold label's emotion family,
  or its expression mix leans the same way (valence) as the label: support;
  it leans the other way: against;
- the words: an emotion word of the label's family said outright, or a VADER
  compound on the label's side: support; on the other side: against;
- the voice is cited as context (pause, rate, pitch notes) without a verdict:
  prosody alone does not tell valence.

The chain lists the supporting cues, then the ones that point elsewhere
(weaker here), and always concludes with the gold label, so it never
contradicts it. ``grounding`` records which cues supported and which did not,
so weakly grounded samples can be filtered later.
"""

from __future__ import annotations

from pathlib import Path

from affectllm.core.errors import AffectLLMError

from .label_words import label_valence
from .rows import RowError

FACE_LEAN = 0.15  # |valence| of the face's expression mix that counts as leaning one way
WORDS_LEAN = 0.05  # VADER's own cut-off for a positive or negative text
NEUTRAL_LABEL = 0.1  # |label valence| below this counts as a neutral label
MAX_SIDE = 448  # px, frames decoded for the face cues


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _side(value: float) -> str:
    return "positive" if value > 0 else "negative"


def _verdict(lean: float, gold_valence: float, threshold: float) -> str:
    """support / against / mixed for a cue leaning ``lean`` (valence) given the label's valence."""
    if abs(gold_valence) < NEUTRAL_LABEL:
        return "support" if abs(lean) < threshold else "against"
    if abs(lean) < threshold:
        return "mixed"
    return "support" if (lean > 0) == (gold_valence > 0) else "against"


def face_verdict(face: dict, families: set[str], gold_valence: float) -> tuple[str, str] | None:
    """(verdict, phrase) for the face cues, None without a face."""
    from affectllm.cues.evidence.describe import face_phrases
    from affectllm.emotions import default_vocabulary

    if not face.get("present"):
        return None
    vocab = default_vocabulary()
    phrase = face_phrases(face, limit=0)[0]
    dominant = vocab.normalize(face["dominant_expression"]) or face["dominant_expression"]
    if vocab.family(dominant) in families:
        return "support", phrase
    lean = sum(p * (vocab.valence(vocab.normalize(e) or e) or 0.0) for e, p in (face.get("expression_peak") or face["expression_mean"]).items())
    verdict = _verdict(lean, gold_valence, FACE_LEAN)
    if verdict == "against" and abs(lean) >= FACE_LEAN:
        phrase += f", which leans {_side(lean)}"
    return verdict, phrase


def words_verdict(text: dict, families: set[str], gold_valence: float) -> tuple[str, str] | None:
    """(verdict, phrase) for what is said or written, None without words."""
    from affectllm.cues.evidence.describe import text_phrases
    from affectllm.emotions import default_vocabulary, extract_emotions

    if not text.get("present"):
        return None
    vocab = default_vocabulary()
    said = [w for w in extract_emotions(text["text"]) if vocab.family(w) in families]
    if said:
        return "support", f'the words ("{text["text"][:120]}") name {_join(said)}'
    phrase = text_phrases(text)[0]
    compound = text["vader"]["compound"]
    verdict = _verdict(compound, gold_valence, WORDS_LEAN)
    if verdict == "against" and abs(compound) >= WORDS_LEAN:
        phrase += f", which leans {_side(compound)}"
    return verdict, phrase


def grounded_record(cues: dict, emotions: list[str], valence: float | None = None) -> dict:
    """The render_target record of a label-conditioned chain over ``cues`` (``affectllm.cues.extract`` output).

    ``emotions`` are the gold vocabulary words; ``valence`` the dataset's own
    rating when it has one (else the words' vocabulary valence).
    """
    from affectllm.cues.evidence.describe import action_unit_list, clue_texts, voice_phrases
    from affectllm.emotions import default_vocabulary

    vocab = default_vocabulary()
    labels = ", ".join(emotions)
    families = {f for f in (vocab.family(w) for w in emotions if vocab.normalize(w)) if f}
    gold = valence if valence is not None else (label_valence(emotions) or 0.0)
    found = {"support": [], "against": [], "mixed": []}
    for verdict in (face_verdict(cues.get("face") or {}, families, gold),
                    words_verdict(cues.get("text") or {}, families, gold)):
        if verdict:
            found[verdict[0]].append(verdict[1])
    parts = []
    if found["support"]:
        parts.append(f"Supporting {labels}: {'; '.join(found['support'])}.")
    else:
        parts.append(f"No extracted cue clearly shows {labels}; the state is read from the context.")
    if found["against"]:
        weaker = " but weaker here" if found["support"] else ""
        parts.append(f"Pointing elsewhere{weaker}: {'; '.join(found['against'])}.")
    if found["mixed"]:
        parts.append(f"Leaning neither way: {'; '.join(found['mixed'])}.")
    voice = voice_phrases(cues.get("voice") or {})
    if voice:
        parts.append(f"Voice: {', '.join(voice)}.")
    interpretation = " ".join(parts)
    conclusion = f"Taken together, the emotional state is {labels}."
    clues = clue_texts(cues)
    observations = "\n".join(f"{k.capitalize()}: {v}" for k, v in clues.items() if v)
    if not observations:
        raise RowError("no cue could be extracted from the sample's media or subtitle to ground a chain")
    described = " ".join(f"{k.capitalize()} cues: {v.rstrip('.')}." for k, v in clues.items() if v)
    description = f"{described} {interpretation} Therefore, the character's emotional state is {labels}."
    return {"clues": clues,
            "reasoning": {"observations": observations, "interpretation": interpretation, "conclusion": conclusion},
            "action_units": action_unit_list(cues.get("face") or {}),
            "description": description,
            "grounding": {"support": found["support"], "against": found["against"]}}


class ChainGrounder:
    """Extract a sample's cues (no LLM) and turn them into a label-conditioned chain."""

    def __init__(self, num_frames: int = 8, whisper: str | None = None):
        self.num_frames = num_frames
        self.whisper = whisper

    def cues(self, video: Path | None, audio: Path | None, subtitle: str = "") -> dict:
        """The cue dict of the sample's media (clip, image or audio), or of its subtitle alone."""
        from affectllm.cues.extract import extract_cues
        from affectllm.cues.extractors.lexicon import lexical_cues
        from affectllm.media import load_audio, load_clip

        if video is None and audio is None:
            if not subtitle.strip():
                raise RowError("no media and no subtitle to ground a chain in")
            return {"has_video": False, "has_audio": False, "face": {"present": False}, "voice": {"present": False},
                    "speech": {"present": False, "text": ""}, "text": lexical_cues(subtitle, source="subtitle")}
        try:
            clip = load_clip(video or audio, num_frames=self.num_frames, max_side=MAX_SIDE)
            if audio is not None and video is not None and not clip.has_audio:
                clip.audio = load_audio(audio)
            return extract_cues(clip, subtitle=subtitle or None, whisper_model=self.whisper)
        except AffectLLMError as err:
            raise RowError(f"cannot ground a chain: {err}") from None

    def chain(self, emotions: list[str], *, video: Path | None = None, audio: Path | None = None,
              subtitle: str = "", valence: float | None = None) -> dict:
        return grounded_record(self.cues(video, audio, subtitle), emotions, valence)
