"""RAF-DB, AffectNet and ExpLLM's published chains, in the layouts their authors publish.

Layouts from starhiking/ExpLLM-TMM (datasets/tools/convert_split_raf-db.py, README.md,
data_list/anno_json/*.json) and the AffectNet release; see each converter's docstring.
"""

import json

from recipe_helpers import put, recipe, target, user_text, write

from affectllm.reasoning import parse_output


def _raf_root(tmp_path, media):
    """RAF-DB as unpacked: RAF-DB/basic/EmoLabel/list_patition_label.txt, basic/Image/aligned/."""
    basic = tmp_path / "RAF-DB" / "basic"
    write(basic / "EmoLabel" / "list_patition_label.txt",
          "train_00001.jpg 4\ntest_0001.jpg 5\ntest_0002.jpg 1\ntrain_00002.jpg 9\n")
    for stem in ("train_00001", "test_0001", "test_0002"):
        put(media["jpg"], basic / "Image" / "aligned" / f"{stem}_aligned.jpg")
    return tmp_path / "RAF-DB"


def test_rafdb_root_or_basic_folder_with_au_chains(tmp_path, media, capsys):
    root = _raf_root(tmp_path, media)
    aus = write(tmp_path / "aus.csv", "name, AU01_r, AU04_r, AU06_r, AU12_r, AU12_c\n"
                "train_00001.jpg, 0.2, 0.0, 2.10, 3.40, 1\n")
    out = tmp_path / "raf.jsonl"
    rc, rows, err = recipe(capsys, "raf-db", "--input", root, "--out", out, "--aus", aus)
    assert rc == 0 and [r["id"] for r in rows] == ["rafdb_train_00001", "rafdb_test_0001", "rafdb_test_0002"]
    assert "list_patition_label.txt:4: unknown label 9" in err
    assert target(rows[0]) == (
        "Key Observations:\n- AU12 (lip corner puller), intensity 3.4: associated with happiness.\n"
        "- AU6 (cheek raiser), intensity 2.1: associated with happiness.\n"
        "Overall Emotional Interpretation: AU6 and AU12 together form 2 of the 2 units typical of happiness.\n"
        "Conclusion: The facial expression is best described as happiness.\nExpression: happy")
    assert rows[0]["chain"] == "dataset" and rows[0]["has_aus"] is True
    parsed = parse_output("expllm", target(rows[0]))
    assert parsed.emotions == ["happy"] and [a["au"] for a in parsed.extra["action_units"]] == ["AU12", "AU6"]
    # No AU intensities for the test images: no invented chain, a plain answer instead.
    assert rows[1]["emotions"] == ["sad"] and rows[1]["has_aus"] is False and rows[1]["chain"] == "none"
    assert target(rows[1]) == "The character's emotional state is sad." and rows[2]["emotions"] == ["surprised"]
    assert user_text(rows[0]).startswith("<video>")
    assert "2 label-only samples written as plain answers" in err
    rc, rows, _ = recipe(capsys, "rafdb", "--input", root / "basic", "--out", out, "--split", "test")
    assert [r["id"] for r in rows] == ["rafdb_test_0001", "rafdb_test_0002"]
    (tmp_path / "elsewhere").mkdir()
    rc, _, err = recipe(capsys, "rafdb", "--input", tmp_path / "elsewhere", "--out", out)
    assert rc == 2 and "basic/EmoLabel/list_patition_label.txt not found" in err


def test_affectnet(tmp_path, media, capsys):
    root = tmp_path / "AffectNet"
    header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
    write(root / "Manually_Annotated_file_lists" / "validation.csv", header +
          "1/a.jpg,0,0,10,10,\"1;2\",2,-0.6,0.3\n"
          "1/b.jpg,0,0,10,10,\"1;2\",9,-2,-2\n"
          "1/c.jpg,0,0,10,10,\"1;2\",6,-0.8,0.7\n"
          "../../escape.jpg,0,0,10,10,\"1;2\",1,0.5,0.5\n")
    put(media["jpg"], root / "Manually_Annotated_Images" / "1" / "a.jpg")
    put(media["jpg"], tmp_path / "escape.jpg")
    aus = write(tmp_path / "aus.csv", "subDirectory_filePath,AU01_r,AU04_r,AU15_r,AU12_r\n1/a.jpg,1.5,2.5,1.2,1.4\n")
    rc, rows, err = recipe(capsys, "affectnet", "--input", root, "--out", tmp_path / "an.jsonl", "--split",
                           "validation", "--aus", aus)
    assert rc == 0 and len(rows) == 1 and rows[0]["valence"] == -0.6 and rows[0]["arousal"] == 0.3
    t = target(rows[0])
    assert "AU4 (brow lowerer), intensity 2.5: associated with sadness." in t
    assert "AU12 (lip corner puller), intensity 1.4: associated with happiness." in t
    assert "AU1, AU4 and AU15 together form 3 of the 4 units typical of sadness. AU12 points to another emotion but is weaker" in t
    assert "left out " in err and "validation.csv:3: expression code 9 (Uncertain) is not an emotion" in err
    assert "validation.csv:4: image" in err
    assert "validation.csv:5: path '../../escape.jpg' leaves" in err
    assert "1 left out: 1 expression code 9 (Uncertain) is not an emotion" in err


