"""Each cue channel as evidence: a distribution over emotion families, a strength and a reliability.

A channel's *trust* is its fixed *reliability* (how much the channel is worth
when it reads the clip well) times its *quality* on this clip (the share of
frames with a face, a transcript's word confidence, a movement's intensity):
fusion takes its probabilities at that much of their word (``weigh``). Its
*strength* says how far this clip's reading is from no information (a 7-class
score at chance is 0, a certain one is 1); trust x strength is the *weight* the
explanation reports and the sentiment is averaged with.

========== ========= =========== ====================================================
channel    modality  reliability  reads
========== ========= =========== ====================================================
text       lexical   1.0          frozen MiniLM + the MELD-trained head (7 classes)
said       lexical   0.5          emotion words said outright ("I am so frustrated")
face       visual    0.6          the 7-class expression model at the face's peak
geometry   visual    0.15         AU-like face movements (lip corners, brows, eyes)
voice      acoustic  0.7          the learned voice head (RAVDESS-trained, 8 classes): how it is said
prosody    acoustic  0.5          arousal from prosody rules (``prosody_rules``), when the head has no reading
========== ========= =========== ====================================================

The text head and the said words read the same words: the head already
weighs them, so the said words mainly bring their own (open-vocabulary)
word, not a second full vote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from affectllm.cues.extractors.face_expression import EXPRESSIONS
from affectllm.cues.evidence.prosody_rules import voice_arousal
from affectllm.cues.heads.text_head import CLASS_WORD, EMOTION_CLASSES
from affectllm.emotions import default_vocabulary, extract_emotions

RELIABILITY = {"text": 1.0, "said": 0.5, "face": 0.6, "geometry": 0.15, "voice": 0.7, "prosody": 0.5}
# The expression model's classes as vocabulary families and words.
EXPRESSION_FAMILY = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "joy", "sad": "sadness",
                     "surprise": "surprise", "neutral": "neutral"}
EXPRESSION_WORD = {"angry": "angry", "disgust": "disgusted", "fear": "scared", "happy": "happy", "sad": "sad",
                   "surprise": "surprised", "neutral": "neutral"}
# AU-like movement (measure, sign) -> (family, word): what each movement usually accompanies (FACS/EMFACS).
MOVEMENT_FAMILY = {("lip_corner_raise", 1): ("joy", "happy"), ("lip_corner_raise", -1): ("sadness", "sad"),
                   ("brow_height", -1): ("anger", "angry"), ("brow_gap", -1): ("anger", "frustrated"),
                   ("brow_height", 1): ("surprise", "surprised"), ("eye_open", 1): ("surprise", "surprised"),
                   ("eye_open", -1): ("fatigue", "tired")}
# Families the voice's arousal points to (the voice says how aroused, not which way).
HIGH_AROUSAL = {"anger": 0.3, "joy": 0.3, "fear": 0.2, "surprise": 0.2}
LOW_AROUSAL = {"sadness": 0.6, "fatigue": 0.25, "calm": 0.15}
AROUSAL_WORD = {"anger": "angry", "joy": "excited", "fear": "tense", "surprise": "surprised", "sadness": "sad",
                "fatigue": "tired", "calm": "calm"}
CLASS_POLARITY = {"negative": ("anger", "disgust", "fear", "sadness"), "neutral": ("neutral",), "positive": ("joy",)}
# The voice head's RAVDESS classes as vocabulary families and words, and their polarity.
VOICE_FAMILY = {"neutral": "neutral", "calm": "calm", "happy": "joy", "sad": "sadness", "angry": "anger",
                "fearful": "fear", "disgust": "disgust", "surprised": "surprise"}
VOICE_WORD = {"neutral": "neutral", "calm": "calm", "happy": "happy", "sad": "sad", "angry": "angry",
              "fearful": "fearful", "disgust": "disgusted", "surprised": "surprised"}
VOICE_POLARITY = {"negative": ("angry", "disgust", "fearful", "sad"), "neutral": ("neutral", "surprised"),
                  "positive": ("calm", "happy")}
EMOTION_POLARITY_SHARE = 1 / 3  # chosen on MELD dev
# Transcript confidence (mean Whisper word probability) -> how much the words count: clear English speech
# from espeak-ng and RAVDESS reads about 0.9, German or French through the English-only model under 0.4.
CONFIDENT_WORDS, UNREADABLE_WORDS = 0.75, 0.45
SUPPORT_SHARE = 0.7  # a channel supports a family it gives at least this share of its own top family


@dataclass
class Channel:
    """One channel's evidence on one clip (see the module docstring)."""

    key: str  # text | said | face | geometry | voice
    modality: str  # lexical | visual | acoustic
    dist: dict[str, float]  # family -> probability; sums to 1
    strength: float  # [0, 1]
    words: dict[str, str]  # family -> the word this channel names it with ("w1, w2" for several said words)
    phrase: str  # the cue as an explanation cites it
    sentiment: dict[str, float] | None = None  # negative / neutral / positive, where the channel reads one
    frames: list[int] = field(default_factory=list)  # face-track indices behind a face cue
    reads: str = ""  # what the channel reads, when not one of its words ("low arousal")
    quality: float = 1.0  # [0, 1]: how much of this clip the channel could read (transcript confidence...)

    @property
    def reading(self) -> str:
        return self.reads or self.words.get(self.top, self.top)

    @property
    def modulates(self) -> bool:
        """The prosody rules read arousal, not an emotion: they strengthen what other channels read (see weigh)."""
        return self.key == "prosody"

    @property
    def trust(self) -> float:
        """How far this channel's probabilities are taken at their word in fusion: reliability x quality."""
        return RELIABILITY[self.key] * self.quality

    @property
    def weight(self) -> float:
        return self.trust * self.strength

    @property
    def top(self) -> str:
        return max(self.dist, key=self.dist.get)

    def supports(self, family: str) -> bool:
        """Does this channel back ``family``? An emotion: a share near its own top; neutral: only on top."""
        if family == "neutral":
            return self.top == "neutral"
        return self.dist.get(family, 0.0) >= SUPPORT_SHARE * self.dist[self.top]

    def to_dict(self) -> dict:
        return {"channel": self.key, "modality": self.modality, "reads": self.reading, "strength": round(self.strength, 3),
                "weight": round(self.weight, 3), "dist": {k: round(v, 3) for k, v in self.dist.items()},
                "phrase": self.phrase, **({"frames": self.frames} if self.frames else {})}


