"""The learned text channel: train on a slice of real MELD, beat the majority class, reproducibly; bad inputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from affectllm.cli import main
from affectllm.errors import AffectLLMError

MELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "meld"
needs_meld = pytest.mark.skipif(not (MELD / "train_sent_emo.csv").is_file(), reason="MELD label files not found")
TRAIN_SLICE, HELD_OUT = slice(0, 1500), slice(8000, 8600)  # different dialogues, far apart in the file
EPOCHS = 15


@pytest.fixture(scope="module")
def meld_slices(tmp_path_factory):
    d = tmp_path_factory.mktemp("meld")
    full = d / "train.jsonl"
    assert main(["recipe", "meld", "--input", str(MELD), "--split", "train", "--text-only", "--out", str(full)]) == 0
    lines = full.read_text(encoding="utf-8").splitlines()
    (d / "slice.jsonl").write_text("\n".join(lines[TRAIN_SLICE]) + "\n", encoding="utf-8")
    (d / "held_out.jsonl").write_text("\n".join(lines[HELD_OUT]) + "\n", encoding="utf-8")
    return d / "slice.jsonl", d / "held_out.jsonl"


@needs_meld
def test_head_trained_on_a_meld_slice_beats_the_majority_class_reproducibly(meld_slices, tmp_path, capsys):
    from safetensors.torch import load_file

    from affectllm.cues.text_head import EMOTION_CLASSES, SentenceFeatures, TextHead, read_head_file
    from affectllm.cues.text_head_training import HeadTraining, featurize, read_text_examples, train_head

    train_path, held_path = meld_slices
    out = tmp_path / "head.safetensors"
    assert main(["train-text-head", "--train", str(train_path), "--dev", str(held_path), "--out", str(out),
                 "--epochs", str(EPOCHS), "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    train, held = read_text_examples(train_path), read_text_examples(held_path)
    majority = Counter(train.labels).most_common(1)[0][0]
    majority_acc = sum(label == majority for label in held.labels) / len(held)
    assert EMOTION_CLASSES[majority] == "neutral" and 0.35 < majority_acc < 0.55
    assert report["dev"]["samples"] == 600
    assert report["dev"]["acc"] > majority_acc + 0.05, (report["dev"], majority_acc)
    # Weighted F1 of "always neutral" is share x F1(neutral) = share x 2s/(1+s).
    assert report["dev"]["waf"] > majority_acc * 2 * majority_acc / (1 + majority_acc) + 0.15

    # Same data, configuration and seed -> bit-identical weights; another seed -> different ones.
    features = SentenceFeatures()
    x = featurize(train, features)
    saved = load_file(str(out))
    again = train_head(x, train, HeadTraining(epochs=EPOCHS)).state_dict()
    assert saved.keys() == again.keys() and all(torch.equal(saved[k], again[k]) for k in saved)
    other = train_head(x, train, HeadTraining(epochs=EPOCHS, seed=1)).state_dict()
    assert not torch.equal(saved["trunk.1.weight"], other["trunk.1.weight"])

    # The file describes itself and loads without pickle into a working head.
    _, info = read_head_file(out)
    assert info["training"]["seed"] == 0 and info["train_samples"] == 1500 and info["scores"]["dev"] == report["dev"]
    reading = TextHead(out).read(["I am so angry at you, get out!"])[0]
    assert sum(reading.emotion_probs.values()) == pytest.approx(1.0)


def test_bad_head_files_and_training_manifests_are_one_clear_error(tmp_path):
    from affectllm.cues.text_head import TextHead, read_head_file
    from affectllm.cues.text_head_training import read_text_examples

    with pytest.raises(AffectLLMError, match=r"text head .*missing\.safetensors does not exist"):
        read_head_file(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
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
