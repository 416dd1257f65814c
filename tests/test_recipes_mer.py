"""MER2023/2024/2025, EMER, MER-Caption+ and OV-MERD+ in the layouts their authors publish.

Layouts from zeroQiaoba/MERTools (MER2023/main-baseline.py, MER2024/toolkit/preprocess/*.py,
MER2025/.../preprocess/mer2025.py) and AffectGPT (EMER/dataset-v1, dataset-v2, config.py,
ovmerdplus_dataset.py); see each converter's docstring for files and commits.
"""

import json
import os

import numpy as np
import pytest
from recipe_helpers import assert_media_resolve, put, recipe, target, user_text, write

from affectllm.cli import main
from affectllm.reasoning import parse_output


@pytest.fixture
def mer2023_release(tmp_path, media):
    """The MER2023 release root: train-label.csv + train/*.avi, test sets with their own label CSVs."""
    root = tmp_path / "mer2023-dataset"
    write(root / "train-label.csv", "name,discrete,valence\n"
          "sample_00000648,angry,-3.4\n"
          "sample_00000680,happy,2.1\n"
          "sample_00000927,bored,0.0\n"
          "sample_00001823,worried,-1.6\n")
    for name in ("sample_00000648", "sample_00000680", "sample_00000927"):
        put(media["avi"], root / "train" / f"{name}.avi")
    # The label CSV of a test set may sit one folder down, as some copies of the release unpack.
    write(root / "test-labels" / "test1-label.csv", "name,discrete,valence\nsample_00003001,sad,-2.5\n")
    put(media["mp4"], root / "test1" / "sample_00003001.mp4")
    write(root / "test3-label.csv", "name,discrete\nsample_00005001,surprise\n")  # test3 has no valence
    put(media["mp4"], root / "test3" / "sample_00005001.mp4")
    write(root / "transcription-engchi-polish.csv", "name,chinese,english\n"
          "sample_00000648,别再跟我说了。,Stop talking to me about it.\n")
    return root


def test_mer2023_release_root_as_written_in_the_readme(tmp_path, mer2023_release, capsys):
    out = tmp_path / "m.jsonl"
    rc, rows, err = recipe(capsys, "mer2023", "--input", mer2023_release, "--out", out)
    assert rc == 0, err
    assert [r["id"] for r in rows] == ["sample_00000648", "sample_00000680", "sample_00003001", "sample_00005001"]
    angry, happy, sad, surprised = rows
    assert angry["emotions"] == ["angry"] and angry["label"] == "angry" and angry["valence"] == -0.68
    assert angry["subtitle"] == "Stop talking to me about it." and angry["split"] == "train"
    assert angry["videos"] == ["mer2023-dataset/train/sample_00000648.avi"] and angry["audios"] == []
    assert happy["valence"] == 0.42
    assert sad["split"] == "test1" and sad["valence"] == -0.5
    assert surprised["split"] == "test3" and surprised["valence"] is None and surprised["emotions"] == ["surprised"]
    assert "train-label.csv:4: unknown label 'bored'" in err
    assert "train-label.csv:5: clip 'sample_00001823' not found" in err
    assert target(angry) == "The character's emotional state is angry."
    assert angry["style"] == "affectgpt_hybrid" and angry["chain"] == "none"
    assert "4 label-only samples written as plain answers" in err
    assert_media_resolve(out, rows)
    rc, rows, _ = recipe(capsys, "mer", "--input", mer2023_release, "--out", tmp_path / "t3.jsonl", "--split", "test3")
    assert [r["id"] for r in rows] == ["sample_00005001"]


def test_label_only_chain_style_writes_plain_answers_and_says_so(tmp_path, mer2023_release, capsys):
    out = tmp_path / "think.jsonl"
    rc, rows, err = recipe(capsys, "mer2023", "--input", mer2023_release, "--out", out, "--style", "think_answer",
                           "--split", "train")
    assert rc == 0 and len(rows) == 2
    assert all(r["style"] == "affectgpt_hybrid" and r["chain"] == "none" for r in rows)
    assert "<think>" not in target(rows[0]) and "Which emotions does the character show?" in user_text(rows[0])
    assert "instead of --style think_answer, which needs reasoning the dataset does not give" in err
    assert "--ground-chains" in err
    assert main(["recipe", "check", str(out), "--no-probe"]) == 0


