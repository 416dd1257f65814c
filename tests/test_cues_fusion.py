"""Evidence fusion on hand-made cue dicts: reliabilities, neutral, the voice as modulator, the explanation."""

from __future__ import annotations

import pytest

from affectllm.cues.evidence.channels import RELIABILITY
from affectllm.cues.evidence.weigh import fuse
from affectllm.cues.evidence.prosody_rules import voice_arousal

CLASSES = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def text_cue(top: str, p: float, said: str = "It is what it is.", sentiment=(0.8, 0.1, 0.1)) -> dict:
    probs = {c: (p if c == top else (1 - p) / 6) for c in CLASSES}
    return {"present": True, "source": "subtitle", "text": said, "hits": [], "nrc_counts": {},
            "vader": {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 1.0}, "summary": "VADER compound +0.00",
            "model": {"emotion_probs": probs,
                      "sentiment_probs": dict(zip(("negative", "neutral", "positive"), sentiment))}}


def face_cue(top: str, p: float, rest: dict | None = None, share_top: float = 1.0, movements=()) -> dict:
    rest = rest or {}
    others = [e for e in EXPRESSIONS if e != top and e not in rest]
    mean = {e: rest.get(e, (1 - p - sum(rest.values())) / len(others)) for e in EXPRESSIONS}
    mean[top] = p
    n = 16
    track = [{"t": i / 4, "face": True, "box": [0, 0, 10, 10],
              "expression": {e: (0.9 if e == top else 0.1 / 6) if i < round(share_top * n) else
                             (0.9 if e == "neutral" else 0.1 / 6) for e in EXPRESSIONS},
              "au": {"lip_corner_raise": 0.0, "mouth_width": 0.0, "mouth_open": 0.0, "eye_open": 0.0,
                     "brow_height": dict(movements).get("brow_height", 0.0), "brow_gap": 0.0}} for i in range(n)]
    return {"present": True, "frames": n, "frames_with_face": n, "dominant_expression": top,
            "dominant_share": share_top, "expression_mean": mean, "track": track,
            "summary": f"expression model reads {top}",
            "movements": [{"measure": m, "intensity": v, "frames": n,
                           "text": f"brows raised (AU1+2, intensity {v:.1f}) in {n}/{n} face frames"}
                          for m, v in movements]}


def cues(text=None, face=None, voice=None) -> dict:
    return {"has_video": face is not None, "has_audio": voice is not None,
            "text": text or {"present": False}, "face": face or {"present": False},
            "voice": voice or {"present": False}}


def test_weak_face_and_a_geometry_rule_cannot_outvote_strong_words():
    """The failure of the old rule: a face at p=0.25 (chance 0.14) and raised brows said "surprised, happy"."""
    c = cues(text_cue("sadness", 0.8, said="I miss her so much."),
             face_cue("surprise", 0.25, rest={"happy": 0.2, "neutral": 0.15}, share_top=5 / 16,
                      movements=[("brow_height", 0.5)]))
    answer = fuse(c)
    assert answer.emotions == ["sad"]
    # noisy-OR: each channel sees a family with probability trust x p (every frame holds the face)
    face_t, geometry_t = RELIABILITY["face"], RELIABILITY["geometry"] * 0.5
    surprise = 1 - (1 - 0.2 / 6) * (1 - face_t * 0.25) * (1 - geometry_t)
    assert answer.families["sadness"] == pytest.approx(1 - (1 - 0.8) * (1 - face_t * 0.1), abs=1e-3)
    assert answer.families["surprise"] == pytest.approx(surprise, abs=1e-3)
    assert answer.explanation == (
        'Most likely sad. Evidence: the words "I miss her so much." read sad (text model p=0.80). '
        "Disagreeing: the face reads surprise (p=0.25, top in 5/16 face frames); weak evidence (points to surprised); "
        "brows raised (AU1+2, intensity 0.5); weak evidence (points to surprised).")
    # Only the face frames that read surprise are the ones behind the face cue.
    face = next(ch for ch in answer.channels if ch.key == "face")
    assert face.frames == [0, 1, 2, 3, 4]


def test_nothing_strong_is_neutral():
    answer = fuse(cues(face=face_cue("happy", 0.22, share_top=0.5)))
    # happy 0.22 against 4 x 0.13 on the negative expressions: the (weak) tone is negative
    assert answer.emotions == ["neutral"] and answer.sentiment == "negative"
    assert answer.explanation.startswith("Most likely neutral: no cue points clearly to an emotion. "
                                         "Disagreeing: the face reads happy (p=0.22")
    assert fuse(cues()).emotions == ["neutral"]
    assert fuse(cues()).explanation.endswith("Nothing to read: there is no video and there is no sound.")


SLOW_SAD_VOICE = {"present": True, "speaking_rate_wps": 1.9, "pitch_range_semitones": 5.0,
                  "pitch_slope_st_per_s": -0.8, "loudness_change_db": -8.0, "pause_share": 0.1}


