"""The learned voice channel: train-voice-head learns a generated two-class task and scores it on other voices
and sentences, reproducibly; the shipped head reads speech and says "no voice" for silence and a 0.2-s clip;
the torch Whisper encoder gives CTranslate2's output; bad inputs are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from affectllm.cli import main

RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess"
SENTENCES = ("the train leaves at nine", "we walked along the river", "she wrote to her aunt", "the shop opens late")
# Two manners of speaking: low, slow speech is "calm", high, fast speech "angry".
MANNER = {"calm": {"pitch": 15, "rate": 115}, "angry": {"pitch": 90, "rate": 235}}
TRAIN_VOICES, HELD_OUT_VOICE = ("en-us", "en-gb", "en-gb-scotland"), "en-029"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def manifests(tmp_path_factory) -> Path:
    """train.jsonl (3 voices x 2 sentences x 2 manners) and held_out.jsonl (another voice, other sentences)."""
    from affectllm.media.synthetic import speak

    d = tmp_path_factory.mktemp("voices")
    for name, voices, sentences in (("train", TRAIN_VOICES, SENTENCES[:2]), ("held_out", (HELD_OUT_VOICE,), SENTENCES[2:])):
        lines = []
        for voice in voices:
            for i, text in enumerate(sentences):
                for label, manner in MANNER.items():
                    clip = speak(d / f"{voice}_{name}_{i}_{label}.wav", text, voice=voice, **manner)
                    lines.append({"id": clip.stem, "audios": [clip.name], "label": label, "speaker": voice})
        (d / f"{name}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return d


def _train(manifests: Path, out: Path, *extra: str) -> int:
    return main(["train-voice-head", "--train", str(manifests / "train.jsonl"), "--dev",
                 str(manifests / "held_out.jsonl"), "--out", str(out), "--features", "prosody", "--epochs", "40",
                 "--folds", "3", "--quiet", "--licence", "test-only", *extra])


def test_train_voice_head_learns_manner_and_scores_other_voices_reproducibly(manifests, tmp_path, capsys):
    from affectllm.cues.heads.voice_head import VoiceHead
    from affectllm.media.audio import load_audio

    from affectllm.cues.heads.voice_head_training import VoiceTraining, train_head

    first, again = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    assert _train(manifests, first) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dev"]["samples"] == 4 and report["dev"]["ua"] == 1.0, report["dev"]
    assert report["folds"]["samples"] == 12 and report["folds"]["ua"] >= 0.9, report["folds"]
    assert set(report["dev"]["recall"]) == {"calm", "angry"}
    assert _train(manifests, again) == 0
    assert first.read_bytes() == again.read_bytes()  # same data and seed: the same bytes
    x, labels = torch.randn(18, 12, generator=torch.Generator().manual_seed(0)), [1, 4] * 9
    nets = [train_head(x, labels, VoiceTraining(epochs=5, seed=s)) for s in (0, 0, 1)]
    weights = [net.body[1].weight for net in nets]
    assert weights[0].equal(weights[1]) and not weights[0].equal(weights[2])
    head = VoiceHead(first)
    assert head.info["features"] == "prosody" and head.info["licence"] == "test-only"
    assert head.info["training"]["folds"] == 3 and 0.5 <= head.temperature <= 4.0
    reading = head.read(load_audio(manifests / f"{HELD_OUT_VOICE}_held_out_0_angry.wav"))
    assert reading.present and reading.top == "angry" and abs(sum(reading.probs.values()) - 1) < 1e-6


def test_bad_inputs_are_one_line(manifests, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "audios": ["a.wav"], "label": "bored"}) + "\n")
    assert main(["train-voice-head", "--train", str(bad), "--out", str(tmp_path / "h.safetensors")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: \"label\" 'bored' is not one of neutral, calm" in err and len(err.strip().splitlines()) == 1
    bad.write_text(json.dumps({"id": "x", "audios": ["missing.wav"], "label": "sad"}) + "\n")
    assert main(["train-voice-head", "--train", str(bad), "--out", str(tmp_path / "h.safetensors")]) == 2
    assert f"{bad}:1: clip {tmp_path / 'missing.wav'} not found" in capsys.readouterr().err
    assert main(["train-voice-head", "--train", str(manifests / "train.jsonl"), "--out", str(tmp_path / "h.pt")]) == 2
    assert "name the head file *.safetensors" in capsys.readouterr().err
    assert _train(manifests, tmp_path / "h.safetensors", "--folds", "5") == 2
    assert "5 speaker folds need at least 5 speakers; the training manifest has 3" in capsys.readouterr().err
    from affectllm.cues.heads.voice_head import VoiceHead
    from affectllm.core.errors import AffectLLMError

    (tmp_path / "junk.safetensors").write_bytes(b"not a head")
    with pytest.raises(AffectLLMError, match="not a readable safetensors head"):
        VoiceHead(tmp_path / "junk.safetensors")


def test_shipped_head_reads_speech_and_no_voice_in_silence_or_a_short_cut(manifests):
    from affectllm.cues.heads.voice_head import VOICE_CLASSES, default_voice_head
    from affectllm.media.audio import load_audio

    head = default_voice_head()
    assert "CC BY-NC-SA 4.0" in head.info["licence"] and head.info["classes"] == list(VOICE_CLASSES)
    assert head.info["scores"]["dev"]["ua"] >= 0.5 and 0.5 <= head.temperature <= 4.0
    clip = sorted(RAVDESS.glob("Actor_13/03-01-05-02-*.flac"))[:1] or [manifests / "en-us_train_0_angry.wav"]
    speech = load_audio(clip[0])
    reading = head.read(speech)
    assert reading.present and reading.top in VOICE_CLASSES and reading.strength > 0
    assert abs(sum(reading.probs.values()) - 1) < 1e-6 and set(reading.to_dict()) >= {"probs", "top", "note"}
    for audio, note in ((np.zeros(32_000, dtype=np.float32), "no voice (silence)"),
                        (speech[np.argmax(np.abs(speech)) - 1600:][:3200], "too little sound to read a voice")):
        quiet = head.read(audio)
        assert not quiet.present and quiet.top is None and quiet.strength == 0 and quiet.note.startswith(note)
        assert set(quiet.probs.values()) == {1 / len(VOICE_CLASSES)}


def test_torch_whisper_encoder_gives_ctranslate2s_output(manifests):
    import ctranslate2

    from affectllm.cues.extractors.speech import whisper_model
    from affectllm.cues.heads.whisper_layers import log_mel_30s, whisper_layers
    from affectllm.media.audio import load_audio

    mel = log_mel_30s(load_audio(manifests / "en-us_train_0_calm.wav"))
    assert mel.shape == (80, 3000)
    hidden = whisper_layers()(mel[None])
    assert hidden.shape == (5, 1, 1500, 384)
    ours = whisper_layers().final_norm(hidden[-1])[0].numpy()
    theirs = np.array(whisper_model().model.encode(ctranslate2.StorageView.from_array(mel[None].numpy()), to_cpu=True))[0]
    # CTranslate2 runs the weights in int8: close, not equal.
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.995
    assert torch.is_tensor(hidden) and not hidden.requires_grad
