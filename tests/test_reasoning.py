"""Parsers of affectllm.reasoning: round trip through every template, realistic messy answers."""

import random

import pytest

from affectllm.reasoning.prompts import list_prompts, render_target
from affectllm.reasoning import PARSERS, parse_emotion_list, parse_output
from affectllm.core.records import ResultRecord

SECTIONS = {"observations": "She smiles widely.", "interpretation": "The exam is over.",
            "conclusion": "She feels happy and relieved."}
EMOTIONS = ["happy", "relieved", "bittersweet"]  # the last is open vocabulary, outside our vocabulary


def test_every_template_has_a_parser():
    assert sorted(PARSERS) == list_prompts()


@pytest.mark.parametrize("name", ["emer", "expllm", "chain_of_empathy", "think_answer", "emotion_cause", "hef_hint"])
def test_round_trip_free_sections(name):
    record = {"emotions": EMOTIONS, "reasoning": SECTIONS, "response": "Well done!",
              "cause_spans": [{"text": "I passed", "utterance": 2}]}
    parsed = parse_output(name, render_target(name, record))
    assert parsed.ok
    assert parsed.emotions == EMOTIONS
    assert parsed.sections == SECTIONS


def test_round_trip_emer_clues():
    record = {"emotions": ["sad"], "clues": {"visual": "Tears on the cheeks.", "acoustic": "Voice breaks.",
                                             "lexical": "She says it is over."},
              "reasoning": {"interpretation": "All cues show loss.", "conclusion": "She is sad."}}
    parsed = parse_output("emer", render_target("emer", record))
    assert parsed.emotions == ["sad"]
    assert parsed.sections == {
        "observations": "Visual clues: Tears on the cheeks.\nAcoustic clues: Voice breaks.\nLexical clues: She says it is over.",
        "interpretation": "All cues show loss.", "conclusion": "She is sad."}


def test_round_trip_expllm_action_units():
    aus = [{"au": "AU4", "name": "brow lowerer", "intensity": 2.5, "emotion": "angry"},
           {"au": "AU23", "name": "lip tightener", "intensity": 1.0, "emotion": ""}]
    record = {"emotions": ["angry"], "action_units": aus,
              "reasoning": {"interpretation": "Lowered brows with tight lips.", "conclusion": "The face shows anger."}}
    parsed = parse_output("expllm", render_target("expllm", record))
    assert parsed.emotions == ["angry"]
    assert parsed.extra["action_units"] == aus
    assert parsed.sections["observations"] == ("AU4 (brow lowerer), intensity 2.5: associated with angry.\n"
                                               "AU23 (lip tightener), intensity 1.0.")


def test_round_trip_emotion_cause_spans_and_empathy_response():
    record = {"emotions": ["happy"], "reasoning": SECTIONS, "response": "That is wonderful news!",
              "cause_spans": ["I got the job", {"text": "they called me back", "utterance": 3}]}
    cause = parse_output("emotion_cause", render_target("emotion_cause", record))
    assert cause.extra["cause_spans"] == [{"text": "I got the job", "utterance": None},
                                          {"text": "they called me back", "utterance": 3}]
    empathy = parse_output("chain_of_empathy", render_target("chain_of_empathy", record))
    assert empathy.extra["response"] == "That is wonderful news!"


def test_round_trip_hybrid_both_modes():
    label = parse_output("affectgpt_hybrid", render_target("affectgpt_hybrid", {"emotions": EMOTIONS}))
    assert label.emotions == EMOTIONS and label.extra["target_mode"] == "label"
    assert label.sections == {"observations": "", "interpretation": "",
                              "conclusion": "The character's emotional state is happy, relieved, bittersweet."}
    desc = ("In the video, she smiles and nods. Her voice is bright. "
            "Therefore, her emotional state might be happy and relieved.")
    parsed = parse_output("affectgpt_hybrid", render_target("affectgpt_hybrid", {"description": desc}))
    assert parsed.emotions == ["happy", "relieved"]
    assert parsed.sections == {"observations": "In the video, she smiles and nods. Her voice is bright.",
                               "interpretation": "",
                               "conclusion": "Therefore, her emotional state might be happy and relieved."}