def test_prosody_rules_read_arousal_with_their_reasons():
    reading = voice_arousal(SLOW_SAD_VOICE)
    # slow (-0.3) + falling pitch (-0.2) + falling loudness (-0.25); range 5 st is neither wide nor monotone
    assert reading.arousal == pytest.approx(-0.75)
    assert reading.lowered_by == ["slow speech (1.9 words/s)", "pitch falls 0.8 semitones/s",
                                  "loudness falls 8 dB over the clip"]
    fast = voice_arousal({"present": True, "speaking_rate_wps": 4.1, "pitch_range_semitones": 11.0,
                          "loudness_change_db": 7.0})
    assert fast.arousal == pytest.approx(0.75) and fast.raised_by[0] == "fast speech (4.1 words/s)"
    assert voice_arousal({"present": False}).arousal == 0.0


def test_the_voice_strengthens_what_others_read_but_names_nothing_alone():
    alone = fuse(cues(voice=SLOW_SAD_VOICE))
    assert alone.emotions == ["neutral"] and alone.arousal == pytest.approx(-0.75)

    without = fuse(cues(text_cue("sadness", 0.45)))
    with_voice = fuse(cues(text_cue("sadness", 0.45), voice=SLOW_SAD_VOICE))
    seen = RELIABILITY["prosody"] * 0.75 * 0.6  # weight x the low-arousal share of sadness
    assert with_voice.families["sadness"] == pytest.approx(1 - (1 - without.families["sadness"]) * (1 - seen), abs=1e-3)
    assert [ch.key for ch in with_voice.support] == ["text", "prosody"]
    assert "slow speech (1.9 words/s), pitch falls 0.8 semitones/s, loudness falls 8 dB over the clip: " \
           "low arousal" in with_voice.explanation.split("Evidence:")[1]


def test_weak_channels_and_the_voice_alone_cannot_add_a_further_emotion():
    fast = {"present": True, "speaking_rate_wps": 4.0, "pitch_range_semitones": 10.0, "loudness_change_db": 7.0}
    c = cues(text_cue("anger", 0.5), face_cue("neutral", 0.2, movements=[("brow_height", 0.6)]), voice=fast)
    answer = fuse(c)
    top = answer.families["anger"]
    # Raised brows (weight 0.09, weak) and the voice's high arousal lift surprise past a quarter of the top
    # score, but the channels of weight give it almost nothing: it is not named.
    assert answer.families["surprise"] >= 0.25 * top
    assert answer.emotions == ["angry"]


def test_a_word_said_outright_names_its_family():
    answer = fuse(cues(dict(text_cue("anger", 0.6), text="I am furious with you.")))
    assert answer.emotions[0] == "furious"
    assert "the emotion word \"furious\" said outright" in answer.explanation
    plain = fuse(cues(text_cue("anger", 0.6)))
    assert plain.emotions[0] == "angry"


def test_sentiment_mixes_the_sentiment_output_with_the_emotion_polarity():
    answer = fuse(cues(text_cue("joy", 0.7, sentiment=(0.5, 0.3, 0.2))))
    other = 0.3 / 6
    polarity = {"negative": 4 * other, "neutral": other, "positive": 0.7}
    total = sum(polarity.values())
    mixed = {k: 2 / 3 * s + 1 / 3 * polarity[k] / total
             for k, s in zip(("negative", "neutral", "positive"), (0.5, 0.3, 0.2))}
    assert answer.sentiment == max(mixed, key=mixed.get)
    assert answer.valence == pytest.approx(mixed["positive"] - mixed["negative"], abs=1e-3)


def test_demo_shows_the_frames_behind_a_cited_face_cue():
    import numpy as np

    from affectllm.demo.frames_view import CITED_COLOUR, annotate_frame, annotated_frames, cited_face_frames
    from affectllm.core.records import ResultRecord

    face = face_cue("happy", 0.8, share_top=10 / 16)  # frames 0-9 read happy, 10-15 neutral
    answer = fuse(cues(face=face))
    assert answer.emotions == ["happy"] and "Evidence: the face reads happy (p=0.80, top in 10/16" in answer.explanation
    rec = ResultRecord(id="c", emotions=answer.emotions, explanation=answer.explanation,
                       extra={"cue_channels": [c.to_dict() for c in answer.channels]})
    cited = cited_face_frames(rec)
    assert sorted(cited) == list(range(10)) and cited[0] == "the face reads happy"
    frames = np.full((16, 40, 60, 3), 200, np.uint8)
    gallery = annotated_frames(frames, face, cited)
    assert len(gallery) == 8 and all(caption.endswith(" (cited)") for _, caption in gallery)
    # the cited cue is named on the image itself (a gallery caption shows one short line)
    named = annotate_frame(frames[0], face["track"][0], "the face reads happy")
    assert np.array_equal(np.asarray(gallery[0][0]), np.asarray(named))
    assert not np.array_equal(np.asarray(named), np.asarray(annotate_frame(frames[0], face["track"][0], "other cue")))
    times = [float(caption.split(" s:")[0]) for _, caption in gallery]
    assert times[0] == 0.0 and max(times) <= 9 / 4 + 0.05  # spread over frames 0-9 (t = i / 4) only
    assert tuple(np.asarray(gallery[0][0])[20, 1]) == CITED_COLOUR
    # An explanation that does not cite the face shows frames spread over the whole clip, unmarked.
    rec.explanation = "Most likely happy."
    assert cited_face_frames(rec) == {}
    assert all("cited" not in caption for _, caption in annotated_frames(frames, face, cited_face_frames(rec)))


