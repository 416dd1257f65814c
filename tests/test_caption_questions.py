"""What a checkpoint is asked: a manifest entry's own question (RECCON dialogue, subtitle), and the transcript
of a clip without a subtitle (faster-whisper on the bundled tiny.en)."""

import json

import pytest

from affectllm.caption import collect_inputs
from affectllm.caption.checkpoint_backend import CheckpointBackend
from affectllm.caption.inputs import Hearing
from affectllm.cli import main
from affectllm.media.synthetic import speak

RECCON = {"tr_1": [[
    {"turn": 1, "speaker": "A", "utterance": "They finally sold the old house .", "emotion": "neutral"},
    {"turn": 2, "speaker": "B", "utterance": "I can't believe it !", "emotion": "surprise",
     "expanded emotion cause evidence": [1], "expanded emotion cause span": ["They finally sold the old house ."],
     "type": ["inter-personal"]}]]}
SAID = "I am so happy today, this is wonderful."


def _prompt_text(backend, item) -> str:
    """The prompt as the model receives it: prepared and collated by the caption engine's own preparer."""
    preparer = backend.preparer()
    batch = preparer.finish(preparer.collate([preparer.prepare(item)]))
    return backend.model.tokenizer.decode(batch["input_ids"][0], skip_special_tokens=False)


@pytest.fixture(scope="module")
def reccon_manifest(tmp_path_factory):
    root = tmp_path_factory.mktemp("reccon")
    (root / "ann").mkdir()
    (root / "ann" / "dailydialog_test.json").write_text(json.dumps(RECCON))
    out = root / "reccon.jsonl"
    assert main(["recipe", "reccon", "--input", str(root / "ann"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def quiet_backend(tiny_checkpoint):
    return CheckpointBackend.open(tiny_checkpoint, max_new_tokens=6, hearing=Hearing(asr=False))


def test_a_manifest_entry_asks_its_own_question(reccon_manifest, quiet_backend, tiny_checkpoint, tmp_path):
    (item,) = collect_inputs([str(reccon_manifest)])
    text = _prompt_text(quiet_backend, item)
    # the recipe's dialogue history and cause question reach the model, with the target utterance as subtitle
    assert "(1) A: They finally sold the old house ." in text
    assert "Which part of the conversation caused the emotion" in text
    assert 'Subtitle: "I can\'t believe it !"' in text
    # not the checkpoint's generic question, and never the reference answer
    assert "What is the person in the clip feeling" not in text and "Cause spans:\n-" not in text
    # --prompt asks every input the named template's question instead
    override = CheckpointBackend(quiet_backend.model, prompt="emer", hearing=Hearing(asr=False))
    text = _prompt_text(override, item)
    assert "What is the person in the clip feeling" in text and "(1) A:" not in text
    # end to end: the answer is parsed with the entry's own template (emotion_cause)
    out = tmp_path / "o.jsonl"
    assert main(["caption", str(reccon_manifest), "--model", str(tiny_checkpoint), "--out", str(out),
                 "--max-new-tokens", "6", "--workers", "0", "--quiet"]) == 0
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert rec["id"] == item.id and rec["error"] is None and "transcript" not in rec  # it has a subtitle
    assert rec.get("parse_error") in (None, "no emotion list could be read from the emotion_cause answer")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    return speak(tmp_path_factory.mktemp("speech") / "said.wav", SAID, rate=150)


def test_a_clip_without_subtitle_is_transcribed_for_the_model(tiny_checkpoint, spoken, tmp_path):
    wav = spoken
    out = tmp_path / "o.jsonl"
    # one decoding worker: the transcript is made in the main process (faster-whisper hangs in a forked worker)
    argv = ["caption", str(wav), "--model", str(tiny_checkpoint), "--out", str(out), "--max-new-tokens", "4",
            "--workers", "1", "--quiet"]
    assert main(argv) == 0
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert rec["error"] is None and "happy today" in rec["transcript"].lower()
    backend = CheckpointBackend.open(tiny_checkpoint, max_new_tokens=4)
    (item,) = collect_inputs([str(wav)])
    assert f'Subtitle: "{rec["transcript"]}"' in _prompt_text(backend, item)
    # a given subtitle wins, and --no-asr leaves the input without one
    (with_subtitle,) = collect_inputs([str(wav)])
    with_subtitle.subtitle = "Typed words."
    text = _prompt_text(backend, with_subtitle)
    assert 'Subtitle: "Typed words."' in text and "happy" not in text.lower()
    assert main([*argv, "--overwrite", "--no-asr"]) == 0
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert rec["error"] is None and "transcript" not in rec


def test_the_demo_feeds_a_checkpoint_the_transcript(tiny_checkpoint, spoken):
    from affectllm.demo.engine import DemoEngine

    engine = DemoEngine(str(tiny_checkpoint))
    rec = engine.analyze(media_path=str(spoken), kind="audio").record
    assert rec.error is None and "happy today" in rec.extra["transcript"].lower()
    assert rec.extra["transcript"] == rec.cues["speech"]["text"]  # one ASR pass: the evidence view's transcript
    rec = engine.analyze(media_path=str(spoken), subtitle="Typed words.", kind="audio").record
    assert rec.error is None and "transcript" not in rec.extra


@pytest.mark.parametrize("drop, tags, files, heard", [
    ("audio", "<video>", (["v"], []), ["video", "text"]),  # seen without its sound, words still read
    ("video", "<audio>", ([], ["v"]), ["audio", "text"]),  # its sound heard without the frames
    ("text", "<video><audio>", (["v"], None), ["audio", "video"]),  # no subtitle, and no transcript instead
])
def test_drop_asks_a_checkpoint_exactly_a_sample_without_the_modality(tiny_checkpoint, media_files, tmp_path,
                                                                     drop, tags, files, heard):
    manifest = tmp_path / "m.jsonl"
    clip = str(media_files["av"])
    manifest.write_text(json.dumps({"id": "s", "videos": [clip], "subtitle": "fine, whatever",
                                    "messages": [{"role": "user", "content": "<video><audio>How do they feel?"}]}) + "\n")
    backend = CheckpointBackend.open(tiny_checkpoint, hearing=Hearing(drop=frozenset([drop])))
    item = collect_inputs([str(manifest)])[0]
    sample = backend.preparer().sample_for(item)
    assert sample["messages"][0]["content"] == f"{tags}How do they feel?"
    videos, audios = files
    assert sample["videos"] == [clip if v == "v" else v for v in videos]
    assert sample.get("audios") == (None if audios is None else [clip if a == "v" else a for a in audios])
    assert sorted(backend.preparer().prepare(item).media) == sorted(heard)
    assert backend.name.endswith(f"(without {drop})")