def above_chance(p_top: float, classes: int) -> float:
    """0 at chance (1/classes), 1 at certainty."""
    return max(0.0, (p_top - 1.0 / classes) / (1.0 - 1.0 / classes))


def _quoted(text: dict, limit: int = 60) -> str:
    key = text.get("key_phrase")
    said = key["text"] if key else text["text"]
    return said if len(said) <= limit else said[:limit].rsplit(" ", 1)[0] + "..."


def words_quality(text: dict) -> float:
    """1 for given words (a subtitle); for a transcript, its mean word confidence mapped linearly from
    CONFIDENT_WORDS and above (1) down to UNREADABLE_WORDS and below (0)."""
    confidence = text.get("confidence")
    if text.get("source") != "transcript" or confidence is None:
        return 1.0
    return min(1.0, max(0.0, (confidence - UNREADABLE_WORDS) / (CONFIDENT_WORDS - UNREADABLE_WORDS)))


def text_channel(text: dict) -> Channel | None:
    """The text head's reading (``text["model"]``), if the words were read by it, weighed by how well they were heard."""
    reading = text.get("model") if text.get("present") else None
    if not reading:
        return None
    quality = words_quality(text)
    probs = reading["emotion_probs"]
    dist = {c: float(probs[c]) for c in EMOTION_CLASSES}  # MELD's class names are our family names
    top = max(dist, key=dist.get)
    # The emotion output also knows the polarity (joy is positive, anger negative; surprise goes
    # either way): it joins the sentiment output at EMOTION_POLARITY_SHARE.
    polarity = {side: sum(dist[c] for c in classes) for side, classes in CLASS_POLARITY.items()}
    sentiment = {k: (1 - EMOTION_POLARITY_SHARE) * reading["sentiment_probs"][k] + EMOTION_POLARITY_SHARE * v
                 / max(sum(polarity.values()), 1e-9) for k, v in polarity.items()}
    phrase = f'the words "{_quoted(text)}" read {CLASS_WORD[top]} (text model p={dist[top]:.2f})'
    if quality < 1.0:
        phrase += (f", but the transcript is uncertain (mean word confidence {text['confidence']:.2f}: speech in "
                   "another language or unclear), so the words weigh little")
    return Channel("text", "lexical", dist, above_chance(dist[top], len(dist)), dict(CLASS_WORD), phrase,
                   sentiment=sentiment, quality=quality)


def said_channel(text: dict) -> Channel | None:
    """Emotion words said outright (negation respected by the extractor)."""
    if not text.get("present"):
        return None
    vocab = default_vocabulary()
    said = [w for w in extract_emotions(text["text"]) if vocab.normalize(w)]
    if not said:
        return None
    words: dict[str, str] = {}
    for w in said:  # several words of one family stay together: "lonely, sad"
        family = vocab.family(w)
        words[family] = f"{words[family]}, {w}" if family in words else w
    valence = sum(vocab.valence(w) for w in said) / len(said)
    side = "positive" if valence > 0.1 else "negative" if valence < -0.1 else "neutral"
    listed = ", ".join(f'"{w}"' for w in said)
    return Channel("said", "lexical", {f: 1.0 / len(words) for f in words}, 1.0, words,
                   f"the emotion word{'s' if len(said) > 1 else ''} {listed} said outright",
                   sentiment={s: float(s == side) for s in ("negative", "neutral", "positive")},
                   quality=words_quality(text))


