"""The learned text channel: train on a slice of real MELD, beat the majority class, reproducibly; bad inputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from affectllm.cli import main
from affectllm.core.errors import AffectLLMError

MELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "meld"
needs_meld = pytest.mark.skipif(not (MELD / "train_sent_emo.csv").is_file(), reason="MELD label files not found")
TRAIN_SLICE, HELD_OUT = slice(0, 1000), slice(8000, 8400)  # different dialogues, far apart in the file
EPOCHS = 12
# Features do not depend on the thread count, and the head always trains on one thread.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def meld_slices(tmp_path_factory):
    """The slices as manifests, made by the MELD recipe from a label file holding just those rows."""
    d = tmp_path_factory.mktemp("meld")
    lines = (MELD / "train_sent_emo.csv").read_bytes().split(b"\r\n")  # one utterance per line, header first
    rows = lines[1:]
    for name, part in (("slice", rows[TRAIN_SLICE]), ("held_out", rows[HELD_OUT]), ("tiny", rows[:40])):
        (d / name).mkdir()
        (d / name / "train_sent_emo.csv").write_bytes(b"\r\n".join([lines[0], *part, b""]))
        assert main(["recipe", "meld", "--input", str(d / name), "--split", "train", "--text-only",
                     "--out", str(d / f"{name}.jsonl")]) == 0
    return d


@needs_meld
def test_head_trained_on_a_meld_slice_beats_the_majority_class_reproducibly(meld_slices, tmp_path):
    from affectllm.cues.heads.text_head import (EMOTION_CLASSES, SentenceFeatures, TextHead, read_head_file, readings,
                                          save_text_head)
    from affectllm.cues.heads.text_head_training import (HeadTraining, featurize, head_scores, read_text_examples,
                                                   train_head)

    train, held = read_text_examples(meld_slices / "slice.jsonl"), read_text_examples(meld_slices / "held_out.jsonl")
    features = SentenceFeatures()
    x_train, x_held = featurize(train, features), featurize(held, features)
    cfg = HeadTraining(epochs=EPOCHS)
    net = train_head(x_train, train, cfg)
    scores = head_scores(net, x_held, held)
    majority = Counter(train.labels).most_common(1)[0][0]
    majority_acc = sum(label == majority for label in held.labels) / len(held)
    assert EMOTION_CLASSES[majority] == "neutral" and 0.35 < majority_acc < 0.55
    assert scores["samples"] == 400
    assert scores["acc"] > majority_acc + 0.05, (scores, majority_acc)
    # Weighted F1 of "always neutral" is share x F1(neutral) = share x 2s/(1+s).
    assert scores["waf"] > majority_acc * 2 * majority_acc / (1 + majority_acc) + 0.15

    # Same data, configuration and seed -> bit-identical weights; another seed -> different ones.
    first = net.state_dict()
    again = train_head(x_train, train, cfg).state_dict()
    assert first.keys() == again.keys() and all(torch.equal(first[k], again[k]) for k in first)
    other = train_head(x_train, train, HeadTraining(epochs=EPOCHS, seed=1)).state_dict()
    assert not torch.equal(first["trunk.1.weight"], other["trunk.1.weight"])

    # The saved file describes itself and loads without pickle into the same head.
    path = save_text_head(net, tmp_path / "head.safetensors", {"trained_on": "a MELD slice", "scores": scores})
    tensors, info = read_head_file(path)
    assert info["trained_on"] == "a MELD slice" and info["in_dim"] == features.dim
    assert all(torch.equal(tensors[k], first[k]) for k in first)
    loaded = TextHead(path).read([held.texts[0]])[0]
    assert loaded.emotion_probs == pytest.approx(readings(net, x_held[:1])[0].emotion_probs, abs=1e-5)


@needs_meld
def test_train_text_head_command_writes_a_head_and_reports_scores(meld_slices, tmp_path, capsys):
    from affectllm.cues.heads.text_head import read_head_file

    out = tmp_path / "head.safetensors"
    tiny = meld_slices / "tiny.jsonl"
    assert main(["train-text-head", "--train", str(tiny), "--dev", str(tiny), "--out", str(out), "--epochs", "2",
                 "--trained-on", "40 MELD lines", "--licence", "GPL-3.0", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["out"] == str(out) and report["train"]["samples"] == report["dev"]["samples"] == 40
    _, info = read_head_file(out)
    assert (info["trained_on"], info["licence"], info["train_samples"]) == ("40 MELD lines", "GPL-3.0", 40)
    assert info["training"]["epochs"] == 2 and info["scores"]["dev"] == report["dev"]


def test_bad_head_files_and_training_manifests_are_one_clear_error(tmp_path):
    from affectllm.cues.heads.text_head import TextHead, read_head_file
    from affectllm.cues.heads.text_head_training import read_text_examples

    with pytest.raises(AffectLLMError, match=r"text head .*missing\.safetensors does not exist"):
        read_head_file(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes((2).to_bytes(8, "little") + b"{}")  # a valid safetensors file with nothing in it
    with pytest.raises(AffectLLMError, match="no affectllm text-head description"):
        TextHead(junk)
    pickled = tmp_path / "head.safetensors"
    pickled.write_bytes(b"\x80\x04\x95 not safetensors")
    with pytest.raises(AffectLLMError, match="not a readable safetensors head"):
        read_head_file(pickled)

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "subtitle": "Hi.", "label": "joy", "sentiment": "positive"}\n'
                   '{"id": "b", "subtitle": "Hm.", "label": "happy"}\n')
    with pytest.raises(AffectLLMError, match=r"bad\.jsonl:2: \"label\" 'happy' is not one of anger, disgust"):
        read_text_examples(bad)
    assert main(["train-text-head", "--train", str(bad), "--out", str(tmp_path / "h.pt")]) == 2
