"""MELD, IEMOCAP, CMU-MOSI/MOSEI, CH-SIMS (v2), RECCON and AvaMERG in the layouts their authors publish.

Layouts from declare-lab/MELD (data/MELD/*_sent_emo.csv), the IEMOCAP release (EmoEvaluation
summary lines), thuiar/MMSA label files, declare-lab/RECCON (data/original_annotation/*.json) and
the AvaMERG reader; see each converter's docstring for files and commits.
"""

import json

import pytest
from recipe_helpers import assert_media_resolve, put, recipe, target, user_text, write

from affectllm.reasoning import parse_output

# ---------------------------------------------------------------- MELD

MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"


def test_meld(tmp_path, media, capsys):
    root = tmp_path / "MELD.Raw"
    write(root / "test_sent_emo.csv", MELD_HEADER +
          "1,Oh my God!,Rachel,surprise,positive,0,0,3,19,\"00:14:38,127\",\"00:14:40,378\"\n"
          "2,I hate this.,Ross,anger,negative,0,1,3,19,\"00:14:41,000\",\"00:14:42,000\"\n"
          "3,Whatever.,Joey,bored,neutral,0,2,3,19,\"00:14:43,000\",\"00:14:44,000\"\n"
          "4,Hmm.,Joey,neutral,neutral,1,0,3,19,\"00:14:45,000\",\"00:14:46,000\"\n")
    for stem in ("dia0_utt0", "dia0_utt1", "dia0_utt2"):
        put(media["mp4"], root / "output_repeated_splits_test" / f"{stem}.mp4")
    out = tmp_path / "meld.jsonl"
    rc, rows, err = recipe(capsys, "meld", "--input", root, "--out", out, "--split", "test")
    assert rc == 0 and [r["id"] for r in rows] == ["meld_test_dia0_utt0", "meld_test_dia0_utt1"]
    assert rows[0]["emotions"] == ["surprised"] and rows[0]["sentiment"] == "positive" and rows[0]["valence"] == 0.1
    assert rows[1]["emotions"] == ["angry"] and rows[1]["valence"] == -0.7 and rows[1]["subtitle"] == "I hate this."
    assert "test_sent_emo.csv:4: unknown Emotion 'bored'" in err
    assert "test_sent_emo.csv:5: clip 'dia1_utt0' not found" in err
    assert_media_resolve(out, rows)
    rc, _, err = recipe(capsys, "meld", "--input", root, "--out", out, "--split", "train")
    assert rc == 2 and "train_sent_emo.csv: MELD train label file not found" in err


def test_meld_text_only_needs_no_clips(tmp_path, capsys):
    root = tmp_path / "meld"
    write(root / "dev_sent_emo.csv", MELD_HEADER +
          "1,\"Oh my God, he\u2019s lost it.\",Phoebe,sadness,negative,0,0,4,7,\"00:20:57,256\",\"00:21:00,049\"\n"
          "2,What?,Monica,surprise,negative,0,1,4,7,\"00:21:01,927\",\"00:21:03,261\"\n")
    out = tmp_path / "dev.jsonl"
    rc, rows, err = recipe(capsys, "meld", "--input", root, "--out", out, "--split", "dev", "--text-only")
    assert rc == 0 and [r["id"] for r in rows] == ["meld_dev_dia0_utt0", "meld_dev_dia0_utt1"], err
    assert rows[0]["subtitle"] == "Oh my God, he\u2019s lost it." and rows[0]["label"] == "sadness"
    assert all(r["videos"] == [] and r["audios"] == [] for r in rows)
    assert not any(tag in user_text(r) for r in rows for tag in ("<video>", "<audio>"))
    rc, _, err = recipe(capsys, "meld", "--input", root, "--out", tmp_path / "v.jsonl", "--split", "dev")
    assert rc == 1 and "clip 'dia0_utt0' not found" in err


def test_meld_manifest_loads_in_the_data_pipeline(tmp_path, media, capsys):
    from affectllm.model import processor
    from affectllm.config.schema import MediaSettings
    from affectllm.model.conversation import expand_user_content

    root = tmp_path / "MELD.Raw"
    write(root / "dev_sent_emo.csv", MELD_HEADER + "1,Yes!,Monica,joy,positive,3,1,1,1,a,b\n")
    put(media["mp4"], root / "dev" / "dev_splits_complete" / "dia3_utt1.mp4")
    out = tmp_path / "m" / "meld_dev.jsonl"
    rc, rows, _ = recipe(capsys, "meld", "--input", root, "--out", out, "--split", "dev")
    assert rc == 0
    clip = processor.sample_clip(rows[0], out.parent, MediaSettings(num_frames=2, max_side=32))
    assert clip is not None
    text = expand_user_content(user_text(rows[0]), ["video"], {"video": 2, "audio": 2, "text": 1}, rows[0]["subtitle"])
    assert text.startswith("<|affect_video|><|affect_video|>Subtitle: \"Yes!\"")


