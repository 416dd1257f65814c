"""What every recipe shares: the names people type, `recipe --list`, `recipe check`, grounded chains, safe paths.

The per-dataset converter tests live in test_recipes_mer.py, test_recipes_faces.py and
test_recipes_dialogue.py.
"""

import importlib
import json
import sys

import pytest
from recipe_helpers import put, recipe, target, write

from affectllm.cli import build_parser, main
from affectllm.reasoning import parse_output

ISSUE_NAMES = ("mer2023", "mer2024", "mer2025", "mer-caption+", "mercaptionplus", "ov-merd+", "ovmerd", "emer",
               "raf-db", "affectnet", "cmu-mosi", "cmu-mosei", "ch-sims", "sims-v2", "meld", "iemocap", "reccon",
               "avamerg", "expllm")


def test_every_dataset_name_is_a_recipe_and_list_shows_layouts(capsys):
    parser = build_parser()
    for name in ISSUE_NAMES:
        extra = ["--images", "imgs"] if name == "expllm" else []
        args = parser.parse_args(["recipe", name, "--input", "root", "--out", "m.jsonl", *extra])
        assert callable(args._recipe_run), name
    assert parser.parse_args(["recipe", "cmu-mosi", "--input", "r", "--out", "o"]).corpus == "mosi"
    assert parser.parse_args(["recipe", "sims-v2", "--input", "r", "--out", "o"]).corpus == "simsv2"
    assert parser.parse_args(["recipe", "ov-merd+", "--input", "r", "--out", "o"]).subset == "ovmerd"
    assert parser.parse_args(["recipe", "cmu-mosi", "--input", "r", "--out", "o", "--corpus", "mosei"]).corpus == "mosei"
    assert main(["recipe", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in ISSUE_NAMES:
        assert name in listed, name
    assert "mer (also: mer2023, mer2024, mer2025)" in listed
    assert "train-label.csv + train/" in listed and "list_patition_label.txt" in listed
    assert main(["recipe"]) == 2
    assert "name a recipe (affectllm recipe --list" in capsys.readouterr().err


def test_a_missing_recipes_package_says_reinstall_and_a_recipes_own_import_error_is_not_hidden(monkeypatch, capsys):
    import affectllm.recipes
    from affectllm.cli.recipe import _recipes

    monkeypatch.setitem(sys.modules, "affectllm.recipes", None)  # what an install without the package sees
    assert main(["recipe"]) == 2
    assert capsys.readouterr().err == ("affectllm recipe: the affectllm.recipes package is not installed; reinstall "
                                       "affectllm (pip install -e . in a checkout)\n")
    monkeypatch.setitem(sys.modules, "affectllm.recipes", affectllm.recipes)

    def broken():  # a recipe module whose own dependency is absent
        importlib.import_module("affectllm_missing_dependency")

    monkeypatch.setattr(affectllm.recipes, "recipes", broken)
    with pytest.raises(ModuleNotFoundError, match="affectllm_missing_dependency"):
        _recipes()


def test_names_from_the_data_cannot_leave_the_dataset_folder(tmp_path, media, capsys):
    root = tmp_path / "mer2025-dataset"
    write(root / "track1_train_disdim.csv", "name,discrete,valence\n../../secret,sad,-2.0\nsample_1,sad,-2.0\n")
    put(media["mp4"], tmp_path / "secret.mp4")
    put(media["mp4"], root / "video" / "sample_1.mp4")
    rc, rows, err = recipe(capsys, "mer2025", "--input", root, "--out", tmp_path / "m.jsonl")
    assert rc == 0 and [r["id"] for r in rows] == ["sample_1"]
    assert "track1_train_disdim.csv:2: name '../../secret' is not a plain file name" in err


# ---------------------------------------------------------------- --ground-chains

SAID = "We finally won the game. This is the best day of my life."
MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"


def test_ground_chains_cite_the_samples_own_cues_and_keep_the_gold_label(tmp_path, capsys, face_clip):
    """One real face clip with happy words, labelled joy in one row and sadness in another: each chain cites
    the clip's cues, says which point elsewhere, and concludes with that row's gold label."""
    root = tmp_path / "MELD.Raw"
    write(root / "test_sent_emo.csv", MELD_HEADER +
          f"1,{SAID},Rachel,joy,positive,0,0,3,19,\"00:14:38,127\",\"00:14:40,378\"\n"
          f"2,{SAID},Ross,sadness,negative,0,1,3,19,\"00:14:41,000\",\"00:14:42,000\"\n")
    clip = face_clip(tmp_path / "face.mp4", speech_text=SAID, seconds=4.0)
    for stem in ("dia0_utt0", "dia0_utt1"):
        put(clip, root / "output_repeated_splits_test" / f"{stem}.mp4")
    out = tmp_path / "grounded.jsonl"
    rc, rows, err = recipe(capsys, "meld", "--input", root, "--out", out, "--style", "emer", "--ground-chains",
                           "--ground-frames", "4")
    assert rc == 0, err
    joy, sad = rows
    for row, gold in ((joy, ["joyful"]), (sad, ["sad"])):
        text = target(row)
        assert row["chain"] == "cues" and row["style"] == "emer"
        assert text.startswith("Visual clues: face in 4/4 frames; expression model reads ")
        assert f'Lexical clues: subtitle "{SAID}"; VADER compound +' in text
        parsed = parse_output("emer", text)
        assert parsed.emotions == gold and parsed.sections["conclusion"] == f"Taken together, the emotional state is {gold[0]}."
    # The positive words back joy and are named as pointing elsewhere for sadness, never overriding it.
    assert any("VADER +" in s for s in joy["grounding"]["support"])
    assert any("VADER +" in s and "leans positive" in s for s in sad["grounding"]["against"])
    assert "Pointing elsewhere" in target(sad) and "Supporting joyful: " in target(joy)
    assert "2 label-only samples got a chain grounded in their own media's cues" in err
    assert main(["recipe", "check", str(out)]) == 0
    capsys.readouterr()
    # Text only (no clips): the chain rests on the utterance's words alone.
    rc, rows, _ = recipe(capsys, "meld", "--input", root, "--out", tmp_path / "t.jsonl", "--text-only",
                         "--style", "think_answer", "--ground-chains")
    assert rc == 0 and rows[1]["chain"] == "cues" and "Visual" not in target(rows[1])
    assert parse_output("think_answer", target(rows[1])).emotions == ["sad"]


def test_ground_chains_resume_reuses_what_an_interrupted_run_wrote(tmp_path, capsys):
    root = tmp_path / "meld"
    write(root / "dev_sent_emo.csv", MELD_HEADER +
          "1,I am so glad you came!,Monica,joy,positive,0,0,1,1,a,b\n"
          "2,This is awful.,Ross,disgust,negative,0,1,1,1,a,b\n"
          "3,Okay.,Joey,neutral,neutral,0,2,1,1,a,b\n")
    out = tmp_path / "dev.jsonl"
    argv = ["meld", "--input", root, "--split", "dev", "--text-only", "--style", "think_answer", "--ground-chains",
            "--out", out]
    rc, first, _ = recipe(capsys, *argv)
    assert rc == 0 and [r["chain"] for r in first] == ["cues"] * 3
    assert "Supporting joyful: " in target(first[0])
    # An interrupted run leaves OUT.part: one finished sample and a torn line.
    done = dict(first[0], messages=[first[0]["messages"][0], {"role": "assistant", "content": "KEPT", "loss": True}])
    part = out.with_name(out.name + ".part")
    part.write_text(json.dumps(done) + "\n" + '{"id": "meld_dev_dia0_ut', encoding="utf-8")
    out.unlink()
    rc, rows, err = recipe(capsys, *argv, "--resume")
    assert rc == 0 and "resuming: 1 grounded samples already written are reused" in err
    assert [target(r) for r in rows] == ["KEPT", target(first[1]), target(first[2])] and not part.exists()
    # A bad line that is not the torn tail is named, and nothing is rewritten: it was never dropped silently.
    broken = out.read_text().splitlines()
    out.write_text("\n".join([broken[0], "{not json", *broken[1:]]) + "\n")
    before = out.read_bytes()
    rc, err = main(["recipe", *map(str, argv), "--resume"]), capsys.readouterr().err
    assert rc == 2 and f"{out}:2: not a JSON sample, so --resume cannot reuse this file" in err
    assert len(err.strip().splitlines()) == 1 and out.read_bytes() == before


# ---------------------------------------------------------------- recipe check

def test_check_reports_and_exit_codes(tmp_path, media, capsys):
    put(media["mp4"], tmp_path / "clips" / "a.mp4")
    write(tmp_path / "clips" / "broken.mp4", "not a video")
    good = {"id": "a", "messages": [{"role": "user", "content": "<video>Why?"},
                                    {"role": "assistant", "content": "Reasoning: she smiles.\nEmotions: happy, calm", "loss": True}],
            "videos": ["clips/a.mp4"], "audios": [], "emotions": ["happy", "calm"], "valence": 0.6}
    ok = write(tmp_path / "ok.jsonl", json.dumps(good) + "\n" + json.dumps(dict(good, id="b", emotions=["happy"], messages=[
        good["messages"][0], {"role": "assistant", "content": "Reasoning: she smiles.\nEmotions: happy"}])) + "\n")
    assert main(["recipe", "check", str(ok), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 2 and report["errors"] == []
    assert report["labels"] == {"happy": 2, "calm": 1}
    assert report["tokens"] == {"min": 6, "mean": 6.5, "p50": 7, "p95": 7, "max": 7, "unit": "whitespace"}
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
    assert 'bad.jsonl:4: the user turn has <video> but "videos" is empty; add the clip or remove the tag' in out
    assert "bad.jsonl:5: not valid JSON" in out
    assert "5 errors" in out


def test_check_flags_empty_chains(tmp_path, capsys):
    user = {"role": "user", "content": "Why?"}
    samples = [
        {"id": "think", "style": "think_answer", "emotions": ["happy"],
         "messages": [user, {"role": "assistant", "content": "<think>\n</think>\n<answer>happy</answer>"}]},
        {"id": "bare", "emotions": ["sad"],  # no style field: guessed from the target's layout
         "messages": [user, {"role": "assistant", "content": "Emotions: sad"}]},
        {"id": "plain", "style": "affectgpt_hybrid", "emotions": ["sad"],
         "messages": [user, {"role": "assistant", "content": "The character's emotional state is sad."}]},
        {"id": "chain", "style": "hef_hint", "emotions": ["sad"],
         "messages": [user, {"role": "assistant", "content": "Observations: tears.\nEmotions: sad"}]},
    ]
    manifest = write(tmp_path / "m.jsonl", "".join(json.dumps(dict(s, videos=[], audios=[])) + "\n" for s in samples))
    assert main(["recipe", "check", str(manifest), "--json"]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert errors == [f"{manifest}:1: empty chain: the think_answer target holds no reasoning; re-run the recipe "
                      "(label-only samples become plain answers) or add --ground-chains",
                      f"{manifest}:2: empty chain: the emer target holds no reasoning; re-run the recipe "
                      "(label-only samples become plain answers) or add --ground-chains"]