MESSY = [
    ("emer", "**Visual Clues:** The man frowns and looks down.\n**Acoustic Clues:** His voice is low.\n\n"
             "**Lexical Clues**: He says 'whatever'.\n\n### Reasoning\nAll cues point to disappointment.\n\n"
             "**Final Emotions:** Disappointed, Sad, a bit tired.",
     ["disappointed", "sad", "tired"],
     {"observations": "Visual clues: The man frowns and looks down.\nAcoustic clues: His voice is low.\n"
                      "Lexical clues: He says 'whatever'.",
      "interpretation": "All cues point to disappointment.", "conclusion": ""}),
    ("emer", "1. Visual clues - frowning. 2. Acoustic clues - shouting. Reasoning: He is upset. "
             'Emotions: ["angry", "Frustration"]',
     ["angry", "frustrated"],
     {"observations": "Visual clues: frowning.\nAcoustic clues: shouting.", "interpretation": "He is upset.",
      "conclusion": ""}),
    ("think_answer", "<think>The face is tense.\n\nThe voice is loud.\n\nSo the person is angry.</think> "
                     "<answer> Anger; annoyance </answer>",
     ["angry", "annoyed"],
     {"observations": "The face is tense.", "interpretation": "The voice is loud.", "conclusion": "So the person is angry."}),
    ("think_answer", "<THINK>he smiles a lot, so he is pleased <answer>Happy",  # unclosed tags
     ["happy"], {"observations": "", "interpretation": "he smiles a lot, so he is pleased", "conclusion": ""}),
    ("expllm", "**Key Observations:**\n1. **AU4 (Brow Lowerer)** - Intensity: 2.5, associated with anger.\n"
               "2. AU7 (Lid Tightener), intensity of 1.2 indicating tension.\n\n"
               "**Overall Emotional Interpretation:** The combination suggests anger.\n\n"
               "**Conclusion:** The facial expression is best described as anger.",
     ["angry"],
     {"observations": "AU4 (Brow Lowerer) - Intensity: 2.5, associated with anger.\n"
                      "AU7 (Lid Tightener), intensity of 1.2 indicating tension.",
      "interpretation": "The combination suggests anger.",
      "conclusion": "The facial expression is best described as anger."}),
    ("chain_of_empathy", "Situation: The user lost their job.\nEmotion: devastated and anxious\nCause: Sudden layoff\n"
                         "Goal of the response: comfort\nEmpathetic response: \"I'm so sorry.\"",
     ["devastated", "anxious"],
     {"observations": "The user lost their job.", "interpretation": "Sudden layoff", "conclusion": "comfort"}),
    ("hef_hint", "## Observations\n- forced smile\n- trembling voice\n## Interpretation\nThe hint 'happy' is not supported."
                 "\n## Conclusion\nThe person is nervous.\n## Emotions\n1. nervous (0.7)\n2. Anxious (0.2)",
     ["nervous", "anxious"],
     {"observations": "- forced smile\n- trembling voice", "interpretation": "The hint 'happy' is not supported.",
      "conclusion": "The person is nervous."}),
]


@pytest.mark.parametrize("name,text,emotions,sections", MESSY)
def test_messy_outputs(name, text, emotions, sections):
    parsed = parse_output(name, text)
    assert parsed.ok
    assert parsed.emotions == emotions
    assert parsed.sections == sections


def test_affectgpt_description_with_hedged_state():
    text = ("In the video, the woman's eyebrows are raised. In the audio, her tone rises sharply. "
            "Overall, the emotional state of the character might be surprised and slightly confused.")
    parsed = parse_output("affectgpt_hybrid", text)
    assert parsed.emotions == ["surprised", "confused"]
    assert parsed.sections["conclusion"].startswith("Overall, the emotional state")


def test_expllm_action_units_from_drifted_lines():
    text = ("Key Observations:\n* AU 12 (lip corner puller): intensity 4, indicating happiness\n"
            "Conclusion: Happy.")
    parsed = parse_output("expllm", text)
    assert parsed.extra["action_units"] == [{"au": "AU12", "name": "lip corner puller", "intensity": 4.0,
                                             "emotion": "happiness"}]
    assert parsed.emotions == ["happy"]


def test_emotion_cause_drifted_spans():
    text = "**Emotion**: Happiness\n**Cause span(s)**:\n* “I got the job” (utterance 3)\n* they called me back\n"
    parsed = parse_output("emotion_cause", text)
    assert parsed.emotions == ["happy"]
    assert parsed.extra["cause_spans"] == [{"text": "I got the job", "utterance": 3},
                                           {"text": "they called me back", "utterance": None}]


def test_prose_without_headers_falls_back_to_vocabulary_words():
    parsed = parse_output("emer", "Honestly, the speaker sounds worried rather than angry, maybe a little ashamed.")
    assert parsed.ok and "worried" in parsed.emotions and "ashamed" in parsed.emotions
    assert parsed.sections["interpretation"].startswith("Honestly")


def test_no_emotion_is_not_ok_and_the_record_keeps_the_answer_without_an_error():
    from affectllm.caption.checkpoint_backend import answer_record
    from affectllm.caption.inputs import CaptionItem

    answer = "<think>I cannot see the clip.</think><answer></answer>"
    parsed = parse_output("think_answer", answer)
    assert not parsed.ok and parsed.emotions == []
    # the model ran: an unreadable answer is no input error (the caption engine's contract)
    rec = answer_record("think_answer", CaptionItem("clip1", "clips/clip1.mp4"), answer, "m")
    assert isinstance(rec, ResultRecord) and rec.emotions == [] and rec.error is None
    assert "think_answer" in rec.extra["parse_error"] and "cannot see" in rec.extra["raw_output"]


def test_parsed_answer_becomes_a_result_record():
    from affectllm.caption.checkpoint_backend import answer_record
    from affectllm.caption.inputs import CaptionItem

    rec = answer_record("emer", CaptionItem("a", None), "Reasoning: Smiles.\nEmotions: happy", "m").to_dict()
    assert rec["emotions"] == ["happy"] and rec["error"] is None and "parse_error" not in rec
    assert rec["reasoning"] == {"observations": "", "interpretation": "Smiles.", "conclusion": ""}
    assert rec["explanation"] == "Smiles."


def test_emotion_list_normalises_and_keeps_open_vocabulary():
    assert parse_emotion_list("Happiness, joy, HAPPY and starstruck; none") == ["happy", "joyful", "starstruck"]
    assert parse_emotion_list("The character's emotional state is anger, with a hint of surprise.") == ["angry", "surprised"]
    assert parse_emotion_list("- sad (62%)\n- tired: 0.3") == ["sad", "tired"]


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parsers_never_raise_on_garbage(name):
    rng = random.Random(0)
    alphabet = "abc :*#\n<>/()[]\"'-.,;0123456789" + "Emotions: Reasoning: <think></answer> AU12 "
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        parsed = parse_output(name, text)
        assert "parse_error" not in parsed.extra, parsed.extra
        assert all(e == e.lower() for e in parsed.emotions)
        assert len(parsed.emotions) == len(set(parsed.emotions))
    assert parse_output(name, None).ok is False