# ---------------------------------------------------------------- IEMOCAP

EMO_EVALUATION = (
    "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
    "[6.2901 - 8.2357]\tSes01F_impro05_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
    "C-E2:\tNeutral;\t()\nC-E3:\tNeutral;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n"
    "[10.0100 - 11.3925]\tSes01F_impro05_F001\texc\t[4.0000, 3.5000, 3.0000]\n"
    "C-E2:\tExcited;\t()\n\n"
    "[14.8872 - 18.0175]\tSes01F_impro05_M001\tfru\t[2.0000, 3.5000, 3.5000]\n\n"
    "[19.0000 - 20.0000]\tSes01F_impro05_M002\txxx\t[2.0000, 3.0000, 3.0000]\n"
    "C-E1:\tFrustration;\t()\nC-E3:\tAnger;\t()\n\n"
    "[21.0000 - 22.0000]\tSes01F_impro05_M003\toth\t[3.0000, 3.0000, 3.0000]\n\n"
    "[23.0000 - 24.0000]\tSes01F_impro05_M004\tzzz\t[2.0000, 3.5000, 3.5000]\n\n"
    "[140.2250 - 145.6000]\tSes01F_impro05_F019\tsad\t[1.5000, 2.0000, 2.0000]\n")


def test_iemocap_reports_no_majority_and_folds_excited(tmp_path, media, capsys):
    root = tmp_path / "IEMOCAP_full_release"
    s1 = root / "Session1"
    path = write(s1 / "dialog" / "EmoEvaluation" / "Ses01F_impro05.txt", EMO_EVALUATION)
    lines = {line.split("\t")[1]: i + 1 for i, line in enumerate(EMO_EVALUATION.splitlines()) if line.startswith("[")}
    write(s1 / "dialog" / "transcriptions" / "Ses01F_impro05.txt",
          "Ses01F_impro05_F000 [006.2901-008.2357]: Excuse me.\nSes01F_impro05_F001 [010.0100-011.3925]: Yes!\n")
    for utt in ("F000", "F001", "M001", "M002", "M003", "M004"):
        put(media["wav"], s1 / "sentences" / "wav" / "Ses01F_impro05" / f"Ses01F_impro05_{utt}.wav")
    out = tmp_path / "iemocap.jsonl"
    rc, rows, err = recipe(capsys, "iemocap", "--input", root, "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["Ses01F_impro05_F000", "Ses01F_impro05_F001"]
    happy = rows[1]
    assert happy["emotions"] == ["happy"] and happy["label"] == "happy" and happy["code"] == "exc"
    assert happy["valence"] == 0.5 and happy["subtitle"] == "Yes!" and happy["videos"] == []
    assert user_text(rows[0]).startswith("<audio>")
    where = f"{path}:"
    assert f"left out {where}{lines['Ses01F_impro05_M002']}: no majority label (xxx)" in err
    assert f"left out {where}{lines['Ses01F_impro05_M001']}: class 'fru' is outside --classes 4" in err
    assert f"left out {where}{lines['Ses01F_impro05_M003']}: label 'oth' (other) names no emotion" in err
    assert f"skipped {where}{lines['Ses01F_impro05_M004']}: unknown label code 'zzz'" in err
    assert f"skipped {where}{lines['Ses01F_impro05_F019']}: clip" in err and "Ses01F_impro05_F019.wav not found" in err
    assert "(2 rows skipped, 3 left out:" in err
    rc, rows, err = recipe(capsys, "iemocap", "--input", root, "--out", out, "--classes", "all")
    assert [(r["emotions"], r["code"]) for r in rows] == [(["neutral"], "neu"), (["excited"], "exc"),
                                                          (["frustrated"], "fru")]
    assert "(2 rows skipped, 2 left out:" in err


# ---------------------------------------------------------------- CMU-MOSI / MOSEI / CH-SIMS / SIMS v2

def test_mmsa_detects_the_corpus_from_columns_and_scores(tmp_path, media, capsys):
    mosi = tmp_path / "CMU-MOSI"
    write(mosi / "label.csv", "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
          "_dI--eQ6qVU,1,i loved it,2.4,,,,Positive,test\n"
          "_dI--eQ6qVU,2,it was bad,-1.5,,,,Negative,test\n"
          "_dI--eQ6qVU,3,meh,0.0,,,,Neutral,train\n"
          "_dI--eQ6qVU,4,what,9.0,,,,Positive,test\n")
    for c in ("1", "2", "4"):
        put(media["mp4"], mosi / "Raw" / "_dI--eQ6qVU" / f"{c}.mp4")
    rc, rows, err = recipe(capsys, "mmsa", "--input", mosi, "--out", tmp_path / "mosi.jsonl", "--split", "test")
    assert rc == 0 and [r["id"] for r in rows] == ["mosi__dI--eQ6qVU_1", "mosi__dI--eQ6qVU_2"]
    assert "read as CMU-MOSI" in err
    assert rows[0]["valence"] == 0.8 and rows[0]["sentiment"] == "positive" and rows[0]["emotions"] == ["positive"]
    assert rows[1]["valence"] == -0.5 and rows[1]["dataset"] == "mosi"
    assert "label.csv:5: label 9.0 outside [-3, 3] for CMU-MOSI" in err
    rc, rows, err = recipe(capsys, "cmu-mosei", "--input", mosi, "--out", tmp_path / "o.jsonl", "--split", "test")
    assert rows[0]["dataset"] == "mosei" and "read as" not in err  # the alias names the corpus

    mosei = tmp_path / "CMU-MOSEI"
    write(mosei / "label.csv", "video_id,clip_id,text,label,annotation,mode,label_T,label_A,label_V\n"
          "-3g5yACwYnA,10,so happy with it,1.6667,Positive,valid,,,\n")
    put(media["mp4"], mosei / "Raw" / "-3g5yACwYnA" / "10.mp4")
    rc, rows, err = recipe(capsys, "mmsa", "--input", mosei, "--out", tmp_path / "mosei.jsonl")
    assert rc == 0 and "read as CMU-MOSEI" in err and rows[0]["split"] == "valid"
    assert rows[0]["valence"] == pytest.approx(1.6667 / 3, abs=1e-4)

    sims = tmp_path / "CH-SIMS"
    write(sims / "label.csv", "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
          "video_0001,0001,我很好,0.6,0.8,0.4,0.2,Positive,train\n")
    put(media["mp4"], sims / "Raw" / "video_0001" / "0001.mp4")
    rc, rows, err = recipe(capsys, "mmsa", "--input", sims, "--out", tmp_path / "sims.jsonl")
    assert rc == 0 and "read as CH-SIMS (unimodal" in err
    assert rows[0]["valence"] == 0.6 and rows[0]["unimodal_valence"] == {"T": 0.8, "A": 0.4, "V": 0.2}

    v2 = tmp_path / "CH-SIMS v2(s)"
    write(v2 / "meta.csv", "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
          "aqgy3_0001,00000,还不错,-0.4,-0.2,-0.6,-0.4,Negative,test\n")
    put(media["mp4"], v2 / "Raw" / "aqgy3_0001" / "00000.mp4")
    rc, rows, err = recipe(capsys, "mmsa", "--input", v2, "--out", tmp_path / "v2.jsonl")
    assert rc == 0 and "read as CH-SIMS v2" in err and rows[0]["id"] == "simsv2_aqgy3_0001_00000"
    assert rows[0]["valence"] == -0.4 and rows[0]["sentiment"] == "negative"


# ---------------------------------------------------------------- RECCON

RECCON_DIALOGUES = {
    "tr_9708": [[
        {"turn": 1, "speaker": "A", "utterance": "They finally sold the house .", "emotion": "neutral"},
        {"turn": 2, "speaker": "B", "utterance": "Really ? I can't believe it !", "emotion": "surprise",
         "expanded emotion cause evidence": [1, 2],
         "expanded emotion cause span": ["They finally sold the house .", "I can't believe it"],
         "type": ["no-context", "inter-personal"]},
        {"turn": 3, "speaker": "A", "utterance": "Glad that is over .", "emotion": "happines",
         "expanded emotion cause evidence": [1], "expanded emotion cause span": ["sold the house"],
         "type": ["inter-personal"]},
    ]],
    "tr_10180": [[
        {"turn": 1, "speaker": "A", "utterance": "I can't believe you did that .", "emotion": "anger",
         "explanation": "the speaker found the mess B left", "expanded emotion cause evidence": ["b"],
         "expanded emotion cause span": ["b"], "type": ["latent"]},
        {"turn": 2, "speaker": "B", "utterance": "Sorry !", "emotion": "sadness"},
    ]],
}


def test_reccon_wrapped_turns_latent_causes_and_types(tmp_path, capsys):
    root = tmp_path / "original_annotation"
    path = write(root / "dailydialog_test.json", json.dumps(RECCON_DIALOGUES, indent=4))
    text_lines = path.read_text().splitlines()
    turn_starts = [i for i, line in enumerate(text_lines, start=1) if line.strip() == "{"][1:]  # skip the file's own
    out = tmp_path / "rc.jsonl"
    rc, rows, err = recipe(capsys, "reccon", "--input", root, "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["reccon_test_tr_9708_2", "reccon_test_tr_10180_1"]
    surprise, latent = rows
    assert surprise["videos"] == [] and surprise["emotions"] == ["surprised"] and surprise["label"] == "surprise"
    assert surprise["cause_types"] == ["no-context", "inter-personal"] and "latent_cause" not in surprise
    assert "(1) A: They finally sold the house ." in user_text(surprise) and "feels surprised" in user_text(surprise)
    parsed = parse_output("emotion_cause", target(surprise))
    assert parsed.extra["cause_spans"] == [{"text": "They finally sold the house .", "utterance": 1},
                                           {"text": "I can't believe it", "utterance": 2}]
    assert latent["latent_cause"] is True and latent["cause_spans"] == [] and latent["cause_types"] == ["latent"]
    assert target(latent) == ("Emotion: angry\nCause spans:\n- none\n"
                              "Evidence: Utterance 1 by A expresses anger. Its cause is not stated in the "
                              "conversation (latent).\nReasoning: the speaker found the mess B left")
    # Errors name the line where the turn starts: turn 3 of tr_9708 and turn 2 of tr_10180.
    assert f"dailydialog_test.json:{turn_starts[2]}: turn 3 of tr_9708: unknown emotion 'happines'" in err
    assert f"dailydialog_test.json:{turn_starts[4]}: turn 2 of tr_10180: no 'expanded emotion cause span'" in err
    rc, rows, _ = recipe(capsys, "reccon", "--input", root, "--corpus", "iemocap", "--out", out)
    assert rc == 2
    # the repository as cloned: data/original_annotation/ beside data/subtask1/ and data/subtask2/
    repo = tmp_path / "RECCON"
    write(repo / "data" / "original_annotation" / "dailydialog_test.json", path.read_text())
    write(repo / "data" / "subtask1" / "fold1" / "dailydialog_qa_test_with_context.json", "[]")
    for given in (repo, repo / "data"):
        rc, rows, _ = recipe(capsys, "reccon", "--input", given, "--out", out)
        assert rc == 0 and [r["id"] for r in rows] == ["reccon_test_tr_9708_2", "reccon_test_tr_10180_1"]


# ---------------------------------------------------------------- AvaMERG

def test_avamerg_chain_of_empathy(tmp_path, media, capsys):
    root = tmp_path / "AvaMERG"
    conv = [{"conversation_id": "00042", "topic": "work", "speaker_profile": {"age": "young"},
             "listener_profile": {"age": "young"},
             "turns": [{"dialogue_history": [{"index": 1, "role": "speaker", "text": "I lost my job today."}],
                        "response": "I'm so sorry, that must be a shock.",
                        "chain_of_empathy": {"event_scenario": "The speaker was laid off.",
                                             "speaker_emotion": "devastated",
                                             "emotion_cause": "Losing a stable income suddenly.",
                                             "goal_to_response": "Comfort and acknowledge the shock."}},
                       {"dialogue_history": [], "response": "x", "chain_of_empathy": {"speaker_emotion": "sad"}}]}]
    write(root / "train.json", json.dumps(conv))
    put(media["mp4"], root / "video" / "dia42utt1.mp4")
    put(media["wav"], root / "audio" / "dia42utt1.wav")
    rc, rows, err = recipe(capsys, "avamerg", "--input", root, "--out", tmp_path / "ava.jsonl")
    assert rc == 0 and len(rows) == 1 and rows[0]["id"] == "avamerg_train_42_0"
    assert target(rows[0]) == ("Situation: The speaker was laid off.\nEmotion: devastated\n"
                               "Cause: Losing a stable income suddenly.\nGoal: Comfort and acknowledge the shock.\n"
                               "Response: I'm so sorry, that must be a shock.")
    assert rows[0]["subtitle"] == "I lost my job today." and user_text(rows[0]).startswith("<video><audio>")
    assert "train.json:1 (entry 1): empty dialogue_history" in err
