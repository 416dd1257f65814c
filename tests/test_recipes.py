"""Every data recipe converts a tiny fixture in its dataset's published layout; malformed rows are reported.

Media are generated once per session (ffmpeg lavfi) and copied under each
fixture's clip names; nothing binary is committed.
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from affectllm.cli import main
from affectllm.media.synthetic import write_tone_audio, write_tone_clip
from affectllm.reasoning import parse_output


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    jpg = d / "face.jpg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=32x32:d=0.1",
                    "-frames:v", "1", str(jpg)], check=True)
    return {"mp4": write_tone_clip(d / "clip.mp4", seconds=0.5, size=32), "wav": write_tone_audio(d / "tone.wav", seconds=0.5),
            "jpg": jpg}


def put(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def recipe(capsys, *argv) -> tuple[int, list[dict], str]:
    rc = main(["recipe", *map(str, argv)])
    err = capsys.readouterr().err
    out = Path(argv[argv.index("--out") + 1])
    rows = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    return rc, rows, err


def assert_media_resolve(manifest: Path, rows: list[dict]) -> None:
    for r in rows:
        for p in r["videos"] + r["audios"]:
            assert not Path(p).is_absolute() and (manifest.parent / p).is_file(), p


def user_text(r: dict) -> str:
    return r["messages"][0]["content"]


def target(r: dict) -> str:
    return r["messages"][1]["content"]


# ---------------------------------------------------------------- MER 2023/2024/2025

def test_mer2023_npz_layout(tmp_path, media, capsys):
    root = tmp_path / "mer2023-dataset-process"
    corpus = {"sample_00000001": {"emo": "happy", "val": 2.5}, "sample_00000002": {"emo": "worried", "val": -10},
              "sample_00000003": {"emo": "bored", "val": 0.0}, "sample_00000004": {"emo": "sad", "val": -4.0}}
    root.mkdir()
    np.savez_compressed(root / "label-6way.npz", train_corpus=corpus, test1_corpus={"sample_00000009": {"emo": "angry", "val": -3}})
    write(root / "transcription-engchi-polish.csv",
          "name,chinese,english\nsample_00000001,我通过了,I passed!\nsample_00000002,怎么办,What now?\n")
    for n in ("sample_00000001", "sample_00000002", "sample_00000003", "sample_00000009"):
        put(media["mp4"], root / "video" / f"{n}.mp4")
        put(media["wav"], root / "audio" / f"{n}.wav")
    out = tmp_path / "out" / "mer_train.jsonl"
    rc, rows, err = recipe(capsys, "mer", "--input", root, "--out", out, "--split", "train")
    assert rc == 0
    assert [r["id"] for r in rows] == ["sample_00000001", "sample_00000002"]
    a, b = rows
    assert a["emotions"] == ["happy"] and a["valence"] == 0.5 and a["subtitle"] == "I passed!"
    assert b["emotions"] == ["worried"] and b["valence"] is None  # -10 means "not rated"
    assert a["videos"] == ["../mer2023-dataset-process/video/sample_00000001.mp4"]
    assert user_text(a).startswith("<video><audio>") and target(a) == "The character's emotional state is happy."
    assert "label-6way.npz:3: unknown label 'bored'" in err
    assert "label-6way.npz:4: clip 'sample_00000004' not found" in err
    assert_media_resolve(out, rows)
    rc, rows, _ = recipe(capsys, "mer", "--input", root, "--out", tmp_path / "t1.jsonl", "--split", "test1")
    assert [r["id"] for r in rows] == ["sample_00000009"] and rows[0]["split"] == "test1"


def test_mer2025_csv_layout_and_fail_policy(tmp_path, media, capsys):
    root = tmp_path / "mer2025-dataset"
    write(root / "track1_train_disdim.csv", "name,discrete,valence\nsample_1,sad,-2.0\nsample_2,,1.0\n")
    write(root / "subtitle_chieng.csv", "name,chinese,english\nsample_1,唉,Sigh.\n")
    put(media["mp4"], root / "video" / "sample_1.mp4")
    rc, rows, err = recipe(capsys, "mer", "--input", root, "--out", tmp_path / "m.jsonl", "--style", "emer")
    assert rc == 0 and len(rows) == 1 and rows[0]["valence"] == -0.4 and rows[0]["audios"] == []
    assert user_text(rows[0]).startswith("<video>What is the person")
    assert target(rows[0]) == "Emotions: sad"
    assert "track1_train_disdim.csv:3: missing value in column 'discrete'" in err
    rc, _, err = recipe(capsys, "mer", "--input", root, "--out", tmp_path / "f.jsonl", "--on-error", "fail")
    assert rc == 2 and "track1_train_disdim.csv:3" in err and not (tmp_path / "f.jsonl").exists()


# ---------------------------------------------------------------- MER-Caption+ / OV-MERD+

def test_mer_caption_plus_descriptions_and_labels(tmp_path, media, capsys):
    root = tmp_path / "mer2025"
    write(root / "track2_train_mercaptionplus.csv",
          "name,openset\nsample_a,\"['worried', 'tense']\"\nsample_b,[]\nsample_c,\"['happy']\"\n")
    write(root / "track3_train_mercaptionplus.csv",
          "name,reason\nsample_a,\"He frowns and speaks quickly. Therefore, his emotional state might be worried and tense.\"\n"
          "sample_b,The face is relaxed.\n")
    write(root / "subtitle_chieng.csv", "name,chinese,english\nsample_a,,Hurry up.\n")
    for n in ("sample_a", "sample_b"):
        put(media["mp4"], root / "video" / f"{n}.mp4")
    out = tmp_path / "mc.jsonl"
    rc, rows, err = recipe(capsys, "mer_caption", "--input", root, "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["sample_a", "sample_b"]
    a, b = rows
    assert a["emotions"] == ["worried", "tense"] and b["emotions"] == ["neutral"]
    assert target(a) == "He frowns and speaks quickly. Therefore, his emotional state might be worried and tense."
    assert "Describe the character" in user_text(a)
    assert "track2_train_mercaptionplus.csv:4: clip 'sample_c' not found" in err
    rc, rows, _ = recipe(capsys, "mer_caption", "--input", root, "--out", out, "--label-ratio", "1")
    assert target(rows[0]) == "The character's emotional state is worried, tense."
    rc, rows, _ = recipe(capsys, "mer_caption", "--input", root, "--out", out, "--style", "think_answer")
    parsed = parse_output("think_answer", target(rows[0]))
    assert parsed.emotions == ["worried", "tense"]
    assert parsed.sections["conclusion"] == "Therefore, his emotional state might be worried and tense."


def test_ovmerd_subset(tmp_path, media, capsys):
    root = tmp_path / "mer2025"
    write(root / "track2_train_ovmerd.csv", "name,openset\nsample_x,\"['angry', 'resentful']\"\n")
    put(media["mp4"], root / "video" / "sample_x.mp4")
    rc, rows, _ = recipe(capsys, "mer_caption", "--input", root, "--out", tmp_path / "o.jsonl", "--subset", "ovmerd")
    assert rc == 0 and rows[0]["emotions"] == ["angry", "resentful"]
    assert target(rows[0]) == "The character's emotional state is angry, resentful."


# ---------------------------------------------------------------- EMER v1 / v2

def test_emer_v1_and_v2(tmp_path, media, capsys):
    v1 = tmp_path / "dataset-v1"
    write(v1 / "gt-eng.csv", "names,emotions,subtitles,reasons\n"
          "sample_1,sad,It is over.,\"Her eyes are red and her voice trembles. She says it is over. "
          "Therefore, she feels sad.\"\n"
          "sample_2,happy,Great!,\n")
    mer = tmp_path / "mer2023"
    put(media["mp4"], mer / "video" / "sample_1.mp4")
    put(media["mp4"], mer / "video" / "sample_2.mp4")
    rc, rows, err = recipe(capsys, "emer", "--input", v1, "--media", mer, "--out", tmp_path / "e1.jsonl")
    assert rc == 0 and len(rows) == 1
    assert target(rows[0]) == ("Clues: Her eyes are red and her voice trembles. She says it is over.\n"
                               "Conclusion: Therefore, she feels sad.\nEmotions: sad")
    assert rows[0]["subtitle"] == "It is over." and rows[0]["label"] == "sad"
    assert "gt-eng.csv:3: missing value in column 'reasons'" in err
    v2 = tmp_path / "dataset-v2"
    write(v2 / "final-EMER-reason.csv", "names,chinese,english\n"
          "sample_2,中文,\"He grins widely. Thus, he is joyful and excited.\"\n")
    rc, rows, _ = recipe(capsys, "emer", "--input", v2, "--media", mer, "--out", tmp_path / "e2.jsonl")
    assert rc == 0 and rows[0]["emotions"] == ["joyful", "excited"]


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
    processor = pytest.importorskip("affectllm.processor")
    from affectllm.config import MediaSettings
    from affectllm.conversation import expand_user_content

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

def test_iemocap_four_class(tmp_path, media, capsys):
    root = tmp_path / "IEMOCAP_full_release"
    s1 = root / "Session1"
    write(s1 / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt",
          "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
          "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
          "C-E2:\tNeutral;\t()\n"
          "[10.0100 - 11.3925]\tSes01F_impro01_F001\texc\t[4.0000, 3.5000, 3.0000]\n"
          "[14.8872 - 18.0175]\tSes01F_impro01_M001\tfru\t[2.0000, 3.5000, 3.5000]\n"
          "[19.0000 - 20.0000]\tSes01F_impro01_M002\tzzz\t[2.0000, 3.5000, 3.5000]\n"
          "[21.0000 - 22.0000]\tSes01F_impro01_M003\tsad\t[1.0000, 2.0000, 2.0000]\n")
    write(s1 / "dialog" / "transcriptions" / "Ses01F_impro01.txt",
          "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\nSes01F_impro01_F001 [010.0100-011.3925]: Yes!\n")
    for utt in ("Ses01F_impro01_F000", "Ses01F_impro01_F001", "Ses01F_impro01_M001"):
        put(media["wav"], s1 / "sentences" / "wav" / "Ses01F_impro01" / f"{utt}.wav")
    out = tmp_path / "iemocap.jsonl"
    rc, rows, err = recipe(capsys, "iemocap", "--input", root, "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["Ses01F_impro01_F000", "Ses01F_impro01_F001"]
    assert rows[1]["emotions"] == ["happy"] and rows[1]["label"] == "happy"  # excited merged into happy
    assert rows[1]["valence"] == 0.5 and rows[1]["subtitle"] == "Yes!" and rows[1]["videos"] == []
    assert user_text(rows[0]).startswith("<audio>")
    assert "Ses01F_impro01.txt:7: unknown label code 'zzz'" in err
    assert "Ses01F_impro01.txt:8: clip" in err and "Ses01F_impro01_M003.wav not found" in err
    rc, rows, _ = recipe(capsys, "iemocap", "--input", root, "--out", out, "--classes", "all")
    assert [r["emotions"] for r in rows] == [["neutral"], ["excited"], ["frustrated"]]


# ---------------------------------------------------------------- CMU-MOSI / MOSEI / CH-SIMS

def test_mmsa_mosi_and_sims(tmp_path, media, capsys):
    root = tmp_path / "CMU-MOSI"
    write(root / "label.csv", "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
          "03bSnISJMiM,1,i loved it,2.4,,,,Positive,test\n"
          "03bSnISJMiM,2,it was bad,-1.5,,,,Negative,test\n"
          "03bSnISJMiM,3,meh,0.0,,,,Neutral,train\n"
          "03bSnISJMiM,4,what,9.0,,,,Positive,test\n")
    for c in ("1", "2", "4"):
        put(media["mp4"], root / "Raw" / "03bSnISJMiM" / f"{c}.mp4")
    rc, rows, err = recipe(capsys, "mmsa", "--corpus", "mosi", "--input", root, "--out", tmp_path / "mosi.jsonl",
                           "--split", "test")
    assert rc == 0 and [r["id"] for r in rows] == ["mosi_03bSnISJMiM_1", "mosi_03bSnISJMiM_2"]
    assert rows[0]["valence"] == 0.8 and rows[0]["sentiment"] == "positive" and rows[0]["emotions"] == ["positive"]
    assert rows[1]["valence"] == -0.5
    assert "label.csv:5: label 9.0 outside [-3, 3]" in err
    sims = tmp_path / "CH-SIMS"
    write(sims / "label.csv", "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
          "video_0001,0001,我很好,0.6,0.8,0.4,0.2,Positive,train\n")
    put(media["mp4"], sims / "Raw" / "video_0001" / "0001.mp4")
    rc, rows, _ = recipe(capsys, "mmsa", "--corpus", "sims", "--input", sims, "--out", tmp_path / "sims.jsonl")
    assert rc == 0 and rows[0]["valence"] == 0.6 and rows[0]["unimodal_valence"] == {"T": 0.8, "A": 0.4, "V": 0.2}


# ---------------------------------------------------------------- RAF-DB / AffectNet (ExpLLM chains)

def test_rafdb_expllm_chain_from_aus(tmp_path, media, capsys):
    root = tmp_path / "basic"
    write(root / "EmoLabel" / "list_patition_label.txt", "train_00001.jpg 4\ntest_0001.jpg 6\ntrain_00002.jpg 9\n")
    put(media["jpg"], root / "Image" / "aligned" / "train_00001_aligned.jpg")
    put(media["jpg"], root / "Image" / "aligned" / "test_0001_aligned.jpg")
    aus = write(tmp_path / "aus.csv", "name, AU01_r, AU04_r, AU06_r, AU12_r, AU12_c\n"
                "train_00001.jpg, 0.2, 0.0, 2.10, 3.40, 1\n")
    out = tmp_path / "raf.jsonl"
    rc, rows, err = recipe(capsys, "rafdb", "--input", root, "--out", out, "--aus", aus)
    assert rc == 0 and [r["id"] for r in rows] == ["rafdb_train_00001", "rafdb_test_0001"]
    assert "list_patition_label.txt:3: unknown label 9" in err
    assert target(rows[0]) == (
        "Key Observations:\n- AU12 (lip corner puller), intensity 3.4: associated with happiness.\n"
        "- AU6 (cheek raiser), intensity 2.1: associated with happiness.\n"
        "Overall Emotional Interpretation: AU6 and AU12 together form 2 of the 2 units typical of happiness.\n"
        "Conclusion: The facial expression is best described as happiness.\nExpression: happy")
    parsed = parse_output("expllm", target(rows[0]))
    assert parsed.emotions == ["happy"] and [a["au"] for a in parsed.extra["action_units"]] == ["AU12", "AU6"]
    assert rows[1]["emotions"] == ["angry"] and rows[1]["has_aus"] is False
    assert user_text(rows[0]).startswith("<video>")
    rc, rows, _ = recipe(capsys, "rafdb", "--input", root, "--out", out, "--split", "test")
    assert [r["id"] for r in rows] == ["rafdb_test_0001"]


def test_affectnet(tmp_path, media, capsys):
    root = tmp_path / "AffectNet"
    header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
    write(root / "Manually_Annotated_file_lists" / "validation.csv", header +
          "1/a.jpg,0,0,10,10,\"1;2\",2,-0.6,0.3\n"
          "1/b.jpg,0,0,10,10,\"1;2\",9,-2,-2\n"
          "1/c.jpg,0,0,10,10,\"1;2\",6,-0.8,0.7\n")
    put(media["jpg"], root / "Manually_Annotated_Images" / "1" / "a.jpg")
    aus = write(tmp_path / "aus.csv", "subDirectory_filePath,AU01_r,AU04_r,AU15_r,AU12_r\n1/a.jpg,1.5,2.5,1.2,1.4\n")
    rc, rows, err = recipe(capsys, "affectnet", "--input", root, "--out", tmp_path / "an.jsonl", "--split",
                           "validation", "--aus", aus)
    assert rc == 0 and len(rows) == 1 and rows[0]["valence"] == -0.6 and rows[0]["arousal"] == 0.3
    t = target(rows[0])
    assert "AU4 (brow lowerer), intensity 2.5: associated with sadness." in t
    assert "AU12 (lip corner puller), intensity 1.4: associated with happiness." in t
    assert "AU1, AU4 and AU15 together form 3 of the 4 units typical of sadness. AU12 points to another emotion but is weaker" in t
    assert "validation.csv:4: image" in err


# ---------------------------------------------------------------- AvaMERG / RECCON

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
    assert "train.json:1: empty dialogue_history" in err


def test_reccon_cause_spans(tmp_path, capsys):
    root = tmp_path / "original_annotation"
    data = {"tr_1": [[{"turn": 1, "speaker": "A", "utterance": "I got the job!", "emotion": "happiness",
                       "expanded emotion cause evidence": [1], "expanded emotion cause span": ["I got the job"]},
                      {"turn": 2, "speaker": "B", "utterance": "Wow.", "emotion": "surprise"},
                      {"turn": 3, "speaker": "B", "utterance": "Fine.", "emotion": "neutral"}]]}
    write(root / "dailydialog_test.json", json.dumps(data, indent=1))
    rc, rows, err = recipe(capsys, "reccon", "--input", root, "--out", tmp_path / "rc.jsonl")
    assert rc == 0 and [r["id"] for r in rows] == ["reccon_test_tr_1_1"]
    r = rows[0]
    assert r["videos"] == [] and r["audios"] == [] and r["emotions"] == ["happy"]
    assert "(1) A: I got the job!" in user_text(r) and "feels happy" in user_text(r)
    parsed = parse_output("emotion_cause", target(r))
    assert parsed.extra["cause_spans"] == [{"text": "I got the job", "utterance": 1}] and parsed.emotions == ["happy"]
    assert "dailydialog_test.json:2: turn 2 of tr_1: no 'expanded emotion cause span'" in err


# ---------------------------------------------------------------- recipe check

def test_check_reports_and_exit_codes(tmp_path, media, capsys):
    put(media["mp4"], tmp_path / "clips" / "a.mp4")
    write(tmp_path / "clips" / "broken.mp4", "not a video")
    good = {"id": "a", "messages": [{"role": "user", "content": "<video>Why?"},
                                    {"role": "assistant", "content": "Emotions: happy, calm", "loss": True}],
            "videos": ["clips/a.mp4"], "audios": [], "emotions": ["happy", "calm"], "valence": 0.6}
    ok = write(tmp_path / "ok.jsonl", json.dumps(good) + "\n" + json.dumps(dict(good, id="b", emotions=["happy"], messages=[
        good["messages"][0], {"role": "assistant", "content": "Emotions: happy"}])) + "\n")
    assert main(["recipe", "check", str(ok), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 2 and report["errors"] == []
    assert report["labels"] == {"happy": 2, "calm": 1}
    assert report["tokens"] == {"min": 3, "mean": 3.5, "p50": 4, "p95": 4, "max": 4, "unit": "whitespace"}
    bad_lines = [dict(good, id="c", videos=["clips/missing.mp4"]),
                 dict(good, id="d", videos=["clips/broken.mp4"]),
                 dict(good, id="e", messages=[good["messages"][0], {"role": "assistant", "content": " "}]),
                 dict(good, id="f", videos=[])]
    bad = write(tmp_path / "bad.jsonl", "\n".join(json.dumps(x) for x in bad_lines) + "\n{oops\n")
    assert main(["recipe", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "bad.jsonl:1:" in out and "missing.mp4: file not found" in out
    assert "bad.jsonl:2:" in out and "not a readable media file" in out
    assert "bad.jsonl:3: empty target" in out
    assert "bad.jsonl:4: 1 <video> tag(s) but 0 videos" in out
    assert "bad.jsonl:5: not valid JSON" in out
    assert "5 errors" in out
