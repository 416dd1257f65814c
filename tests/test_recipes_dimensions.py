"""Dimensional ratings kept on their native scale: MSP-Podcast (1..7), MER (-5..5), CMU-MOSI (-3..3), CH-SIMS (-1..1).

The MSP-Podcast layout follows msplabresearch/MSP-Podcast_Challenge (see data_recipes/msp_podcast.py); the
rows are ours.
"""

import json

import pytest
from recipe_helpers import put, recipe, user_text, write

from affectllm.cli import main
from affectllm.core.dimensions import unit_targets
from affectllm.eval import evaluate

MSP_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
MSP_ROWS = ("MSP-PODCAST_0001_0008.wav,N,2.2,4.0,2.6,30,Male,Development\n"
            "MSP-PODCAST_0001_0009.wav,H,3.777778,6.5,3.777778,39,Male,Development\n"
            "MSP-PODCAST_0001_0011.wav,X,4.125,4.75,4.0,39,Male,Development\n"
            "MSP-PODCAST_0001_0013.wav,A,6.0,1.5,,Unknown,Female,Development\n"
            "MSP-PODCAST_0002_0001.wav,S,9.0,2.0,2.0,12,Female,Development\n"
            "MSP-PODCAST_0002_0002.wav,S,2.0,2.0,2.0,12,Female,Train\n")


def _msp(tmp_path, media):
    root = tmp_path / "MSP-PODCAST-1.11"
    write(root / "Labels" / "labels_consensus.csv", MSP_HEADER + MSP_ROWS)
    for n in ("0001_0008", "0001_0009", "0001_0011", "0001_0013", "0002_0001"):
        put(media["wav"], root / "Audios" / f"MSP-PODCAST_{n}.wav")
    write(root / "Transcripts" / "MSP-PODCAST_0001_0009.txt", "that is  wonderful news\n")
    return root


def test_msp_podcast_keeps_the_1_to_7_ratings(tmp_path, media, capsys):
    root = _msp(tmp_path, media)
    out = tmp_path / "msp_dev.jsonl"
    rc, rows, err = recipe(capsys, "msp-podcast", "--input", root, "--split", "dev", "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["MSP-PODCAST_0001_0008", "MSP-PODCAST_0001_0009",
                                                   "MSP-PODCAST_0001_0013"]
    neutral, happy, angry = rows
    assert neutral["vad"] == {"valence": 4.0, "arousal": 2.2, "dominance": 2.6}
    assert neutral["vad_scale"] == {d: [1.0, 7.0] for d in ("valence", "arousal", "dominance")}
    assert neutral["valence"] == 0.0 and happy["valence"] == pytest.approx(5.5 / 3 - 1, abs=1e-4)
    assert happy["emotions"] == ["happy"] and happy["code"] == "H" and happy["subtitle"] == "that is wonderful news"
    assert user_text(happy).startswith("<audio>") and happy["audios"] == ["MSP-PODCAST-1.11/Audios/MSP-PODCAST_0001_0009.wav"]
    assert angry["vad"] == {"valence": 1.5, "arousal": 6.0} and "dominance" not in angry["vad_scale"]  # not rated
    assert angry["speaker"] == "Unknown" and angry["emotions"] == ["angry"]
    assert "labels_consensus.csv:4: no agreed emotion class (X)" in err
    assert "labels_consensus.csv:6: EmoAct 9 is off the 1..7 rating scale" in err
    assert main(["recipe", "check", str(out), "--no-probe"]) == 0
    capsys.readouterr()
    # what a dimensional head trains on: each rating on [-1, 1], a missing one absent
    assert unit_targets(angry) == {"valence": pytest.approx(-5 / 6), "arousal": pytest.approx(2 / 3)}


def test_msp_podcast_manifest_is_the_gold_of_eval_vad(tmp_path, media, capsys):
    root = _msp(tmp_path, media)
    out = tmp_path / "msp.jsonl"
    rc, rows, _ = recipe(capsys, "msp-podcast", "--input", root, "--split", "dev", "--out", out)
    assert rc == 0
    # a head predicting on [-1, 1]: arousal -0.8, 0.0, 1.0 -> 1.6, 4.0, 7.0 on the 1..7 scale (gold 2.2, 3.78, 6.0)
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps({"id": r["id"], "vad": {"arousal": a}}) + "\n"
                            for r, a in zip(rows, (-0.8, 0.0, 1.0))))
    assert main(["eval", "vad", "--pred", str(pred), "--gold", str(out), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["mae"]["arousal"] == pytest.approx((0.6 + (4 - 3.777778) + 1.0) / 3)
    assert scores["scale"]["arousal"] == [1.0, 7.0] and scores["n"]["arousal"] == 3
    g, p = [2.2, 3.777778, 6.0], [1.6, 4.0, 7.0]
    mg, mp = sum(g) / 3, sum(p) / 3
    vg, vp = sum((x - mg) ** 2 for x in g) / 3, sum((x - mp) ** 2 for x in p) / 3
    cov = sum((x - mg) * (y - mp) for x, y in zip(g, p)) / 3
    assert scores["ccc"]["arousal"] == pytest.approx(2 * cov / (vg + vp + (mg - mp) ** 2))
    # valence: no prediction has one, so the lexicon valence of the (absent) emotion words stands in
    assert scores["source"]["valence"] == {"lexicon": 3}


def test_mer_and_mmsa_keep_the_rating_and_its_scale(tmp_path, media, capsys):
    mer = tmp_path / "mer2025"
    write(mer / "track1_train_disdim.csv", "name,discrete,valence\nsample_1,sad,-3.4\nsample_2,happy,-10\n")
    for n in ("sample_1", "sample_2"):
        put(media["mp4"], mer / "video" / f"{n}.mp4")
    rc, rows, _ = recipe(capsys, "mer2025", "--input", mer, "--out", tmp_path / "mer.jsonl")
    assert rc == 0 and rows[0]["vad"] == {"valence": -3.4} and rows[0]["vad_scale"] == {"valence": [-5.0, 5.0]}
    assert rows[0]["valence"] == -0.68 and "vad" not in rows[1] and rows[1]["valence"] is None  # -10: not rated

    mosi = tmp_path / "CMU-MOSI"
    write(mosi / "label.csv", "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
          "vid,1,great,2.4,,,,Positive,test\n")
    put(media["mp4"], mosi / "Raw" / "vid" / "1.mp4")
    rc, rows, _ = recipe(capsys, "cmu-mosi", "--input", mosi, "--out", tmp_path / "mosi.jsonl")
    assert rows[0]["vad"] == {"valence": 2.4} and rows[0]["vad_scale"] == {"valence": [-3.0, 3.0]}
    assert rows[0]["valence"] == 0.8  # eval sentiment reads this one, as before

    sims = tmp_path / "CH-SIMS"
    write(sims / "label.csv", "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
          "v,0001,好,-0.6,-0.8,-0.4,-0.2,Negative,train\n")
    put(media["mp4"], sims / "Raw" / "v" / "0001.mp4")
    rc, rows, _ = recipe(capsys, "ch-sims", "--input", sims, "--out", tmp_path / "sims.jsonl")
    assert rows[0]["vad"] == {"valence": -0.6} and rows[0]["vad_scale"] == {"valence": [-1.0, 1.0]}
    gold = {r["id"]: r for r in rows}
    assert evaluate("sentiment", gold, {rows[0]["id"]: {"id": rows[0]["id"], "sentiment": "negative"}}).scores["acc"] == 1.0
