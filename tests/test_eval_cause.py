"""RECCON scoring: `eval cause-span` (exact match, token F1) and `eval cause-pair`, against hand-computed values."""

import json

import pytest

from affectllm.cli import main
from affectllm.eval import evaluate
from affectllm.eval.cause import normalize_span, span_f1

GOLD = {
    "s1": {"id": "s1", "target_turn": 3, "cause_spans": [{"text": "They finally sold the house .", "utterance": 1},
                                                         {"text": "I can't believe it", "utterance": 3}]},
    "s2": {"id": "s2", "target_turn": 2, "cause_spans": [{"text": "the dessert", "utterance": 1}]},
    "s3": {"id": "s3", "target_turn": 1, "cause_spans": [], "latent_cause": True},
}
PRED = {
    "s1": {"id": "s1", "cause_spans": [{"text": "sold the house", "utterance": 1},
                                       {"text": "Really ?", "utterance": 2}]},
    # a caption record: the emotion_cause answer as the model wrote it
    "s2": {"id": "s2", "emotions": ["happy"],
           "raw_output": 'Emotion: happy\nCause spans:\n- "The dessert!" (utterance 1)\nEvidence: B wants dessert.'},
    "s3": {"id": "s3", "cause_spans": ["something else entirely"]},  # no turn, overlaps no gold span
}


def test_span_normalisation_and_token_f1_by_hand():
    assert normalize_span("They finally sold the house .") == "they finally sold house"
    assert normalize_span("The dessert!") == "dessert"
    assert span_f1("They finally sold the house .", "sold the house") == pytest.approx(2 / 3)  # P 2/2, R 2/4
    assert span_f1("a", "the") == 1.0 and span_f1("house", "") == 0.0


def test_cause_span_scores_by_hand():
    result = evaluate("cause-span", GOLD, PRED)
    s = result.scores
    # positive pairs: s1/1 (EM 0, F1 2/3), s1/3 (no span: 0, 0), s2/1 (EM 1, F1 1)
    assert s["em_pos"] == pytest.approx(1 / 3) and s["f1_pos"] == pytest.approx((2 / 3 + 0 + 1) / 3)
    # negative pairs: s1/2 (a span: wrong), s2/2 and s3/1 (empty: right); pairs left empty: s1/3, s2/2, s3/1
    assert s["f1_neg"] == pytest.approx(2 / 3)  # precision 2/3, recall 2/3
    assert s["f1"] == pytest.approx((2 / 3 + 0 + 0 + 1 + 1 + 1) / 6)
    assert s["pairs"] == 6 and s["positive_pairs"] == 3
    assert "1 predicted spans name no turn and overlap no gold cause span; they are not scored" in result.notes
    assert result.main == s["f1_pos"]


def test_cause_pair_scores_by_hand():
    s = evaluate("cause-pair", GOLD, PRED).scores
    # predicted causes s1 {1, 2}, s2 {1}, s3 {}: tp 2 (s1/1, s2/1), fp 1 (s1/2), fn 1 (s1/3), tn 2 (s2/2, s3/1)
    assert s == {"pos_f1": pytest.approx(2 / 3), "neg_f1": pytest.approx(2 / 3), "macro_f1": pytest.approx(2 / 3),
                 "acc": pytest.approx(4 / 6), "pairs": 6}
    # cause_utterances, when given, is the pair prediction: s3 now claims turn 1 (fp), s1 {1, 3} (all right)
    pred = dict(PRED, s1={"id": "s1", "cause_utterances": [1, 3]}, s3={"id": "s3", "cause_utterances": [1]})
    s = evaluate("cause-pair", GOLD, pred).scores
    # tp 3 (s1/1, s1/3, s2/1), fp 1 (s3/1), fn 0, tn 2 (s1/2, s2/2)
    assert s["pos_f1"] == pytest.approx(2 * 0.75 * 1 / 1.75) and s["neg_f1"] == pytest.approx(2 * 1 * (2 / 3) / (5 / 3))
    assert s["acc"] == pytest.approx(5 / 6)


def test_unnumbered_span_goes_to_the_gold_cause_it_overlaps():
    pred = {"s1": {"id": "s1", "cause_spans": ["can't believe it"]}}
    s = evaluate("cause-span", {"s1": GOLD["s1"]}, pred).scores
    # it lands on turn 3: F1 with "I can't believe it" = 2*1*(3/4)/(7/4) (cant, believe, it of i, cant, believe, it)
    assert s["f1_pos"] == pytest.approx((0 + 2 * 0.75 / 1.75) / 2) and s["f1_neg"] == pytest.approx(2 * (1 / 2) / 1.5)


@pytest.mark.parametrize("gold, pred, message", [
    ({"cause_spans": []}, {"cause_spans": []},
     'gold record "a" has no "target_turn" (the target utterance\'s turn number); re-run `affectllm recipe reccon` '
     "to write it"),
    ({"target_turn": 2, "cause_spans": [{"text": "x", "utterance": 3}]}, {},
     "gold record \"a\": cause span 'x' names turn 3, not one of 1..2"),
    ({"target_turn": 2, "cause_spans": []}, {"cause_spans": "sold the house"},
     "prediction record \"a\": \"cause_spans\" must be a list of {\"text\", \"utterance\"} or strings, got 'sold the house'"),
    ({"target_turn": 2, "cause_spans": []}, {"cause_utterances": ["two"]},
     "prediction record \"a\": \"cause_utterances\" must be a list of turn numbers, got ['two']"),
])
def test_cause_bad_records_are_one_line(tmp_path, capsys, gold, pred, message):
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    g.write_text(json.dumps({"id": "a", **gold}) + "\n")
    p.write_text(json.dumps({"id": "a", **pred}) + "\n")
    assert main(["eval", "cause-pair", "--pred", str(p), "--gold", str(g), "--json"]) == 2
    assert capsys.readouterr().err == f"affectllm eval: error: {message}\n"


def test_cause_cli_json(tmp_path, capsys):
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    g.write_text("".join(json.dumps(r) + "\n" for r in GOLD.values()))
    p.write_text("".join(json.dumps(r) + "\n" for r in PRED.values()))
    assert main(["eval", "cause-span", "--pred", str(p), "--gold", str(g), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["em_pos", "f1_pos", "f1_neg", "f1", "pairs", "positive_pairs"]
    assert out["em_pos"] == pytest.approx(1 / 3)
