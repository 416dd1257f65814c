"""The cue path end to end: real face clip + generated speech -> a result record with cited evidence."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from affectllm.emotions import default_vocabulary
from affectllm.media.synthetic import MEGAMIND_CLIP, speak, write_face_clip, write_tone_clip

SAID = "I can't believe we finally won the game. This is the best day of my life, I am so happy."
ANGRY = "I hate this. You lied to me again and again, and I am furious with you!"
SAD = "I miss her so much. Everything feels empty since she left."

# The words must decide against a face that reads no strong emotion: the film clip's, not the smiling photograph's.
needs_film_face = pytest.mark.skipif(not MEGAMIND_CLIP.exists(), reason="opencv-doc's Megamind.avi is not installed")


@pytest.fixture(scope="module")
def fusion_backend():
    from affectllm.cues.backend import CueBackend

    return CueBackend(num_frames=6)  # the default: no LLM


@pytest.fixture(scope="module")
def media(tmp_path_factory, face_clip):
    d = tmp_path_factory.mktemp("cue_media")
    out = {"speech": speak(d / "said.wav", SAID, rate=160), "no_face": write_tone_clip(d / "red.mp4", 220.0)}
    out["face_speech"] = face_clip(d / "face_speech.mp4", speech_text=SAID, seconds=7.0)
    silent = d / "face_silent.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(out["face_speech"]), "-an",
                    "-c:v", "copy", str(silent)], check=True)
    out["face_silent"] = silent
    if MEGAMIND_CLIP.exists():  # the same film face under both: only the words and the voice differ
        out["angry"] = write_face_clip(d / "angry.mp4", speech_text=ANGRY, seconds=6.0, pitch=70, rate=190)
        out["sad"] = write_face_clip(d / "sad.mp4", speech_text=SAD, seconds=7.0, pitch=25, rate=110)
    return out


@needs_film_face
def test_angry_and_sad_words_over_the_same_face_come_out_in_their_family(fusion_backend, media):
    vocab = default_vocabulary()
    for name, family in (("angry", "anger"), ("sad", "sadness")):
        rec = fusion_backend.caption(str(media[name]), name)
        assert rec.error is None and rec.cues["face"]["present"], rec.error
        assert vocab.family(rec.emotions[0]) == family, (name, rec.emotions, rec.explanation)
        assert rec.model == "cue-fusion" and rec.extra["answered_by"] == "cue-fusion"
        evidence = rec.explanation.split("Evidence: ")[1].split(" Disagreeing:")[0]
        assert "(text model p=" in evidence  # the words carry it, and are cited as support
        assert rec.extra["sentiment"] == "negative" and rec.extra["valence"] < 0
        timings = rec.cues["timings_s"]
        assert {"decode", "face", "speech", "voice", "text", "fusion", "total"} <= set(timings)


def test_caption_with_the_bundled_llm_cites_concrete_cues(media, monkeypatch):
    from affectllm.cues.backend import CueBackend

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # Few new tokens keep the test short; the LLM path (load, prompt, generate, parse, validate) still runs.
    backend = CueBackend(llm="smollm2", num_frames=6, max_new_tokens=16)
    rec = backend.caption(str(media["face_speech"]), "fs")
    d = json.loads(rec.to_json())
    assert d["error"] is None and d["emotions"]
    vocab = default_vocabulary()
    assert all(vocab.normalize(e) == e for e in d["emotions"])
    assert d["answered_by"] in ("llm", "cue-fusion") and d["llm_raw"].startswith("Visual clues:")
    # The record names what answered: the LLM, or the rule when the LLM's answer was rejected.
    assert d["model"] == ("SmolLM2-135M-Instruct" if d["answered_by"] == "llm" else "cue-fusion")
    assert backend.model_name == "SmolLM2-135M-Instruct over cues (cue-fusion fallback)"
    assert d["cues"]["timings_s"]["llm"] == d["llm_seconds"]
    if d["answered_by"] == "cue-fusion":
        assert d["llm_rejected"]
        # Evidence from the face and the words, with numbers and a quoted phrase.
        assert "the face reads" in d["explanation"]
        assert '"' in d["explanation"] and "(text model p=" in d["explanation"]
        assert "happy" in d["emotions"]
        assert all(d["reasoning"][k] for k in ("observations", "interpretation", "conclusion"))
    cues = d["cues"]
    assert cues["face"]["present"] and len(cues["face"]["track"]) == 6
    assert "best day" in cues["speech"]["text"].lower() and cues["speech"]["words"][0]["start"] < 0.5
    assert cues["voice"]["present"] and len(cues["voice"]["times"]) == len(cues["voice"]["pitch_hz"])
    assert cues["text"]["source"] == "transcript" and cues["text"]["vader"]["compound"] > 0.5


def test_video_without_audio_uses_the_face_only(fusion_backend, media):
    rec = fusion_backend.caption(str(media["face_silent"]), "silent")
    assert rec.error is None and rec.emotions
    assert rec.cues["has_audio"] is False and rec.cues["voice"] == {"present": False, "summary": "no audio"}
    assert rec.cues["face"]["present"] and rec.extra["answered_by"] == "cue-fusion"
    assert "the face reads" in rec.explanation and "Acoustic clues" not in rec.reasoning["observations"]
    assert [c["channel"] for c in rec.extra["cue_channels"]][0] == "face"


def test_no_face_clip_and_audio_only_file(fusion_backend, media):
    rec = fusion_backend.caption(str(media["no_face"]), "red")
    assert rec.error is None and rec.emotions
    assert rec.cues["face"]["summary"] == "no face found in 6 sampled frames"
    assert "pitch median 220 Hz" in rec.cues["voice"]["summary"]

    rec = fusion_backend.caption(str(media["speech"]), "said", subtitle="We lost. I hate this, it is awful.")
    assert rec.cues["has_video"] is False and rec.cues["face"]["summary"] == "no video"
    # The given subtitle, not the (happy) transcript, is what the words cue reads.
    assert rec.cues["text"]["source"] == "subtitle" and rec.cues["text"]["vader"]["compound"] < -0.5
    assert rec.extra["valence"] < 0
    assert all(default_vocabulary().valence(e) < 0 for e in rec.emotions)


def test_bad_media_gives_a_failed_record(fusion_backend, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n")
    rec = fusion_backend.caption(str(bad), "bad")
    assert rec.emotions == [] and rec.error and "notes.mp4" in rec.error


def test_validation_rejects_loops_uncited_and_contradicting_answers():
    from affectllm.cues.evidence.weigh import FusedAnswer
    from affectllm.cues.reasoner import validate
    from affectllm.reasoning import parse_output

    cues = {"has_video": True, "has_audio": False, "text": {"present": False, "hits": []}, "voice": {},
            "face": {"present": True, "summary": "expression model reads happy (mean p=0.93); lip corners raised "
                                                 "(AU12, intensity 0.8)"}}
    positive = FusedAnswer(emotions=["happy"], valence=0.6, arousal=0.0, scores={})
    good = parse_output("emer", "Visual clues: lip corners raised, AU12 at 0.8.\nReasoning: a smile.\n"
                                "Conclusion: pleased.\nEmotions: happy, joyful")
    assert validate(good, cues, positive) == (["happy", "joyful"], None)
    uncited = parse_output("emer", "Visual clues: a face.\nReasoning: it looks fine.\nEmotions: happy")
    assert validate(uncited, cues, positive)[1] == "the reasoning quotes no concrete cue"
    sad = parse_output("emer", "Visual clues: AU12 at 0.8.\nReasoning: hm.\nEmotions: sad, miserable")
    assert "contradict" in validate(sad, cues, positive)[1]
    looping = parse_output("emer", "Reasoning: The state is based on the clues of AU12. "
                                   "The state is based on the clues of AU12.\nEmotions: happy")
    assert validate(looping, cues, positive)[1] == "the answer repeats itself"
    unfinished = parse_output("emer", "Visual clues: the expression model reads neutral, AU12 at 0.8, and the")
    assert validate(unfinished, cues, positive)[1] == "the answer never states its emotion list"
    none = parse_output("emer", "Emotions: blorp")
    assert validate(none, cues, positive) == ([], "no emotion word of the vocabulary in the answer")


def test_autocaption_recipe_writes_resumable_manifest(media, tmp_path, capsys):
    from affectllm.cli import main

    out = tmp_path / "auto.jsonl"
    argv = ["recipe", "autocaption", str(media["no_face"]), str(media["speech"]), "--out", str(out),
            "--llm", "none", "--num-frames", "4"]
    assert main(argv) == 0
    samples = [json.loads(line) for line in out.read_text().splitlines()]
    assert [s["id"] for s in samples] == ["red", "said"]
    assert samples[0]["messages"][0]["content"].startswith("<video><audio>")  # a clip with sound: its own track
    said = samples[1]
    assert said["audios"] == [os.path.relpath(media["speech"], tmp_path)] and said["videos"] == [] and said["emotions"]
    assert said["messages"][0]["content"].startswith("<audio>")
    target = said["messages"][1]["content"]
    assert target.startswith("Visual clues:") and "Lexical clues: says" in target
    assert target.endswith("Emotions: " + ", ".join(said["emotions"]))
    assert "best day" in said["subtitle"].lower()
    assert main(argv) == 0 and len(out.read_text().splitlines()) == 2  # resumed: nothing new
    assert "2 already there" in capsys.readouterr().out


def test_llm_is_opt_in_and_none_is_accepted_everywhere(media, tmp_path, capsys):
    from affectllm.cli import build_parser, main
    from affectllm.cues.backend import CueBackend

    assert CueBackend().reasoner.llm_spec is None and CueBackend(llm="none").reasoner.llm_spec is None
    for argv in (["caption", "x.mp4", "--out", "o.jsonl", "--llm", "none"], ["demo", "--llm", "none"],
                 ["recipe", "autocaption", "x.mp4", "--out", "o.jsonl", "--llm", "none"]):
        assert build_parser().parse_args(argv).llm == "none"
    out = tmp_path / "o.jsonl"
    assert main(["caption", str(media["speech"]), "--out", str(out), "--llm", "none", "--workers", "0",
                 "--quiet"]) == 0
    rec = json.loads(out.read_text())
    assert rec["model"] == "cue-fusion" and "llm_raw" not in rec
    capsys.readouterr()
    missing = tmp_path / "no-such-model"
    assert main(["caption", str(media["speech"]), "--out", str(tmp_path / "p.jsonl"), "--llm", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--llm {missing} is not a folder; point it at a downloaded instruct model" in err[0]
    missing.mkdir()  # a folder, but no model in it
    assert main(["caption", str(media["speech"]), "--out", str(tmp_path / "p.jsonl"), "--llm", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--llm {missing}: not a local transformers model folder (no config.json)" in err[0]


def test_drop_leaves_a_modality_out_and_says_so(media, tmp_path, capsys):
    """`caption --drop`: each left-out cue says so, the others read as before (the channel ablations)."""
    from affectllm.cli import main

    out = tmp_path / "o.jsonl"
    runs = {}
    for drop in ("", "video", "audio", "text", "video,text"):
        rc = main(["caption", str(media["face_speech"]), "--out", str(out), "--overwrite", "--quiet",
                   "--workers", "0", *(["--drop", drop] if drop else [])])
        assert rc == 0
        runs[drop] = json.loads(out.read_text())
    full = runs[""]["cues"]
    assert full["face"]["present"] and full["text"]["present"] and full["voice"]["present"]
    assert runs["video"]["cues"]["face"] == {"present": False, "left_out": True, "summary": "left out (--drop video)"}
    assert runs["video"]["cues"]["text"]["text"] == full["text"]["text"]
    assert not runs["audio"]["cues"]["voice"]["present"] and not runs["audio"]["cues"]["text"]["present"]
    assert runs["text"]["cues"]["text"]["left_out"] and runs["text"]["cues"]["speech"]["text"] == full["speech"]["text"]
    assert runs["text"]["emotions"][0] == "happy"  # the smiling face leads; the voice may add its reading
    assert not any(ch["channel"] in ("face", "geometry", "text", "said") for ch in runs["video,text"]["cue_channels"])
    assert main(["caption", str(media["face_speech"]), "--out", str(out), "--drop", "smell"]) == 2
    assert "--drop smell: not a modality; choose from video, audio, text" in capsys.readouterr().err


def test_a_tone_is_sound_without_speech_not_a_voice(fusion_backend, media):
    """A pure tone is pitched 100 % of the time: that is not a voice, and nothing is said to have been "voiced"."""
    rec = fusion_backend.caption(str(media["no_face"]), id="tone")
    assert rec.emotions == ["neutral"] and not any(ch["channel"] == "voice" for ch in rec.extra["cue_channels"])
    assert rec.explanation.endswith("Nothing to read: no face was found and the sound holds no recognisable speech.")
    acoustic = rec.reasoning["observations"].split("Acoustic clues: ")[1].splitlines()[0]
    assert acoustic.startswith("sound without recognisable speech (pitch median 220 Hz") and "voiced" not in acoustic
