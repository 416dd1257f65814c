"""`eval vad`: CCC, Pearson and MAE per dimension on the gold's scale, against hand-computed values."""

import json
import math

import pytest

from affectllm.cli import main
from affectllm.core.dimensions import from_unit, rated_fields, rescale, to_unit, unit_targets
from affectllm.core.errors import AffectLLMError
from affectllm.eval import evaluate

SCALE_1_5 = {"valence": [1, 5], "arousal": [1, 5], "dominance": [1, 5]}


def _gold(ratings, scale=SCALE_1_5):
    return {sid: {"id": sid, "vad": vad, "vad_scale": {d: scale[d] for d in vad}} for sid, vad in ratings.items()}


def test_unit_scale_round_trip_by_hand():
    assert to_unit(1, (1, 5)) == -1.0 and to_unit(3, (1, 5)) == 0.0 and to_unit(4.5, (1, 7)) == pytest.approx(1 / 6)
    assert from_unit(0.5, (-5, 5)) == 2.5 and from_unit(-1, (1, 7)) == 1.0
    assert rescale(2.0, (1, 5), (-3, 3)) == pytest.approx(-1.5)
    assert all(from_unit(to_unit(v, (1, 7)), (1, 7)) == pytest.approx(v) for v in (1, 2.2, 3.777778, 7))
    sample = {"id": "s", **rated_fields({"valence": 2.0, "arousal": 5.0, "dominance": None}, (1, 5))}
    assert sample["vad"] == {"valence": 2.0, "arousal": 5.0} and sample["vad_scale"] == {"valence": [1, 5], "arousal": [1, 5]}
    assert unit_targets(sample) == {"valence": -0.5, "arousal": 1.0}  # dominance missing, not 0
    assert unit_targets({"valence": 0.4}) == {"valence": 0.4}  # a plain valence field is already on [-1, 1]


def test_vad_scores_three_dimensions_on_the_gold_scale_by_hand():
    gold = _gold({"a": {"valence": 1, "arousal": 2, "dominance": 1}, "b": {"valence": 2, "arousal": 3, "dominance": 5},
                  "c": {"valence": 4, "arousal": 3, "dominance": 3}, "d": {"valence": 5, "arousal": 4, "dominance": 3}})
    pred = {  # on [-1, 1] unless the record says otherwise: valence -> 1, 3, 3, 5; arousal -> 2, 3, 4, 4
        "a": {"id": "a", "vad": {"valence": -1, "arousal": 2, "dominance": -1}, "vad_scale": {"arousal": [1, 5]}},
        "b": {"id": "b", "vad": {"valence": 0, "arousal": 0, "dominance": 1}},
        "c": {"id": "c", "vad": {"valence": 0, "arousal": 0.5}},
        "d": {"id": "d", "vad": {"valence": 1, "arousal": 0.5}},
    }
    result = evaluate("vad", gold, pred)
    s = result.scores
    # valence: gold 1,2,4,5 (mean 3, var 2.5) vs 1,3,3,5 (mean 3, var 2), cov 2
    assert s["ccc"]["valence"] == pytest.approx(2 * 2 / (2.5 + 2))
    assert s["pearson"]["valence"] == pytest.approx(2 / math.sqrt(2.5 * 2))
    assert s["mae"]["valence"] == pytest.approx(0.5)
    # arousal: gold 2,3,3,4 (var 0.5) vs 2,3,4,4 (mean 3.25, var 0.6875), cov 0.5
    assert s["ccc"]["arousal"] == pytest.approx(2 * 0.5 / (0.5 + 0.6875 + 0.25 ** 2))
    assert s["pearson"]["arousal"] == pytest.approx(0.5 / math.sqrt(0.5 * 0.6875))
    assert s["mae"]["arousal"] == pytest.approx(0.25)
    # dominance: only a and b predict it (1 -> 1, 5 -> 5): perfect on 2 pairs
    assert s["ccc"]["dominance"] == 1.0 and s["mae"]["dominance"] == 0.0 and s["n"] == {"valence": 4, "arousal": 4,
                                                                                          "dominance": 2}
    assert s["scale"] == {"valence": [1.0, 5.0], "arousal": [1.0, 5.0], "dominance": [1.0, 5.0]}
    assert s["source"] == {"valence": {"vad": 4}, "arousal": {"vad": 4}, "dominance": {"vad": 2}}
    assert "dominance: 2 of 4 gold ratings have no predicted dominance and are not scored" in result.notes
    assert result.main == pytest.approx((8 / 9 + 0.8 + 1.0) / 3)