def test_mer2024_release_root(tmp_path, media, capsys):
    root = tmp_path / "mer2024-dataset"
    write(root / "label-disdim.csv", "name,discrete\nsample_00000001,worried\n")
    put(media["mp4"], root / "video-labeled" / "sample_00000001.mp4")
    rc, rows, err = recipe(capsys, "mer2024", "--input", root, "--out", tmp_path / "m24.jsonl")
    assert rc == 0 and [r["id"] for r in rows] == ["sample_00000001"] and rows[0]["emotions"] == ["worried"]
    assert "MER2024 release" in err


def test_mer2025_csv_layout_and_fail_policy(tmp_path, media, capsys):
    root = tmp_path / "mer2025-dataset"
    write(root / "track1_train_disdim.csv", "name,discrete,valence\nsample_1,sad,-2.0\nsample_2,,1.0\n")
    write(root / "subtitle_chieng.csv", "name,chinese,english\nsample_1,唉,Sigh.\n")
    put(media["mp4"], root / "video" / "sample_1.mp4")
    rc, rows, err = recipe(capsys, "mer2025", "--input", root, "--out", tmp_path / "m.jsonl")
    assert rc == 0 and len(rows) == 1 and rows[0]["valence"] == -0.4 and rows[0]["audios"] == []
    assert rows[0]["subtitle"] == "Sigh." and user_text(rows[0]).startswith("<video><audio>Which emotions")  # the clip's own track
    assert "track1_train_disdim.csv:3: missing value in column 'discrete'" in err
    rc, _, err = recipe(capsys, "mer", "--input", root, "--out", tmp_path / "f.jsonl", "--on-error", "fail")
    assert rc == 2 and "track1_train_disdim.csv:3" in err and not (tmp_path / "f.jsonl").exists()


def _processed_root(tmp_path, media):
    """MERTools' processed folder: label-6way.npz as main-baseline.py / mer2024.py write it, video/, audio/."""
    root = tmp_path / "mer2023-dataset-process"
    root.mkdir()
    train = {"sample_00000648": {"emo": "angry", "val": np.float64(-3.4)},
             "sample_00000680": {"emo": "happy", "val": np.float64(2.1)}}
    placeholder = {"sample_00003001": {"emo": "neutral", "val": -10}, "sample_00003002": {"emo": "neutral", "val": -10}}
    test3 = {"sample_00005001": {"emo": "sad", "val": -10}}  # test3: real labels, no valence
    np.savez_compressed(root / "label-6way.npz", train_corpus=train, test1_corpus=placeholder, test3_corpus=test3)
    for n in ("sample_00000648", "sample_00000680", "sample_00005001"):
        put(media["mp4"], root / "video" / f"{n}.mp4")
        put(media["wav"], root / "audio" / f"{n}.wav")
    return root


def test_mer_processed_npz_read_without_pickle_and_placeholders_left_out(tmp_path, media, capsys):
    root = _processed_root(tmp_path, media)
    rc, rows, err = recipe(capsys, "mer", "--input", root, "--out", tmp_path / "p.jsonl")
    assert rc == 0
    assert [(r["id"], r["emotions"], r["valence"], r["split"]) for r in rows] == [
        ("sample_00000648", ["angry"], -0.68, "train"), ("sample_00000680", ["happy"], 0.42, "train"),
        ("sample_00005001", ["sad"], None, "test3")]
    assert user_text(rows[0]).startswith("<video><audio>")
    assert "test1_corpus holds MERTools' placeholder labels (all 2 clips 'neutral', valence -10)" in err
    rc, _, err = recipe(capsys, "mer", "--input", root, "--out", tmp_path / "t1.jsonl", "--split", "test1")
    assert rc == 2 and "convert the release's test1-label.csv instead" in err


