"""Sentiment, WAF, CCC, closed-set, default (own vocabulary) mode, grounding, and extractor agreement."""

import random

import pytest

from affectllm.emotions import extract_emotions
from affectllm.core.errors import AffectLLMError
from affectllm.eval import EvalOptions, evaluate
from affectllm.eval.ccc import ccc
from affectllm.eval.classification import accuracy, weighted_f1
from affectllm.eval.grounding import grounding_scores
from affectllm.eval.sentiment import sentiment_scores


def _recs(rows, field):
    return {str(i): {"id": str(i), field: v} for i, v in enumerate(rows)}


def test_sentiment_official_and_strict():
    gold = [2.0, -1.0, 0.0, -0.5, 1.0]
    pred = ["positive", "neutral", "positive", "negative", "Positive"]
    # valence 0 dropped; official: neutral and "Positive" count as negative -> y_pred [T,F,F,F] vs [T,F,F,T]
    assert sentiment_scores(gold, pred) == pytest.approx({"waf": 11 / 15, "acc": 3 / 4}, abs=1e-12)
    # strict: neutral is its own (wrong) class, "Positive" is positive -> y_pred [T,None,F,T]
    assert sentiment_scores(gold, pred, strict=True) == pytest.approx({"waf": 5 / 6, "acc": 3 / 4}, abs=1e-12)


def test_sentiment_from_emotions_and_all_zero_gold():
    gold = _recs([0.8, -0.4], "valence")
    pred = {"0": {"id": "0", "emotions": ["delighted"]}, "1": {"id": "1", "explanation": "She sounds bitter and tired."}}
    assert evaluate("sentiment", gold, pred).scores == {"waf": 1.0, "acc": 1.0}
    with pytest.raises(AffectLLMError, match="valence is 0"):
        evaluate("sentiment", _recs([0, 0.0], "valence"), pred)


def test_weighted_f1_matches_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(0)
    for _ in range(50):
        labels = ["a", "b", "c", "d"][: rng.randint(1, 4)]
        n = rng.randint(1, 30)
        y_true = [rng.choice(labels) for _ in range(n)]
        y_pred = [rng.choice(labels + ["zz"]) for _ in range(n)]
        ref = metrics.f1_score(y_true, y_pred, average="weighted", zero_division=0)
        assert weighted_f1(y_true, y_pred) == pytest.approx(ref, abs=1e-12)
        assert accuracy(y_true, y_pred) == pytest.approx(metrics.accuracy_score(y_true, y_pred), abs=1e-12)