# ExpLLM's published description files: a JSON list; the headings come in several spellings.
EXPLLM_ENTRIES = [
    {"file_name": "test_0001_aligned.jpg", "emo": "Sadness", "au": [0.0] * 4 + [0.2, 0.2] + [0.0] * 18,
     "description": "**Key Observations:** Both brows are lowered and drawn together.\n\n"
                    "**Overall Emotional Interpretation:** The brow pattern signals distress.\n\n"
                    "**Conclusion:** The face shows sadness."},
    {"file_name": "test_0002_aligned.jpg", "emo": "Surprise", "au": [0.0, 0.0, 0.55, 0.56] + [0.0] * 20,
     "description": "**Key Observations**: The eyelids and brows are raised.\n\n"
                    "**Conclusion**: A clear expression of surprise."},
    {"file_name": "test_0003_aligned.jpg", "emo": "Happiness", "au": [0.3] * 24,
     "description": "The analysis of the face suggests a pleasant mood overall."},
    {"file_name": "../../../etc/passwd", "emo": "Neutral", "au": [0.0] * 24,
     "description": "### Key Observations\nNothing moves.\n### Conclusion\nNeutral."},
]


def test_expllm_published_descriptions_become_chains(tmp_path, media, capsys):
    raf = _raf_root(tmp_path, media)
    put(media["jpg"], raf / "basic" / "Image" / "aligned" / "test_0003_aligned.jpg")
    anno = write(tmp_path / "anno_json" / "rafdb_emo_au_val_mini_description.json",
                 json.dumps(EXPLLM_ENTRIES, indent=4))
    out = tmp_path / "exp.jsonl"
    rc, rows, err = recipe(capsys, "expllm", "--input", anno, "--images", raf, "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["expllm_test_0001_aligned", "expllm_test_0002_aligned"]
    sad, surprised = rows
    assert target(sad) == ("Key Observations:\nBoth brows are lowered and drawn together.\n"
                           "Overall Emotional Interpretation: The brow pattern signals distress.\n"
                           "Conclusion: The face shows sadness.\nExpression: sad")
    assert target(surprised) == ("Key Observations:\nThe eyelids and brows are raised.\n"
                                 "Conclusion: A clear expression of surprise.\nExpression: surprised")
    assert sad["label"] == "Sadness" and sad["split"] == "valid" and len(sad["au_intensities"]) == 24
    assert sad["videos"] == ["RAF-DB/basic/Image/aligned/test_0001_aligned.jpg"] and sad["chain"] == "dataset"
    # Each JSON element is reported at the line it starts on (indent=4: 1 + 7 lines per entry here).
    starts = [i + 1 for i, line in enumerate(anno.read_text().splitlines()) if line == "    {"]
    assert f"rafdb_emo_au_val_mini_description.json:{starts[2]} (entry 3): the description has no Key Observations" in err
    assert f"rafdb_emo_au_val_mini_description.json:{starts[3]} (entry 4): path '../../../etc/passwd' leaves" in err
    rc, rows, _ = recipe(capsys, "expllm", "--input", anno.parent, "--images", raf / "basic" / "Image" / "aligned",
                         "--out", out, "--style", "think_answer")
    parsed = parse_output("think_answer", target(rows[0]))
    assert parsed.emotions == ["sad"] and parsed.sections["interpretation"] == "The brow pattern signals distress."
    # the repository as cloned: data_list/anno_json/ holds the description files beside label-only lists
    repo = tmp_path / "ExpLLM-TMM"
    write(repo / "data_list" / "anno_json" / anno.name, anno.read_text())
    write(repo / "data_list" / "anno_json" / "rafdb_train.json", json.dumps([{"file_name": "x.jpg", "emo": "Fear"}]))
    for given in (repo, repo / "data_list"):
        rc, rows, _ = recipe(capsys, "expllm", "--input", given, "--images", raf, "--out", out)
        assert rc == 0 and [r["id"] for r in rows] == ["expllm_test_0001_aligned", "expllm_test_0002_aligned"]
    rc, _, err = recipe(capsys, "expllm", "--input", tmp_path / "raf", "--images", raf, "--out", out)
    assert rc == 2 and "no ExpLLM description JSON (*description*.json) in it or its data_list/anno_json/" in err