def test_mer_npz_holding_code_is_refused_and_nothing_runs(tmp_path, capsys):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    root = tmp_path / "evil"
    root.mkdir()
    np.savez(root / "label-6way.npz", train_corpus=np.array({"sample_1": Payload()}, dtype=object))
    out = tmp_path / "evil.jsonl"
    rc, rows, err = recipe(capsys, "mer", "--input", root, "--out", out)
    assert rc == 2 and rows == [] and not out.exists()
    assert not marker.exists()
    line = err.strip().splitlines()[-1]
    assert "label-6way.npz: member train_corpus.npy holds a pickled posix.system, which affectllm never runs" in line


# ---------------------------------------------------------------- EMER

EMER_ENG = ("names,emotions,subtitles,reasons\n"
            "sample_00000648,angry,Stop talking to me about it.,\"In the video, he shouts and glares. "
            "Therefore, it is inferred that his emotional state is anger.\"\n"
            "sample_00003001,sad,It is over.,\n")
EMER_CHI = "names,emotions,subtitles,reasons\nsample_00000648,生气,别再跟我说了。,在视频中，他大喊。因此推测他的情感状态为生气。\n"
EMER_V2 = ("name,chinese,english\n"
           "sample_00003001,在视频中，她低头。,\"In the video, she lowers her head and her voice trembles. "
           "Overall, she appears sad and disappointed.\"\n")


def test_emer_release_folder_v1_v2_and_chinese(tmp_path, mer2023_release, capsys):
    emer = tmp_path / "EMER"
    write(emer / "dataset-v1" / "gt-eng.csv", EMER_ENG)
    write(emer / "dataset-v1" / "gt-chi.csv", EMER_CHI)
    write(emer / "dataset-v2" / "final-EMER-reason.csv", EMER_V2)
    rc, rows, err = recipe(capsys, "emer", "--input", emer, "--media", mer2023_release, "--out", tmp_path / "e.jsonl")
    assert rc == 0 and [r["id"] for r in rows] == ["sample_00000648"]
    assert target(rows[0]) == ("Clues: In the video, he shouts and glares.\n"
                               "Conclusion: Therefore, it is inferred that his emotional state is anger.\nEmotions: angry")
    assert rows[0]["videos"] == ["mer2023-dataset/train/sample_00000648.avi"] and rows[0]["chain"] == "dataset"
    assert "gt-eng.csv:3: missing value in column 'reasons'" in err
    rc, rows, _ = recipe(capsys, "emer", "--input", emer, "--language", "chinese", "--media", mer2023_release,
                         "--out", tmp_path / "c.jsonl")
    assert rc == 0 and rows[0]["label"] == "angry" and rows[0]["description"].startswith("在视频中")
    rc, rows, _ = recipe(capsys, "emer", "--input", emer, "--version", "v2", "--media", mer2023_release,
                         "--out", tmp_path / "v2.jsonl")
    assert rc == 0 and rows[0]["id"] == "sample_00003001" and rows[0]["emotions"] == ["sad", "disappointed"]
    assert rows[0]["videos"] == ["mer2023-dataset/test1/sample_00003001.mp4"]
    rc, _, err = recipe(capsys, "emer", "--input", emer, "--out", tmp_path / "x.jsonl")
    assert rc == 2 and "give --media <MER2023 root>" in err


# ---------------------------------------------------------------- MER-Caption+ / OV-MERD+

