"""The `affectllm eval` CLI contract (docs/evaluation.md), `eval report`, and the optional LLM extractor."""

import json
from pathlib import Path

import pytest

from affectllm.cli import main

REAL_WHEELS = Path(__file__).resolve().parents[2] / "shared" / "emotion_wheel"


def _write(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _json_out(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_json_keys(tmp_path, capsys):
    gold_ov = _write(tmp_path / "ov.jsonl", [{"id": "1", "emotions": ["frustrated", "tired"]}, {"id": "2", "emotions": ["happy"]}])
    pred = _write(tmp_path / "pred.jsonl", [
        {"id": "1", "emotions": [], "explanation": "She is frustrated and not happy; clearly tired.", "sentiment": "negative"},
        {"id": "2", "emotions": ["joyful"], "sentiment": "positive", "valence": 0.7},
    ])
    gold_basic = _write(tmp_path / "basic.jsonl", [{"id": "1", "label": "angry"}, {"id": "2", "label": "happy"}])
    gold_sent = _write(tmp_path / "sent.jsonl", [{"id": "1", "valence": -1.0}, {"id": "2", "valence": 2.0}])
    gold_vad = _write(tmp_path / "vad.jsonl", [{"id": "1", "valence": -0.5}, {"id": "2", "valence": 0.5}])
    ov = _json_out(capsys, ["eval", "ov", "--pred", str(pred), "--gold", str(gold_ov), "--json"])
    assert ov == {"f1": 1.0, "precision": 1.0, "recall": 1.0}
    assert _json_out(capsys, ["eval", "basic", "--pred", str(pred), "--gold", str(gold_basic), "--json"]) == {"hit_rate": 1.0}
    assert _json_out(capsys, ["eval", "sentiment", "--pred", str(pred), "--gold", str(gold_sent), "--json"]) == {"waf": 1.0, "acc": 1.0}
    vad = _json_out(capsys, ["eval", "vad", "--pred", str(pred), "--gold", str(gold_vad), "--json"])
    assert list(vad) == ["ccc", "pearson", "mae", "n", "scale", "source"] and list(vad["ccc"]) == ["valence"]
    assert vad["source"] == {"valence": {"lexicon": 1, "field": 1}} and vad["scale"] == {"valence": [-1.0, 1.0]}
    closed = _json_out(capsys, ["eval", "closed", "--pred", str(pred), "--gold", str(gold_basic), "--json"])
    assert set(closed) == {"waf", "acc"}
    # human-readable output
    assert main(["eval", "ov", "--pred", str(pred), "--gold", str(gold_ov)]) == 0
    assert "f1: 1.0000" in capsys.readouterr().out


@pytest.mark.skipif(not (REAL_WHEELS / "format.csv").is_file(), reason="../shared/emotion_wheel absent")
def test_cli_official_mode(tmp_path, capsys):
    gold = _write(tmp_path / "g.jsonl", [{"id": "1", "emotions": ["happy"]}, {"id": "2", "emotions": ["angry", "neutral"]}])
    pred = _write(tmp_path / "p.jsonl", [{"id": "1", "emotions": ["Joyful", "surprised"]},
                                         {"id": "2", "explanation": "He is furious."}])
    out = _json_out(capsys, ["eval", "ov", "--pred", str(pred), "--gold", str(gold), "--wheel-dir", str(REAL_WHEELS), "--json"])
    # By hand, per wheel at level 1: happy and joyful share a cluster on all five wheels; "surprised" is a cluster
    # of its own on wheels 1-4 and a word wheel 5 does not hold (it vanishes); angry and furious share one; the
    # gold "neutral" is on no wheel (it vanishes). Sample 1: P = 1/2 on wheels 1-4, 1 on wheel 5; sample 2: P = 1.
    # Recall is 1 throughout. Per wheel P = 3/4 (wheels 1-4) or 1, F1 = 6/7 or 1; means over the five wheels:
    assert out == pytest.approx({"precision": (4 * 0.75 + 1) / 5, "recall": 1.0, "f1": (4 * 6 / 7 + 1) / 5})


def test_cli_user_errors_exit_2(tmp_path, capsys):
    gold = _write(tmp_path / "g.jsonl", [{"id": "1", "emotions": ["happy"]}])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    assert main(["eval", "ov", "--pred", str(bad), "--gold", str(gold)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["eval", "ov", "--pred", str(gold), "--gold", str(gold), "--wheel-dir", str(tmp_path / "none")]) == 2
    assert "--wheel-dir" in capsys.readouterr().err
    assert main(["eval", "sentiment", "--pred", str(gold), "--gold", str(gold)]) == 2
    assert '"valence"' in capsys.readouterr().err


def test_cli_report(tmp_path, capsys):
    gold_dir = tmp_path / "gold"
    _write(gold_dir / "ovset.jsonl", [{"id": "1", "emotions": ["happy"]}, {"id": "2", "emotions": ["sad"]}])
    _write(gold_dir / "sentset.jsonl", [{"id": "1", "valence": 1.0}, {"id": "2", "valence": -1.0}])
    for model, ov_pred, sent_pred in (("good", ["happy", "sad"], ["positive", "negative"]), ("half", ["happy", "angry"], ["positive", "positive"])):
        _write(tmp_path / model / "ovset.jsonl", [{"id": str(i + 1), "emotions": [e]} for i, e in enumerate(ov_pred)])
        _write(tmp_path / model / "sentset.jsonl", [{"id": str(i + 1), "sentiment": s} for i, s in enumerate(sent_pred)])
    preds = [str(tmp_path / m / f"{d}.jsonl") for m in ("good", "half") for d in ("ovset", "sentset")]
    golds = [str(gold_dir / "ovset.jsonl"), str(gold_dir / "sentset.jsonl")]
    out_dir = tmp_path / "report"
    assert main(["eval", "report", *preds, "--gold", *golds, "--out", str(out_dir)]) == 0
    markdown = capsys.readouterr().out
    assert "| good | 100.00 | 100.00 | 100.00 |" in markdown
    # two samples per set: half's gap to good is within the paired interval, so it is marked, with the footnote
    assert "| half | 50.00† | 33.33† | 41.67 |" in markdown and "† not clearly different from the column's best" in markdown
    table = json.loads((out_dir / "report.json").read_text())
    assert [d["metric"] for d in table["datasets"]] == ["f1", "waf"]
    # half: ov sample 1 right, sample 2 wrong -> P=R=F1=0.5; sentiment acc 1/2, WAF = (1*2/3 + 1*0)/2 = 1/3
    assert table["models"]["half"]["scores"] == pytest.approx({"ovset": 0.5, "sentset": 1 / 3})
    assert table["models"]["half"]["mean"] == pytest.approx((0.5 + 1 / 3) / 2)
    png = (out_dir / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_llm_extractor_is_deterministic(tmp_path):
    """A tiny random-init Llama with a word-level tokenizer: greedy decoding gives the same list every time."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from affectllm.eval.llm_extractor import LLMEmotionExtractor

    words = ["<unk>", "<eos>", ",", "happy", "sad", "angry", "tired", "calm", "none", "the", "person", "is"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", pad_token="<eos>")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(words), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, eos_token_id=1, pad_token_id=1)
    LlamaForCausalLM(cfg).save_pretrained(tmp_path / "m")
    fast.save_pretrained(tmp_path / "m")
    extractor = LLMEmotionExtractor(tmp_path / "m", max_new_tokens=8)
    first = extractor("the person is happy")
    assert first == extractor("the person is happy")
    assert all(isinstance(w, str) and w for w in first)


def test_cli_counts_intervals_per_class_and_confusion(tmp_path, capsys):
    """Beside the score: samples scored and skipped, a per-class table and a confusion matrix (JSON and PNG), and
    95 % percentile intervals equal to recomputing the score on each of 1,000 seeded resamples."""
    import numpy as np

    from affectllm.eval.classification import accuracy, weighted_f1

    labels = ["joy", "joy", "joy", "anger", "anger", "sadness", "joy", "anger", "sadness", "joy"]
    answers = ["joy", "joy", "anger", "anger", "joy", "sadness", "joy", "anger", "calm", "joy"]
    gold = _write(tmp_path / "g.jsonl", [{"id": str(i), "label": x, "valence": 0.0 if i == 9 else (1.0 if x == "joy" else -1.0)}
                                         for i, x in enumerate(labels)])
    pred = _write(tmp_path / "p.jsonl", [{"id": str(i), "label": x, "sentiment": "positive" if x == "joy" else "negative"}
                                         for i, x in enumerate(answers)])
    assert _json_out(capsys, ["eval", "closed", "--pred", str(pred), "--gold", str(gold), "--json"]).keys() == {"waf", "acc"}
    assert main(["eval", "closed", "--pred", str(pred), "--gold", str(gold), "--out", str(tmp_path / "r")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("closed (default mode, 10 samples scored, 0 skipped, 0 without a prediction)")
    assert "acc: 0.7000  (95 % CI" in text and "    joy: 5, 0.8000, 0.8000, 0.8000" in text
    details = json.loads((tmp_path / "r" / "closed.json").read_text())
    assert details["per_class"]["joy"] == {"support": 5, "precision": 0.8, "recall": 0.8, "f1": 0.8}
    assert details["per_class"]["sadness"] == {"support": 2, "precision": 1.0, "recall": 0.5, "f1": 0.6667}
    assert details["confusion"] == {"gold": ["joy", "anger", "sadness"], "predicted": ["joy", "anger", "sadness", "calm"],
                                    "matrix": [[4, 1, 0, 0], [1, 2, 0, 0], [0, 0, 1, 1]]}
    assert (tmp_path / "r" / "closed_confusion.png").read_bytes()[:4] == b"\x89PNG"
    # the same draws, scored one resample at a time
    rng, waf, acc = np.random.default_rng(0), [], []
    for _ in range(10):
        for row in rng.integers(0, 10, size=(100, 10)):
            waf.append(weighted_f1([labels[i] for i in row], [answers[i] for i in row]))
            acc.append(accuracy([labels[i] for i in row], [answers[i] for i in row]))
    for key, values in (("waf", waf), ("acc", acc)):
        assert details["ci"][key] == pytest.approx(list(np.percentile(values, [2.5, 97.5])), abs=1e-4)
    # sentiment leaves the zero valence out, and says so
    assert main(["eval", "sentiment", "--pred", str(pred), "--gold", str(gold), "--out", str(tmp_path / "r")]) == 0
    assert "9 samples scored, 1 skipped" in capsys.readouterr().out
    sentiment = json.loads((tmp_path / "r" / "sentiment.json").read_text())
    assert sentiment["counts"] == {"scored": 9, "skipped": 1, "missing_predictions": 0}
    assert sentiment["confusion"]["matrix"] == [[4, 1], [1, 3]]  # gold positive, negative by predicted
