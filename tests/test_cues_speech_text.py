"""Transcript with word timings (bundled Whisper tiny.en) and lexical affect (VADER, NRC)."""

from __future__ import annotations

import re

import pytest

from affectllm.cues.extractors.lexicon import lexical_cues
from affectllm.media import load_audio
from affectllm.media.synthetic import speak, tone

SENTENCE = "I can't believe we finally won the game. This is the best day of my life."


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    return load_audio(speak(tmp_path_factory.mktemp("speech") / "fox.wav", SENTENCE, rate=150))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_espeak_speech_is_transcribed_with_word_timings(spoken):
    from affectllm.cues.extractors.speech import transcribe

    cues = transcribe(spoken)
    assert _words(cues["text"]) == _words(SENTENCE)
    assert [_words(w["word"])[0] for w in cues["words"]] == _words(SENTENCE)
    starts = [w["start"] for w in cues["words"]]
    assert starts == sorted(starts) and all(w["end"] >= w["start"] for w in cues["words"])
    assert cues["words"][-1]["end"] <= len(spoken) / 16000 + 0.1


def test_a_tone_is_not_speech_every_time():
    """Sampling fallbacks made the same tone "Beep beep beep..." on one call and nothing on the next."""
    from affectllm.cues.extractors.speech import transcribe

    for _ in range(3):
        cues = transcribe(tone(440, 2.0))
        assert cues["present"] is False and cues["summary"] == "no speech recognised" and cues["confidence"] is None


def test_words_in_another_language_are_marked_uncertain(spoken, tmp_path):
    """The English-only model writes English-sounding words for German speech; their probabilities give it away."""
    from affectllm.cues.extractors.speech import UNSURE_BELOW, transcribe

    english = transcribe(spoken)
    assert english["english_only"] and english["confidence"] > 0.75 and "uncertain" not in english["summary"]
    german = transcribe(load_audio(speak(tmp_path / "de.wav", "Ich kann nicht glauben, dass du mir das schon wieder "
                                         "angetan hast", voice="de")))
    assert german["confidence"] is None or german["confidence"] < UNSURE_BELOW
    if german["present"]:
        assert german["summary"].endswith(f"(uncertain words, mean confidence {german['confidence']:.2f})")


def test_lexical_affect_of_happy_words():
    cues = lexical_cues("I am so happy, this is wonderful.", source="subtitle")
    assert cues["vader"]["compound"] > 0.5
    happy = next(h for h in cues["hits"] if h["word"] == "happy")
    assert happy["valence"] == pytest.approx(2.7) and "joy" in happy["nrc"] and not happy["negated"]
    assert cues["nrc_counts"]["joy"] == 2  # "happy" and "wonderful"
    assert cues["key_phrase"] == {"text": "I am so happy, this is wonderful", "word": "happy", "t": None}


def test_negation_stays_inside_its_clause():
    cues = lexical_cues("I am not happy, I hate this.")
    hits = {h["word"]: h for h in cues["hits"]}
    assert hits["happy"]["negated"] and not hits["hate"]["negated"]
    assert "joy" not in cues["nrc_counts"] and cues["nrc_counts"]["anger"] == 1


def test_transcript_hits_carry_word_times():
    words = [{"word": w, "start": float(i), "end": i + 0.5} for i, w in enumerate(["We", "lost", "again."])]
    cues = lexical_cues("We lost again.", words=words)
    assert [(h["word"], h["t"]) for h in cues["hits"]] == [("lost", 1.0)]
