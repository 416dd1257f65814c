"""Templates in prompts/: discovery, prompt rendering, target rendering (exact text)."""

from pathlib import Path

import pytest

from affectllm.core.errors import AffectLLMError
from affectllm.reasoning.prompts import list_prompts, load_prompt, prompts_dir, render_prompt, render_target

TEMPLATES = ["affectgpt_hybrid", "chain_of_empathy", "emer", "emotion_cause", "expllm", "hef_hint", "think_answer"]


def test_all_templates_listed_and_versioned():
    assert list_prompts() == TEMPLATES
    for name in TEMPLATES:
        tpl = load_prompt(name)
        assert tpl.name == name and tpl.version >= 1 and tpl.description


def test_prompts_dir_is_the_checkout_folder():
    assert prompts_dir() == Path(__file__).resolve().parents[1] / "prompts"


def test_env_override_must_hold_templates(tmp_path, monkeypatch):
    monkeypatch.setenv("AFFECTLLM_PROMPTS", str(tmp_path))
    with pytest.raises(AffectLLMError, match="AFFECTLLM_PROMPTS"):
        list_prompts()
    (tmp_path / "emer.yaml").write_text("name: emer\nversion: 7\nprompt: 'Say: {{ subtitle }}'\ntarget: '{{ labels }}'\n")
    assert list_prompts() == ["emer"]
    assert render_prompt("emer", subtitle="hi") == "Say: hi"
    assert render_target("emer", {"emotions": ["sad", "tired"]}) == "sad, tired"


def test_unknown_template_names_the_choices():
    with pytest.raises(AffectLLMError, match="choose one of: affectgpt_hybrid"):
        render_prompt("nope")


def test_emer_prompt_carries_cues_and_subtitle_before_the_instruction():
    text = render_prompt("emer", cues="face: smiling (0.91)", subtitle="I passed!")
    assert text.startswith('Evidence extracted from the clip:\nface: smiling (0.91)\nSubtitle (what is said): "I passed!"\n\n')
    assert text.endswith("Emotions: a comma-separated list of emotion words, most likely first.")
    bare = render_prompt("emer")
    assert bare.startswith("What is the person in the clip feeling") and "Evidence" not in bare


def test_hef_hint_prompt_lists_hints_with_scores():
    text = render_prompt("hef_hint", hints=[("happy", 0.612), {"label": "neutral", "score": 0.2}, "sad"])
    assert "suggests (most likely first): happy (0.61), neutral (0.20), sad." in text


def test_hybrid_prompt_mode():
    assert "Describe the character" in render_prompt("affectgpt_hybrid")
    assert "The character's emotional state is ..." in render_prompt("affectgpt_hybrid", target_mode="label")


RECORD = {"emotions": ["happy", "relieved"],
          "reasoning": {"observations": "She smiles.", "interpretation": "The exam is over.", "conclusion": "She is glad."}}


def test_emer_target_with_clues_exact():
    rec = dict(RECORD, clues={"visual": "Wide smile.", "acoustic": "", "lexical": "Says thanks."})
    assert render_target("emer", rec) == (
        "Visual clues: Wide smile.\nAcoustic clues: none observed\nLexical clues: Says thanks.\n"
        "Reasoning: The exam is over.\nConclusion: She is glad.\nEmotions: happy, relieved")


def test_emer_target_without_clues_or_conclusion():
    rec = {"emotions": ["sad"], "reasoning": {"observations": "Tears.", "interpretation": "Loss."}}
    assert render_target("emer", rec) == "Clues: Tears.\nReasoning: Loss.\nEmotions: sad"


def test_expllm_target_exact():
    rec = dict(RECORD, action_units=[{"au": "AU12", "name": "lip corner puller", "intensity": 3.14, "emotion": "happy"},
                                     {"au": "AU6", "intensity": 2}])
    assert render_target("expllm", rec) == (
        "Key Observations:\n- AU12 (lip corner puller), intensity 3.1: associated with happy.\n- AU6, intensity 2.0.\n"
        "Overall Emotional Interpretation: The exam is over.\nConclusion: She is glad.\nExpression: happy, relieved")


def test_emotion_cause_target_exact():
    rec = dict(RECORD, cause_spans=["I passed", {"text": "the exam", "utterance": 2}])
    assert render_target("emotion_cause", rec) == (
        'Emotion: happy, relieved\nCause spans:\n- "I passed"\n- "the exam" (utterance 2)\n'
        "Evidence: She smiles.\nReasoning: The exam is over.\nConclusion: She is glad.")
    assert render_target("emotion_cause", {"emotions": ["neutral"]}) == "Emotion: neutral\nCause spans:\n- none"


def test_hybrid_target_modes():
    assert render_target("affectgpt_hybrid", RECORD) == "The character's emotional state is happy, relieved."
    rec = dict(RECORD, description="She smiles. Therefore she is happy.")
    assert render_target("affectgpt_hybrid", rec) == "She smiles. Therefore she is happy."
    assert render_target("affectgpt_hybrid", rec, target_mode="label") == "The character's emotional state is happy, relieved."


def test_think_answer_and_empathy_targets_exact():
    assert render_target("think_answer", RECORD) == (
        "<think>\nObservations: She smiles.\nInterpretation: The exam is over.\nConclusion: She is glad.\n</think>\n"
        "<answer>happy, relieved</answer>")
    assert render_target("chain_of_empathy", dict(RECORD, response="Congratulations!")) == (
        "Situation: She smiles.\nEmotion: happy, relieved\nCause: The exam is over.\nGoal: She is glad.\n"
        "Response: Congratulations!")