def test_mer_caption_plus_descriptions_and_labels(tmp_path, media, capsys):
    root = tmp_path / "mer2025"
    write(root / "track2_train_mercaptionplus.csv",
          "name,openset\nsample_a,\"['worried', 'tense']\"\nsample_b,[]\nsample_c,\"['happy']\"\n"
          "sample_d,\"['tender', 'calm']\"\n")
    write(root / "track3_train_mercaptionplus.csv",
          "name,reason\nsample_a,\"He frowns and speaks quickly. Therefore, his emotional state might be worried and tense.\"\n"
          "sample_b,The face is relaxed.\n")
    write(root / "subtitle_chieng.csv", "name,chinese,english\nsample_a,,Hurry up.\n")
    for n in ("sample_a", "sample_b", "sample_d"):
        put(media["mp4"], root / "video" / f"{n}.mp4")
    out = tmp_path / "mc.jsonl"
    rc, rows, err = recipe(capsys, "mer-caption+", "--input", root, "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["sample_a", "sample_b", "sample_d"]
    a, b, d = rows
    assert a["emotions"] == ["worried", "tense"] and b["emotions"] == ["neutral"]
    assert d["emotions"] == ["tender", "calm"]  # as annotated, not our vocabulary's "affectionate"
    assert target(a) == "He frowns and speaks quickly. Therefore, his emotional state might be worried and tense."
    assert "Describe the character" in user_text(a) and a["subtitle"] == "Hurry up."
    assert "track2_train_mercaptionplus.csv:4: clip 'sample_c' not found" in err
    rc, rows, _ = recipe(capsys, "mercaptionplus", "--input", root, "--out", out, "--label-ratio", "1")
    assert target(rows[0]) == "The character's emotional state is worried, tense."
    rc, rows, _ = recipe(capsys, "mer_caption", "--input", root, "--out", out, "--style", "think_answer")
    parsed = parse_output("think_answer", target(rows[0]))
    assert parsed.emotions == ["worried", "tense"]
    assert parsed.sections["conclusion"] == "Therefore, his emotional state might be worried and tense."


def test_ovmerd_plus_process_folder(tmp_path, media, capsys):
    root = tmp_path / "dataset" / "ovmerdplus-process"
    # the annotators' words stay as written: "teasing" is not folded into "playful" (nor dropped beside it)
    write(root / "ovlabel.csv", "name,openset\nsample_00000000,\"['angry', 'resentful', 'teasing', 'playful']\"\n"
          "sample_00000007,[]\n")
    write(root / "subtitle_eng.csv", "name,sentence\nsample_00000000,You never listen to me.\nsample_00000007,\n")
    for n in ("sample_00000000", "sample_00000007"):
        put(media["mp4"], root / "video" / f"{n}.mp4")
        put(media["wav"], root / "audio" / f"{n}.wav")
    out = tmp_path / "ov.jsonl"
    rc, rows, err = recipe(capsys, "ov-merd+", "--input", tmp_path / "dataset", "--out", out)
    assert rc == 0, err
    assert [(r["id"], r["emotions"]) for r in rows] == [
        ("sample_00000000", ["angry", "resentful", "teasing", "playful"]), ("sample_00000007", ["neutral"])]
    assert rows[0]["subtitle"] == "You never listen to me." and rows[0]["dataset"] == "ovmerd_plus"
    assert target(rows[0]) == "The character's emotional state is angry, resentful, teasing, playful."
    # the evaluator maps the words itself: an answer naming the same families scores in full
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": "sample_00000000", "emotions": ["furious", "bitter", "playful"]}) + "\n")
    assert main(["eval", "ov", "--pred", str(pred), "--gold", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["f1"] == pytest.approx(1.0)
    assert user_text(rows[0]).startswith("<video><audio>")
    assert_media_resolve(out, rows)


def test_ovmerd_mer2025_form(tmp_path, media, capsys):
    root = tmp_path / "mer2025"
    write(root / "track2_train_ovmerd.csv", "name,openset\nsample_x,\"['angry', 'resentful']\"\n")
    put(media["mp4"], root / "video" / "sample_x.mp4")
    rc, rows, _ = recipe(capsys, "ovmerd", "--input", root, "--out", tmp_path / "o.jsonl")
    assert rc == 0 and rows[0]["emotions"] == ["angry", "resentful"] and rows[0]["dataset"] == "mer_caption/ovmerd"
    assert json.loads(json.dumps(rows[0]))["chain"] == "none"