def test_neutral_words_do_not_outvote_a_face_that_reads_an_emotion():
    """The acted clip: "Don't forget a jacket." reads neutral (p=0.91) while the face reads angry (p=0.47, top in
    12/16 frames). Neutral words are the absence of evidence, not evidence against the face."""
    c = cues(text_cue("neutral", 0.91, said="Don't forget a jacket."),
             face_cue("angry", 0.47, rest={"neutral": 0.2}, share_top=12 / 16))
    answer = fuse(c)
    assert answer.emotions[0] == "angry"
    assert answer.families["neutral"] < 0.5 <= 1 - answer.families["neutral"]
    assert "the face reads angry" in answer.explanation.split("Disagreeing:")[0]
    # the words alone, or a face at chance beside them, still say neutral
    assert fuse(cues(text_cue("neutral", 0.91))).emotions == ["neutral"]
    assert fuse(cues(text_cue("neutral", 0.91), face_cue("angry", 0.2))).emotions == ["neutral"]


def test_words_heard_with_low_confidence_weigh_little_and_the_explanation_says_so():
    angry_words = dict(text_cue("anger", 0.8, said="The Lapam leaked of him, I shrunk!"), source="transcript")
    sure = fuse(cues(dict(angry_words, confidence=0.92)))
    unsure = fuse(cues(dict(angry_words, confidence=0.38)))
    assert sure.emotions[0] == "angry" and unsure.emotions == ["neutral"]
    assert "the transcript is uncertain (mean word confidence 0.38" in unsure.explanation
    half = fuse(cues(dict(angry_words, confidence=0.6)))  # halfway between unreadable (0.45) and clear (0.75)
    assert half.families["anger"] == pytest.approx(0.5 * 0.8, abs=1e-3)


def test_every_named_emotion_is_cited_and_the_conclusion_agrees_with_its_valence():
    """Words read disgusted (p=0.5) with sadness close behind (p=0.28): "sad" is named, so a cue is cited for it."""
    probs = {"anger": 0.08, "disgust": 0.5, "fear": 0.04, "joy": 0.03, "neutral": 0.06, "sadness": 0.28,
             "surprise": 0.01}
    text = dict(text_cue("disgust", 0.5, said="It makes me sick."), model={
        "emotion_probs": probs, "sentiment_probs": {"negative": 0.34, "neutral": 0.33, "positive": 0.33}})
    answer = fuse(cues(text))
    assert answer.emotions == ["disgusted", "sad"]
    assert 'read disgusted (text model p=0.50), sad p=0.28' in answer.explanation.split("Evidence:")[1]
    tone = {"positive": "positive", "negative": "negative", "neutral": "neutral"}
    stated = answer.reasoning["conclusion"].split("overall tone is ")[1].split(" ")[0]
    expected = "neutral" if abs(answer.valence) <= 0.1 else tone["positive" if answer.valence > 0 else "negative"]
    assert stated == expected


VOICE_CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def voice_cue(top: str, p: float, speech: bool = True) -> dict:
    probs = {c: (p if c == top else (1 - p) / 7) for c in VOICE_CLASSES}
    cue = {"present": True, "model": {"present": True, "top": top, "probs": probs}, **SLOW_SAD_VOICE}
    return cue if speech else dict(cue, speech=False)


def test_a_voice_that_sounds_angry_beats_neutral_words_and_replaces_the_prosody_rules():
    """RAVDESS: the sentence is neutral by design ("Kids are talking by the door"); the voice carries the emotion."""
    words = text_cue("neutral", 0.85, said="Kids are talking by the door.")
    answer = fuse(cues(words, voice=voice_cue("angry", 0.6)))
    assert answer.emotions[0] == "angry"
    assert "the voice sounds angry (voice model p=0.60)" in answer.explanation.split("Disagreeing:")[0]
    assert [c.key for c in answer.channels if c.key in ("voice", "prosody")] == ["voice"]
    assert answer.families["anger"] == pytest.approx(1 - (1 - 0.15 / 6) * (1 - RELIABILITY["voice"] * 0.6), abs=1e-3)
    # a voice the head finds near chance leaves the neutral words standing; a sound without speech is no voice
    assert fuse(cues(words, voice=voice_cue("angry", 0.15))).emotions == ["neutral"]
    assert not any(c.key == "voice" for c in fuse(cues(words, voice=voice_cue("angry", 0.9, speech=False))).channels)
