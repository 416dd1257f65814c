"""The cue path rates valence and arousal where its evidence reads them, and its records feed `eval vad`."""

from __future__ import annotations

import json

import pytest

from affectllm.cli import main
from affectllm.cues.evidence.weigh import fuse
from affectllm.media.synthetic import write_tone_clip

# slow (-0.3) + falling pitch (-0.2) + falling loudness (-0.25): arousal -0.75 by the prosody rules
SLOW_VOICE = {"present": True, "speaking_rate_wps": 1.9, "pitch_range_semitones": 5.0, "pitch_slope_st_per_s": -0.8,
              "loudness_change_db": -8.0, "pause_share": 0.1}


def _cues(said: str | None = None, voice: dict | None = None) -> dict:
    text = {"present": True, "source": "subtitle", "text": said, "hits": [], "nrc_counts": {},
            "vader": {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 1.0}, "summary": ""} if said else {"present": False}
    return {"has_video": False, "has_audio": voice is not None, "text": text, "face": {"present": False},
            "voice": voice or {"present": False}}


def test_fusion_rates_only_what_a_channel_reads():
    assert fuse(_cues()).vad == {}  # no evidence: no rating, not a neutral 0
    said = fuse(_cues("I am so sad."))  # the word said outright reads negative with weight 1
    assert said.vad == {"valence": -1.0}
    both = fuse(_cues("I am so sad.", SLOW_VOICE))
    assert both.vad == {"valence": -1.0, "arousal": pytest.approx(-0.75)} and "dominance" not in both.vad
    assert fuse(_cues(voice=SLOW_VOICE)).vad == {"arousal": pytest.approx(-0.75)}  # the voice says no polarity


def test_cue_record_carries_vad_and_eval_reads_it(tmp_path, capsys):
    from affectllm.cues.backend import CueBackend

    clip = write_tone_clip(tmp_path / "tone.mp4", 220.0)
    rec = CueBackend(num_frames=4).caption(str(clip), "a", subtitle="I am so sad.")
    assert rec.error is None and rec.vad["valence"] < 0 and set(rec.vad) <= {"valence", "arousal"}
    line = rec.to_dict()
    assert line["vad"] == rec.vad and "vad" not in type(rec)(id="b").to_dict()  # written only when rated
    pred, gold = tmp_path / "pred.jsonl", tmp_path / "gold.jsonl"
    pred.write_text(json.dumps(line) + "\n" + json.dumps({"id": "b", "vad": {"valence": 0.5}}) + "\n")
    gold.write_text(json.dumps({"id": "a", "vad": {"valence": 2.0}, "vad_scale": {"valence": [1, 5]}}) + "\n" +
                    json.dumps({"id": "b", "vad": {"valence": 4.0}, "vad_scale": {"valence": [1, 5]}}) + "\n")
    assert main(["eval", "vad", "--pred", str(pred), "--gold", str(gold), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    # on 1..5: a -> 3 + 2 * valence, b -> 4.0 (exact)
    assert scores["mae"]["valence"] == pytest.approx(abs(2.0 - (3 + 2 * rec.vad["valence"])) / 2)
    assert scores["source"]["valence"] == {"vad": 2}