def test_vad_falls_back_to_the_lexicon_valence_of_the_emotion_words():
    gold = _gold({"a": {"valence": 3.5}, "b": {"valence": -3.25}, "c": {"valence": 0.0}, "d": {"valence": 1.0}},
                 scale={"valence": [-5, 5]})
    pred = {"a": {"id": "a", "emotions": ["happy"]},  # vocabulary valence 0.7 -> 3.5 on [-5, 5]
            "b": {"id": "b", "emotions": [], "explanation": "She is clearly sad."},  # -0.65 -> -3.25
            "d": {"id": "d", "emotions": ["calm"], "vad": {"valence": 0.2, "arousal": -0.4}}}  # the record's own: 1.0
    result = evaluate("vad", gold, pred)  # c has no prediction: no emotion words, valence 0
    assert result.scores["ccc"] == {"valence": 1.0} and result.scores["mae"] == {"valence": pytest.approx(0.0)}
    assert result.scores["source"] == {"valence": {"lexicon": 3, "vad": 1}}
    assert any("1 gold ids have no prediction" in n for n in result.notes)


def test_vad_gold_on_several_scales_is_scored_on_the_unit_scale():
    gold = {"iemocap": {"id": "iemocap", "vad": {"valence": 5}, "vad_scale": {"valence": [1, 5]}},
            "mer": {"id": "mer", "vad": {"valence": -5}, "vad_scale": {"valence": [-5, 5]}}}
    pred = {"iemocap": {"id": "iemocap", "vad": {"valence": 0.5}}, "mer": {"id": "mer", "vad": {"valence": -1}}}
    result = evaluate("vad", gold, pred)
    assert result.scores["scale"] == {"valence": [-1.0, 1.0]} and result.scores["mae"]["valence"] == pytest.approx(0.25)
    assert "valence: the gold ratings use several scales; scores are on [-1, 1]" in result.notes


@pytest.mark.parametrize("gold, pred, message", [
    ({"vad": {"valence": 6}, "vad_scale": {"valence": [1, 5]}}, {"vad": {"valence": 0}},
     'gold record "a": "vad.valence" is 6, outside its scale [1, 5]'),
    ({"vad": {"valence": 2}}, {"vad": {"valence": 0}},
     'gold record "a": "vad.valence" has no scale; add "vad_scale": {"valence": [lo, hi]}'),
    ({"vad": {"valence": 2}, "vad_scale": {"valence": [5, 1]}}, {"vad": {"valence": 0}},
     'gold record "a": "vad_scale.valence" must be [lo, hi] with two finite numbers, lo < hi, got [5, 1]'),
    ({"vad": {"valence": 2}, "vad_scale": {"valence": [1, 5]}}, {"vad": {"valence": float("nan")}},
     'prediction record "a": "vad.valence" is nan, not a finite number; give a number'),
    ({"vad": {"valence": 2}, "vad_scale": {"valence": [1, 5]}}, {"vad": [0.1, 0.2]},
     'prediction record "a": "vad" must be an object of dimension -> value, got [0.1, 0.2]'),
    ({"vad": {"pleasure": 2}, "vad_scale": {"pleasure": [1, 5]}}, {"vad": {"valence": 0}},
     'gold record "a": "vad" has unknown dimension(s) pleasure; use valence, arousal, dominance'),
])
def test_vad_bad_values_are_one_line_naming_the_record(tmp_path, capsys, gold, pred, message):
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    g.write_text(json.dumps({"id": "a", **gold}) + "\n")
    p.write_text(json.dumps({"id": "a", **pred}) + "\n")
    assert main(["eval", "vad", "--pred", str(p), "--gold", str(g), "--json"]) == 2
    assert capsys.readouterr().err == f"affectllm eval: error: {message}\n"


def test_vad_text_report_names_sources_and_undefined_pearson(tmp_path, capsys):
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    g.write_text("".join(json.dumps({"id": i, "vad": {"arousal": a}, "vad_scale": {"arousal": [1, 7]}}) + "\n"
                         for i, a in (("x", 2.0), ("y", 6.0))))
    p.write_text("".join(json.dumps({"id": i, "vad": {"arousal": 0.0}}) + "\n" for i in ("x", "y")))
    assert main(["eval", "vad", "--pred", str(p), "--gold", str(g)]) == 0
    out, err = capsys.readouterr()
    assert "  mae.arousal: 2.0000\n" in out and "  pearson.arousal: undefined\n" in out
    assert "  source.arousal: vad 2\n" in out and "  scale.arousal: [1.0, 7.0]\n" in out
    assert "Pearson's r is undefined" in err


def test_vad_needs_some_rating():
    with pytest.raises(AffectLLMError, match="no gold record has valence, arousal or dominance"):
        evaluate("vad", {"a": {"id": "a", "emotions": ["sad"]}}, {"a": {"id": "a", "emotions": ["sad"]}})