def test_ccc_hand_values():
    assert ccc([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert ccc([1, 2, 3], [2, 3, 4]) == pytest.approx(4 / 7)  # shift of 1: 2*(2/3) / (2/3+2/3+1)
    assert ccc([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert ccc([0.5, 0.5], [0.5, 0.5]) == 1.0


def test_vad_task():
    gold = {"a": {"id": "a", "valence": 1, "arousal": 0.2}, "b": {"id": "b", "valence": 2, "arousal": 0.4}, "c": {"id": "c", "valence": 3}}
    pred = {"a": {"id": "a", "valence": 2, "arousal": 0.2}, "b": {"id": "b", "valence": 3, "arousal": 0.4}, "c": {"id": "c", "valence": 4}}
    scores = evaluate("vad", gold, pred).scores
    assert set(scores) == {"ccc", "pearson", "mae", "n", "scale", "source"} and set(scores["ccc"]) == {"valence", "arousal"}
    assert scores["ccc"]["valence"] == pytest.approx(4 / 7) and scores["ccc"]["arousal"] == pytest.approx(1.0)
    assert scores["n"] == {"valence": 3, "arousal": 2} and scores["source"]["valence"] == {"field": 3}


def test_closed_set_labels_and_emotion_fallback():
    gold = _recs(["happy", "angry", "sad", "neutral"], "label")
    pred = {
        "0": {"id": "0", "label": "Happy "},
        "1": {"id": "1", "emotions": ["furious"]},  # same family as "angry"
        "2": {"id": "2", "explanation": "He looks relieved."},  # calm family: no class matches -> wrong
        "3": {"id": "3", "emotions": ["neutral"]},
    }
    scores = evaluate("closed", gold, pred).scores
    assert scores["acc"] == pytest.approx(3 / 4)
    assert scores["waf"] == pytest.approx(3 / 4)  # each class support 1: F1 1,1,0,1


def test_default_mode_families():
    gold = _recs([["frustrated", "tired"], ["happy"], ["neutral"]], "emotions")
    pred = {
        "0": {"id": "0", "explanation": "Annoyance, not joy; she is clearly exhausted."},
        "1": {"id": "1", "emotions": ["Joyful", "scared"]},
        "2": {"id": "2", "emotions": []},  # names nothing -> neutral in default mode
    }
    # families: s0 G={anger,fatigue} P={anger,fatigue}; s1 G={joy} P={joy,fear}; s2 G={neutral} P={neutral}
    scores = evaluate("ov", gold, pred).scores
    p, r = (1 + 0.5 + 1) / 3, 1.0
    assert scores == pytest.approx({"f1": 2 * p * r / (p + r), "precision": p, "recall": r}, abs=1e-12)
    words = evaluate("ov", gold, pred, EvalOptions(level="word")).scores
    # words: s0 G={frustrated,tired} P={annoyed,exhausted} -> 0; s1 G={happy} P={joyful,scared} -> 0; s2 1
    assert words == pytest.approx({"f1": 1 / 3, "precision": 1 / 3, "recall": 1 / 3}, abs=1e-12)


def test_default_mode_hit_rate_and_source_choice():
    gold = _recs(["anger", "neutral"], "label")
    pred = {"0": {"id": "0", "emotions": ["calm"], "explanation": "visibly irritated"}, "1": {"id": "1", "emotions": []}}
    assert evaluate("basic", gold, pred).scores == {"hit_rate": 0.5}
    assert evaluate("basic", gold, pred, EvalOptions(source="explanation")).scores == {"hit_rate": 1.0}


def test_grounding():
    recs = [
        {"id": "a", "explanation": 'She smiles and says "I finally got it", her pitch rising.',
         "cues": {"face": {"expression": "happy"}, "transcript": "Wow, I finally got it!"}},
        {"id": "b", "explanation": "He frowns and shouts.", "cues": {"prosody": {"rms_db": -12.0}}},
        {"id": "c", "explanation": "Nothing observable is cited here.", "cues": {}},
    ]
    # a: quote grounded, smile grounded (happy), pitch not grounded, transcript ("says") grounded -> 3/4
    # b: frown not grounded, loudness grounded (rms/db) -> 1/2; c cites nothing
    out = grounding_scores(recs)
    assert out == {"grounding": pytest.approx((3 / 4 + 1 / 2) / 2), "samples": 2, "cited": 6}


# Realistic explanation texts (written for these tests) with the emotion list an annotator would give.
EXPLANATIONS = [
    ("Her brows are drawn together and she speaks through clenched teeth; the frustration is obvious and she seems worn out.", ["frustrated", "exhausted"]),
    ("He laughs loudly and his voice rises; he is clearly delighted by the news.", ["delighted"]),
    ("The speaker's voice trembles and she keeps glancing at the door, suggesting anxiety rather than anger.", ["anxious"]),
    ("Although he smiles, his flat tone suggests he is not really happy; he seems disappointed.", ["disappointed"]),
    ("She sighs and lowers her gaze. Her words suggest sadness and a hint of guilt.", ["sad", "guilty"]),
    ("He shouts at the other man, his face red with rage.", ["enraged"]),
    ("There is no sign of fear; she speaks calmly and confidently.", ["calm", "confident"]),
    ("His eyes widen and his mouth falls open: he is shocked, maybe even a bit scared.", ["shocked", "scared"]),
    ("She rolls her eyes and answers with obvious contempt.", ["contemptuous"]),
    ("The man looks puzzled, frowning at the paper as if confused by it.", ["puzzled", "confused"]),
    ("She talks about her late mother with tears in her eyes; grief and nostalgia fill her voice.", ["grieving", "nostalgic"]),
    ("He is relieved that the exam is over and seems quite content.", ["relieved", "content"]),
    ("The woman speaks in a neutral tone without any visible emotion.", ["neutral"]),
    ("He seems nervous and embarrassed, stammering and avoiding eye contact.", ["nervous", "embarrassed"]),
    ("She is excited and hopeful about the trip, speaking quickly with a bright smile.", ["excited", "hopeful"]),
    ("He sounds bored, answering in a monotone and looking away.", ["bored"]),
    ("Her voice is cold and sarcastic; she is irritated by the question.", ["sarcastic", "irritated"]),
    ("The child is not sad at all; he giggles playfully.", ["playful"]),
    ("He feels betrayed by his friend and is visibly hurt.", ["betrayed", "hurt"]),
    ("She is proud of her daughter and grateful to the teachers.", ["proud", "grateful"]),
    ("He appears tense and worried, rubbing his hands together.", ["tense", "worried"]),
    ("She is surprised, then amused, by the unexpected gift.", ["surprised", "amused"]),
    ("Without a trace of hesitation he declares his love; he is determined.", ["loving", "determined"]),
    ("She looks lonely and slightly depressed, sitting apart from the group.", ["lonely", "depressed"]),
    ("He is disgusted by the smell and wrinkles his nose.", ["disgusted"]),
    ("The old man seems tired but peaceful, smiling gently.", ["tired", "peaceful"]),
    ("Her fury is barely contained; she is also deeply hurt.", ["furious", "hurt"]),
    ("He neither looks angry nor upset, only curious about what happens next.", ["curious"]),
    ("She admits she feels ashamed and regrets what she said.", ["ashamed", "regretful"]),
    ("The speaker sounds impatient and annoyed at the delay.", ["impatient", "annoyed"]),
]


def test_extractor_agreement_on_realistic_explanations():
    exact = 0
    tp = fp = fn = 0
    for text, gold in EXPLANATIONS:
        got = extract_emotions(text)
        exact += set(got) == set(gold)
        tp += len(set(got) & set(gold))
        fp += len(set(got) - set(gold))
        fn += len(set(gold) - set(got))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"extractor agreement: exact {exact}/{len(EXPLANATIONS)}, precision {precision:.3f}, recall {recall:.3f}")
    assert exact >= 24
    assert precision >= 0.9 and recall >= 0.9


def test_wheel_intervals_recompute_the_score_on_each_resample():
    """ov and basic intervals equal scoring each seeded resample from scratch (views left out where a resample
    has no scorable gold, as on the full set); a sample whose gold maps nowhere is counted as skipped."""
    import numpy as np

    from affectllm.emotions import default_vocabulary
    from affectllm.eval.open_vocab import VocabularySpace, hit_rate_scores, ov_scores

    rng = random.Random(3)
    words = ["happy", "sad", "angry", "worried", "calm", "surprised"]
    gold = [[rng.choice(words)] for _ in range(29)] + [["blorp"]]  # the last maps to no family
    pred = [rng.sample(words, rng.randint(1, 2)) for _ in range(30)]
    g_recs = {str(i): {"emotions": g, "label": g[0]} for i, g in enumerate(gold)}
    p_recs = {str(i): {"emotions": p} for i, p in enumerate(pred)}
    ov, basic = evaluate("ov", g_recs, p_recs), evaluate("basic", g_recs, p_recs)
    assert ov.details["counts"] == {"scored": 29, "skipped": 1, "missing_predictions": 0}
    space = VocabularySpace(default_vocabulary(), empty_is_neutral=True)
    draws = np.random.default_rng(0)
    f1, hit = [], []
    for _ in range(10):
        for row in draws.integers(0, 30, size=(100, 30)):
            f1.append(ov_scores([gold[i] for i in row], [pred[i] for i in row], space).ov()["f1"])
            hit.append(hit_rate_scores([gold[i] for i in row], [pred[i] for i in row], space).basic()["hit_rate"])
    assert ov.details["ci"]["f1"] == pytest.approx(list(np.percentile(f1, [2.5, 97.5])), abs=1e-4)
    assert basic.details["ci"]["hit_rate"] == pytest.approx(list(np.percentile(hit, [2.5, 97.5])), abs=1e-4)
    assert sum(row["support"] for row in basic.details["per_class"].values()) == 29
