"""GRPO rewards against hand-computed values, and the start-up checks that refuse what a run cannot score."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from affectllm.config.schema import RewardWeights, load_config
from affectllm.emotions import default_vocabulary
from affectllm.core.errors import AffectLLMError, ConfigError
from affectllm.eval.open_vocab import VocabularySpace, WheelSpace
from affectllm.reasoning import parse_output
from affectllm.training.grpo.rewards import (REWARDS, Completion, RewardContext, follows_template, format_reward,
                                             grounded, label_hit, score, total_reward, vad, wheel_f1)

REAL_WHEELS = Path(__file__).resolve().parents[2] / "shared" / "emotion_wheel"
needs_real = pytest.mark.skipif(not (REAL_WHEELS / "format.csv").is_file(), reason="../shared/emotion_wheel absent")


def completion(text: str, template: str = "emer", finished: bool = True, num_tokens: int = 10, **extra) -> Completion:
    return Completion(text=text, parsed=parse_output(template, text), num_tokens=num_tokens, finished=finished, **extra)


@pytest.fixture(scope="module")
def family() -> RewardContext:
    return RewardContext("emer", VocabularySpace(default_vocabulary(), "family", empty_is_neutral=True))


def test_registry_matches_the_config_weights():
    assert list(REWARDS) == [f.name for f in dataclasses.fields(RewardWeights)]


# ------------------------------------------------------------------ default mode: our vocabulary's families

def test_wheel_f1_by_hand_and_as_affectllm_eval_scores_it(family):
    from affectllm.eval import EvalOptions, evaluate

    # gold families {anger, fatigue}; "Emotions: angry" → {anger}: precision 1, recall 1/2, F1 2/3
    answer = completion("Reasoning: the voice is loud.\nEmotions: angry")
    sample = {"id": "a", "emotions": ["frustrated", "tired"]}
    assert wheel_f1(sample, answer, family) == pytest.approx(2 / 3)
    same = evaluate("ov", {"a": sample}, {"a": {"id": "a", "emotions": answer.parsed.emotions}}, EvalOptions())
    assert wheel_f1(sample, answer, family) == pytest.approx(same.scores["f1"])
    # {joy, anger} against {anger, fatigue}: P 1/2, R 1/2
    assert wheel_f1(sample, completion("Emotions: happy, furious"), family) == pytest.approx(0.5)
    # no emotion named counts as neutral (as eval's default mode scores it): wrong here, right for neutral gold
    assert wheel_f1(sample, completion("..."), family) == 0.0
    assert wheel_f1({"emotions": ["neutral"]}, completion("..."), family) == 1.0
    assert wheel_f1({"id": "b"}, answer, family) is None  # no gold: not applicable
    assert wheel_f1({"emotions": ["zorbish"]}, answer, family) is None  # gold outside the label space


def test_label_hit_by_hand(family):
    assert label_hit({"label": "sad"}, completion("Emotions: sad, tired"), family) == 1.0
    assert label_hit({"label": "sad"}, completion("Emotions: happy"), family) == 0.0
    assert label_hit({"label": "angry"}, completion("Emotions: frustrated"), family) == 1.0  # one family
    assert label_hit({"emotions": ["sad"]}, completion("Emotions: sad"), family) is None  # no basic label


# ------------------------------------------------------------------ official mode: the MER-UniBench wheel files

@needs_real
def test_official_wheel_mode_on_real_wheel_words():
    from affectllm.eval.wheel import load_official_wheels

    ctx = RewardContext("emer", WheelSpace(load_official_wheels(REAL_WHEELS)))
    # level1 per wheel 1..5, read off the wheel files:
    #   frustrated → sad, sad, mad, sad, mad      angry → mad, angry, mad, anger, mad      sad → sad on all five
    # gold {frustrated}, answer {angry, sad}: every wheel holds the gold group in a 2-group answer → P 1/2, R 1
    assert wheel_f1({"emotions": ["frustrated"]}, completion("Emotions: angry, sad"), ctx) == pytest.approx(2 / 3)
    #   surprised → surprised, surprised, powerful, fear, (not on wheel 5)
    #   grateful  → happy, happy, powerful, joy, powerful
    # wheel 5 has no gold group and is left out; only wheel 3 matches: F1 = (0 + 0 + 1 + 0) / 4
    assert wheel_f1({"emotions": ["surprised"]}, completion("Emotions: grateful"), ctx) == pytest.approx(0.25)
    assert label_hit({"label": "surprised"}, completion("Emotions: grateful"), ctx) == pytest.approx(0.25)
    #   worried, anxious → scared, fearful, scared, fear, scared: a hit on every wheel
    assert label_hit({"label": "worried"}, completion("Emotions: anxious"), ctx) == 1.0
    # the reference drops words it cannot map instead of charging precision
    assert wheel_f1({"emotions": ["happy"]}, completion("Emotions: joyful, blorfish"), ctx) == 1.0
    # a gold "neutral" maps to no wheel: the reward does not apply
    assert label_hit({"label": "neutral"}, completion("Emotions: calm"), ctx) is None


# ------------------------------------------------------------------ format

THINK = "<think>The tone is low and slow.</think>\n<answer>sad, tired</answer>"


@pytest.mark.parametrize("text,ok", [
    (THINK, True),
    ("  " + THINK + "\n", True),
    ("<think>The tone is low.</think><answer>sad</answer> and more", False),  # text outside the tags
    ("<think>The tone is low.</think><answer>sad</answer", False),  # unclosed answer
    ("<think> </think><answer>sad</answer>", False),  # no reasoning
    ("<think>The tone is low.</think><answer> </answer>", False),  # no emotion
    ("<answer>sad</answer><think>low tone</think>", False),  # wrong order
    ("sad", False),
])
def test_think_answer_structure(text, ok):
    assert follows_template("think_answer", text, parse_output("think_answer", text)) is ok


@pytest.mark.parametrize("template", ["emer", "hef_hint", "expllm", "chain_of_empathy", "emotion_cause",
                                      "affectgpt_hybrid", "think_answer"])
def test_every_templates_own_target_has_its_format_and_prose_does_not(template):
    from affectllm.reasoning.prompts import render_target

    record = {"emotions": ["sad", "tired"],
              "reasoning": {"observations": "The voice is low.", "interpretation": "Low energy suggests sadness.",
                            "conclusion": "The person is sad."},
              "clues": {"visual": "downcast eyes", "acoustic": "low pitch", "lexical": "'it is over'"},
              "cause_spans": [{"text": "it is over", "utterance": 2}], "response": "I am sorry.",
              "description": "The voice is low and slow. Therefore the character feels sad and tired.",
              "action_units": [{"au": "AU15", "name": "lip corner depressor", "intensity": 2.0, "emotion": "sad"}]}
    target = render_target(template, record)
    assert follows_template(template, target, parse_output(template, target)), target
    prose = "I think she is sad and tired today."
    # a free description is the hybrid template's own layout; every other template asks for labelled parts
    assert follows_template(template, prose, parse_output(template, prose)) is (template == "affectgpt_hybrid")


def test_format_reward_needs_an_ended_answer_within_the_cap():
    ctx = RewardContext("think_answer", VocabularySpace(default_vocabulary()), format_max_tokens=20)
    assert format_reward({}, completion(THINK, "think_answer", num_tokens=20), ctx) == 1.0
    assert format_reward({}, completion(THINK, "think_answer", num_tokens=21), ctx) == 0.0  # over the cap
    assert format_reward({}, completion(THINK, "think_answer", finished=False), ctx) == 0.0  # cut by max_new_tokens
    assert format_reward({}, completion("Emotions: sad", "think_answer"), ctx) == 0.0


# ------------------------------------------------------------------ grounding, dimensions, the total

def test_grounded_rewards_cited_cues_that_exist(family):
    cues = {"face": {"expression": "happy", "p": 0.9}, "transcript": "what a lovely day"}
    sample = {"id": "g", "cues": cues}
    # "smiles" is grounded by the happy face, the quote by the transcript → 2 of 2
    assert grounded(sample, completion('Reasoning: she smiles and says "what a lovely day".\nEmotions: happy'),
                    family) == 1.0
    # "tears" has no evidence (no cry, sob or sad cue) → 1 of 2
    assert grounded(sample, completion("Reasoning: she smiles through tears.\nEmotions: happy"), family) == 0.5
    assert grounded(sample, completion("Reasoning: she is fine.\nEmotions: happy"), family) == 0.0  # cites nothing
    assert grounded({"id": "n"}, completion("Emotions: happy"), family) is None  # no cue record
    # cues kept apart from the manifest (train.grpo.cues), flattened once, by sample id
    from affectllm.eval.grounding import flatten_cues

    ctx = dataclasses.replace(family, cues={"n": flatten_cues({"face": {"expression": "sad"}})})
    assert grounded({"id": "n"}, completion("Reasoning: tears.\nEmotions: sad"), ctx) == 1.0


def test_vad_closeness_by_hand(family):
    # |0.5 - 0.1| / 2 = 0.2 → 0.8;   with arousal |-0.2 - 0.6| / 2 = 0.4 → 1 - (0.2 + 0.4) / 2 = 0.7
    assert vad({"valence": 0.1}, completion("x", vad={"valence": 0.5}), family) == pytest.approx(0.8)
    assert vad({"valence": 0.1, "arousal": 0.6}, completion("x", vad={"valence": 0.5, "arousal": -0.2}),
               family) == pytest.approx(0.7)
    assert vad({"valence": 0.1}, completion("x"), family) is None  # no dimensional prediction
    # gold on its own scale: arousal 4 on 1..5 is 0.5 on -1..1, |0.1 - 0.5| / 2 = 0.2 → 0.8; dominance unrated
    scaled = {"vad": {"arousal": 4}, "vad_scale": {"arousal": [1, 5]}}
    assert vad(scaled, completion("x", vad={"arousal": 0.1, "dominance": 0.3}), family) == pytest.approx(0.8)
    assert vad(scaled, completion("x", vad={"valence": 0.5}), family) is None  # no dimension in common
    with pytest.raises(AffectLLMError, match="not a finite number"):  # a broken sample never scores
        vad({"id": "n", "valence": float("nan")}, completion("x", vad={"valence": 0.5}), family)


def test_total_reward_weights_and_skips_what_does_not_apply(family):
    sample = {"id": "t", "label": "sad", "emotions": ["sad", "tired"]}
    scores = score(sample, completion("Reasoning: low voice.\nEmotions: sad"), family,
                   ["wheel_f1", "label_hit", "format", "grounded"])
    # families {sadness, fatigue} vs {sadness}: P 1, R 1/2 → F1 2/3; the label hits; emer's layout holds
    assert scores == pytest.approx({"wheel_f1": 2 / 3, "label_hit": 1.0, "format": 1.0, "grounded": None})
    assert total_reward(scores, {"wheel_f1": 1.0, "label_hit": 0.0, "format": 0.5, "grounded": 2.0}) == \
        pytest.approx(2 / 3 + 0.5)


# ------------------------------------------------------------------ start-up checks

def _cfg(*overrides):
    return load_config(None, ["model.llm=x", "model.prefusion=none", "train.stage=grpo", *overrides],
                       check_paths=False)


@pytest.mark.parametrize("overrides,message", [
    (["train.grpo.group_size=1"], "'train.grpo.group_size' must be at least 2"),
    (["train.grpo.top_p=0"], "'train.grpo.top_p' must be in (0, 1]"),
    (["train.grpo.updates_per_rollout=2", "train.save_every=5"], "'train.save_every' (5) must be a multiple"),
    (["train.grpo.rewards.wheel_f1=null", "train.grpo.rewards.format=null"], "every reward is null"),
    (["model.lora.enabled=false"], "train.grpo.kl_beta needs a reference"),
])
def test_impossible_settings_are_one_line(overrides, message):
    from affectllm.training.grpo.setup import check_settings

    with pytest.raises(ConfigError) as err:
        check_settings(_cfg(*overrides))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_rewards_the_data_or_model_cannot_feed_are_refused(tiny_model, tmp_path):
    from affectllm.training.grpo.setup import reward_context

    gold = {"a": {"id": "a", "emotions": ["sad"]}}
    with pytest.raises(ConfigError, match=r"train.grpo.rewards.label_hit: no training sample has \"label\""):
        reward_context(_cfg("train.grpo.rewards.label_hit=1"), gold, tiny_model)
    with pytest.raises(ConfigError, match="train.grpo.rewards.vad needs a model with a dimensional"):
        reward_context(_cfg("train.grpo.rewards.vad=0"), gold, tiny_model)
    with pytest.raises(ConfigError, match="train.grpo.rewards.grounded needs the samples' cues"):
        reward_context(_cfg("train.grpo.rewards.grounded=1"), gold, tiny_model)
    cues = tmp_path / "cues.jsonl"
    cues.write_text('{"id": "a", "cues": {"face": {"expression": "sad"}}}\n')
    ctx, weights = reward_context(_cfg("train.grpo.rewards.grounded=1", f"train.grpo.cues={cues}"), gold, tiny_model)
    assert weights == {"wheel_f1": 1.0, "format": 0.5, "grounded": 1.0} and "sad" in ctx.cues["a"]