def face_channel(face: dict) -> Channel | None:
    """The expression model's calibrated probabilities at the face's peak (its most expressive frames; the
    plain mean for cue dicts without a peak reading), damped by missing faces and by disagreement between
    the frames read."""
    if not face.get("present"):
        return None
    from affectllm.cues.evidence.describe import face_phrases

    probs = face.get("expression_peak") or face["expression_mean"]
    dist = {EXPRESSION_FAMILY[e]: float(probs[e]) for e in EXPRESSIONS}
    top_expr = face["dominant_expression"]
    share = face["frames_with_face"] / max(face["frames"], 1)
    agreement = face.get("peak_agreement", face.get("dominant_share", 1.0))
    strength = above_chance(float(probs[top_expr]), len(EXPRESSIONS)) * share * agreement
    frames = [i for i, f in enumerate(face.get("track", []))
              if f.get("face") and max(f["expression"], key=f["expression"].get) == top_expr]
    pos = float(probs["happy"])
    neg = sum(float(probs[e]) for e in ("angry", "disgust", "fear", "sad"))
    return Channel("face", "visual", dist, strength, {EXPRESSION_FAMILY[e]: EXPRESSION_WORD[e] for e in EXPRESSIONS},
                   face_phrases(face, limit=0)[0], sentiment={"negative": neg, "neutral": 1 - pos - neg,
                                                              "positive": pos}, frames=frames, quality=share)


def geometry_channel(face: dict) -> Channel | None:
    """AU-like movements seen in enough face frames; weak on its own by design."""
    if not face.get("present"):
        return None
    from affectllm.cues.extractors.face_geometry import describe_movement

    found: dict[str, float] = {}
    words: dict[str, str] = {}
    phrases, measures = [], []
    for m in face.get("movements", []):
        hit = MOVEMENT_FAMILY.get((m["measure"], 1 if m["intensity"] > 0 else -1))
        if hit is None:
            continue
        family, word = hit
        found[family] = found.get(family, 0.0) + abs(m["intensity"])
        words.setdefault(family, word)
        phrases.append(m["text"].split(" in ")[0])
        measures.append((m["measure"], m["intensity"]))
    if not found:
        return None
    total = sum(found.values())
    share = face["frames_with_face"] / max(face["frames"], 1)
    strength = min(1.0, max(abs(v) for _, v in measures)) * share
    track = face.get("track", [])
    frames = [i for i, f in enumerate(track) if f.get("face") and any(
        describe_movement(name, f["au"][name]) and (f["au"][name] > 0) == (value > 0) for name, value in measures)]
    return Channel("geometry", "visual", {f: v / total for f, v in found.items()}, strength, words,
                   "; ".join(phrases), frames=frames, quality=strength)


def voice_channel(voice: dict) -> Channel | None:
    """The learned voice head's reading (``voice["model"]``): how it is said, over RAVDESS's 8 emotions."""
    reading = voice.get("model") or {}
    if not voice.get("present") or not reading.get("present") or voice.get("speech") is False:
        return None
    probs = reading["probs"]
    dist = {VOICE_FAMILY[c]: float(p) for c, p in probs.items()}
    top = max(probs, key=probs.get)
    polarity = {side: sum(float(probs[c]) for c in classes) for side, classes in VOICE_POLARITY.items()}
    return Channel("voice", "acoustic", dist, above_chance(float(probs[top]), len(probs)),
                   {VOICE_FAMILY[c]: VOICE_WORD[c] for c in probs},
                   f"the voice sounds {VOICE_WORD[top]} (voice model p={float(probs[top]):.2f})", sentiment=polarity)


def prosody_channel(voice: dict) -> Channel | None:
    """Arousal from the prosody rules, spread over the families of that arousal (a voice: sound with speech);
    only when the voice head has no reading (it reads the same voice, and more)."""
    if voice.get("speech") is False or (voice.get("model") or {}).get("present"):
        return None
    reading = voice_arousal(voice)
    if not reading.notable:
        return None
    dist = HIGH_AROUSAL if reading.arousal > 0 else LOW_AROUSAL
    level = "high" if reading.arousal > 0 else "low"
    return Channel("prosody", "acoustic", dict(dist), min(1.0, abs(reading.arousal)), dict(AROUSAL_WORD),
                   f"{', '.join(reading.phrases)}: {level} arousal", reads=f"{level} arousal")


def cue_channels(cues: dict) -> list[Channel]:
    """Every channel that has something to say about ``cues`` (text first, then face, then voice)."""
    text, face = cues.get("text") or {}, cues.get("face") or {}
    voice = cues.get("voice") or {}
    found = [text_channel(text), said_channel(text), face_channel(face), geometry_channel(face),
             voice_channel(voice), prosody_channel(voice)]
    return [c for c in found if c is not None and c.strength > 0]
