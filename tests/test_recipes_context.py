"""Conversation context (`--context K`) from MELD, IEMOCAP, RECCON, AvaMERG and EmoryNLP, and its contract check.

Fixture layouts follow each converter's docstring (declare-lab/MELD, the IEMOCAP release, declare-lab/RECCON,
the AvaMERG reader, emorynlp/emotion-detection and Strong-AI-Lab/emotion for EmoryNLP); the text is ours.
"""

import csv
import json
from pathlib import Path

import pytest
from recipe_helpers import assert_media_resolve, put, recipe, write

from affectllm.cli import main
from affectllm.eval import evaluate
from affectllm.recipes.rows import read_text

REAL_MELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "meld"

MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
MELD_DEV = (MELD_HEADER +
            # rows out of order on purpose: context follows Utterance_ID, not file order
            "3,Fine.,Ross,bored,neutral,0,2,1,1,a,b\n"  # unknown emotion: no sample, still a turn
            "1,Where were you?,Rachel,anger,negative,0,0,1,1,a,b\n"
            "2,At work.,Ross,neutral,neutral,0,1,1,1,a,b\n"
            "4,Really?,Rachel,surprise,negative,0,3,1,1,a,b\n"
            "5,Hi!,Joey,joy,positive,1,0,1,1,a,b\n")


def _context_of(rows):
    return {r["id"]: [(t["speaker"], t["text"]) for t in r["context"]] for r in rows}


def test_meld_text_only_context_is_the_previous_turns_of_the_dialogue(tmp_path, capsys):
    root = write(tmp_path / "meld" / "dev_sent_emo.csv", MELD_DEV).parent
    rc, rows, err = recipe(capsys, "meld", "--input", root, "--split", "dev", "--text-only", "--context", "2",
                           "--out", tmp_path / "ctx.jsonl")
    assert rc == 0 and "dev_sent_emo.csv:2: unknown Emotion 'bored'" in err
    assert _context_of(rows) == {
        "meld_dev_dia0_utt0": [],
        "meld_dev_dia0_utt1": [("Rachel", "Where were you?")],
        "meld_dev_dia0_utt3": [("Ross", "At work."), ("Ross", "Fine.")],
        "meld_dev_dia1_utt0": [],  # another dialogue
    }
    assert all(set(t) == {"speaker", "text"} for r in rows for t in r["context"])  # text-only: no media
    rc, rows, _ = recipe(capsys, "meld", "--input", root, "--split", "dev", "--text-only", "--out", tmp_path / "no.jsonl")
    assert rc == 0 and not any("context" in r for r in rows)  # --context 0: manifests as before
    with pytest.raises(SystemExit):
        main(["recipe", "meld", "--input", str(root), "--text-only", "--context", "-1", "--out", str(tmp_path / "x.jsonl")])
    assert "argument --context: give a number of previous turns, 0 or more; got -1" in capsys.readouterr().err


def test_meld_context_carries_the_earlier_clips(tmp_path, media, capsys):
    root = write(tmp_path / "MELD.Raw" / "dev_sent_emo.csv", MELD_DEV).parent
    for stem in ("dia0_utt0", "dia0_utt2", "dia0_utt3"):  # dia0_utt1's clip is missing
        put(media["mp4"], root / "dev_splits_complete" / f"{stem}.mp4")
    out = tmp_path / "out" / "meld.jsonl"
    rc, rows, err = recipe(capsys, "meld", "--input", root, "--split", "dev", "--context", "3", "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["meld_dev_dia0_utt0", "meld_dev_dia0_utt3"]
    assert "clip 'dia0_utt1' not found" in err
    context = rows[1]["context"]
    assert [t["text"] for t in context] == ["Where were you?", "At work.", "Fine."]
    assert context[0]["videos"] == ["../MELD.Raw/dev_splits_complete/dia0_utt0.mp4"] and "videos" not in context[1]
    for turn in context:
        assert_media_resolve(out, [{"videos": turn.get("videos", []), "audios": []}])
    assert main(["recipe", "check", str(out), "--no-probe"]) == 0
    capsys.readouterr()


@pytest.mark.skipif(not (REAL_MELD / "dev_sent_emo.csv").is_file(), reason="../shared/data/meld absent")
def test_real_meld_dev_context_matches_the_label_file(tmp_path, capsys):
    rc, rows, err = recipe(capsys, "meld", "--input", REAL_MELD, "--split", "dev", "--text-only", "--context", "2",
                           "--out", tmp_path / "dev.jsonl")
    assert rc == 0 and len(rows) == 1109 and "(0 rows skipped)" in err
    dialogues: dict[int, dict[int, tuple[str, str]]] = {}
    for line in csv.DictReader(read_text(REAL_MELD / "dev_sent_emo.csv").splitlines()):
        dialogues.setdefault(int(line["Dialogue_ID"]), {})[int(line["Utterance_ID"])] = (line["Speaker"].strip(),
                                                                                          line["Utterance"].strip())
    for r in rows:
        dia, utt = (int(x) for x in r["id"].removeprefix("meld_dev_dia").split("_utt"))
        earlier = [dialogues[dia][u] for u in sorted(dialogues[dia]) if u < utt]
        assert [(t["speaker"], t["text"]) for t in r["context"]] == earlier[-2:], r["id"]
    assert sum(len(r["context"]) == 2 for r in rows) > 800  # most utterances have two before them


IEMOCAP_EVAL = (
    "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
    "[10.0100 - 11.3925]\tSes01F_impro05_M000\tang\t[1.5000, 4.0000, 4.5000]\n\n"
    "[6.2901 - 8.2357]\tSes01F_impro05_F000\tneu\t[2.5000, 2.5000, 2.5000]\n\n"
    "[12.0000 - 13.0000]\tSes01F_impro05_F001\txxx\t[2.0000, 3.0000, 3.0000]\n\n"
    "[14.8872 - 18.0175]\tSes01F_impro05_M001\tsad\t[2.0000, 2.0000, 1.5000]\n\n"
    "[19.0000 - 20.0000]\tSes01F_impro05_M002\tsad\t[0.5000, 2.0000, 1.5000]\n")


def test_iemocap_context_and_vad_on_the_1_to_5_scale(tmp_path, media, capsys):
    root = tmp_path / "IEMOCAP_full_release"
    s1 = root / "Session1"
    write(s1 / "dialog" / "EmoEvaluation" / "Ses01F_impro05.txt", IEMOCAP_EVAL)
    write(s1 / "dialog" / "transcriptions" / "Ses01F_impro05.txt",
          "Ses01F_impro05_F000 [006.2901-008.2357]: Excuse me.\nSes01F_impro05_M000 [010.0100-011.3925]: What?\n"
          "Ses01F_impro05_F001 [012.0000-013.0000]: I said excuse me.\n")
    for utt in ("F000", "M000", "F001", "M001", "M002"):
        put(media["wav"], s1 / "sentences" / "wav" / "Ses01F_impro05" / f"Ses01F_impro05_{utt}.wav")
    out = tmp_path / "iemocap.jsonl"
    rc, rows, err = recipe(capsys, "iemocap", "--input", root, "--context", "2", "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["Ses01F_impro05_M000", "Ses01F_impro05_F000", "Ses01F_impro05_M001"]
    angry, neutral, sad = rows
    assert angry["vad"] == {"valence": 1.5, "arousal": 4.0, "dominance": 4.5}
    assert angry["vad_scale"] == {d: [1.0, 5.0] for d in ("valence", "arousal", "dominance")}
    assert angry["valence"] == -0.75  # (1.5 - 3) / 2: the polarity field keeps its meaning
    # by start time: F000 (6.3 s) comes before M000 (10.0 s) although listed after it
    assert _context_of(rows) == {"Ses01F_impro05_M000": [("F", "Excuse me.")], "Ses01F_impro05_F000": [],
                                 "Ses01F_impro05_M001": [("M", "What?"), ("F", "I said excuse me.")]}
    assert sad["context"][1]["audios"] == ["IEMOCAP_full_release/Session1/sentences/wav/Ses01F_impro05/"
                                           "Ses01F_impro05_F001.wav"]  # the xxx turn: context, not a sample
    assert "Ses01F_impro05.txt:11: [V, A, D] = [0.5000, 2.0000, 1.5000] is off the 1..5 rating scale" in err
    assert neutral["context"] == []


RECCON = {"tr_1": [[
    {"turn": 1, "speaker": "A", "utterance": "We won the match !", "emotion": "happiness",
     "expanded emotion cause evidence": [1], "expanded emotion cause span": ["We won the match"],
     "type": ["no-context"]},
    {"turn": 2, "speaker": "B", "utterance": "No way .", "emotion": "neutral"},
    {"turn": 3, "speaker": "A", "utterance": "Yes , the final score was 3 to 1 !", "emotion": "happiness",
     "expanded emotion cause evidence": [1, 3], "expanded emotion cause span": ["won the match", "3 to 1"],
     "type": ["self-contagion"]},
    {"turn": 4, "speaker": "B", "utterance": "Great .", "emotion": "happiness",
     "expanded emotion cause evidence": [5], "expanded emotion cause span": ["Great"], "type": ["no-context"]},
]]}


def test_reccon_context_target_turn_and_scoring_round_trip(tmp_path, capsys):
    root = write(tmp_path / "original_annotation" / "dailydialog_test.json", json.dumps(RECCON, indent=2)).parent
    out = tmp_path / "reccon.jsonl"
    rc, rows, err = recipe(capsys, "reccon", "--input", root, "--context", "1", "--out", out)
    assert rc == 0 and [r["id"] for r in rows] == ["reccon_test_tr_1_1", "reccon_test_tr_1_3"]
    assert "turn 4 of tr_1: cause span 'Great' has evidence 5, not a turn from 1 to 4" in err
    assert [r["target_turn"] for r in rows] == [1, 3]
    assert _context_of(rows) == {"reccon_test_tr_1_1": [], "reccon_test_tr_1_3": [("B", "No way .")]}
    assert rows[1]["cause_spans"] == [{"text": "won the match", "utterance": 1}, {"text": "3 to 1", "utterance": 3}]
    gold = {r["id"]: r for r in rows}
    perfect = {r["id"]: {"id": r["id"], "cause_spans": r["cause_spans"]} for r in rows}
    assert evaluate("cause-span", gold, perfect).scores == {"em_pos": 1.0, "f1_pos": 1.0, "f1_neg": 1.0, "f1": 1.0,
                                                             "pairs": 4, "positive_pairs": 3}
    # a model that names turn 2 as a cause of turn 3 and misses turn 1 there: pairs 1/1 tp, 3/1 fn, 3/2 fp, 3/3 tp
    guess = dict(perfect, reccon_test_tr_1_3={"id": "reccon_test_tr_1_3", "cause_utterances": [2, 3]})
    s = evaluate("cause-pair", gold, guess).scores
    assert s["pos_f1"] == pytest.approx(2 / 3) and s["neg_f1"] == 0.0 and s["acc"] == pytest.approx(2 / 4)


def test_avamerg_context_from_the_dialogue_history(tmp_path, media, capsys):
    root = tmp_path / "AvaMERG"
    history = [{"index": 1, "role": "speaker", "text": "I lost my job today."},
               {"index": 2, "role": "listener", "text": "Oh no, what happened?"},
               {"index": 3, "role": "speaker", "text": "They closed the office."}]
    conv = [{"conversation_id": "007", "topic": "work",
             "turns": [{"dialogue_history": history, "response": "That is hard.",
                        "chain_of_empathy": {"event_scenario": "Office closed.", "speaker_emotion": "sad",
                                             "emotion_cause": "Losing the job.", "goal_to_response": "Comfort."}}]}]
    write(root / "train.json", json.dumps(conv))
    for n in (1, 3):
        put(media["mp4"], root / "video" / f"dia7utt{n}.mp4")
    rc, rows, err = recipe(capsys, "avamerg", "--input", root, "--context", "5", "--out", root / "ava.jsonl")
    assert rc == 0, err
    context = rows[0]["context"]
    assert [(t["speaker"], t["text"]) for t in context] == [("speaker", "I lost my job today."),
                                                             ("listener", "Oh no, what happened?")]
    assert context[0]["videos"] == ["video/dia7utt1.mp4"] and "videos" not in context[1]


EMORY_HEADER = "Utterance,Speaker,Emotion,Scene_ID,Utterance_ID,Season,Episode,Start_Time,End_Time\n"


def test_emorynlp_scenes_labels_and_context(tmp_path, media, capsys):
    root = tmp_path / "EmoryNLP"
    write(root / "emorynlp_test_final.csv", EMORY_HEADER +
          "\"Hey, what's up?\",['Joey Tribbiani'],Joyful,1,1,1,1,00:00:01.000,00:00:02.000\n"
          "Nothing.,\"['Chandler Bing', 'Ross Geller']\",Neutral,1,2,1,1,a,b\n"
          "I'm so scared.,['Monica Geller'],Scared,1,3,1,1,a,b\n"
          "Whatever.,['Joey Tribbiani'],Bored,1,4,1,1,a,b\n"
          "Hi.,['Rachel Green'],Peaceful,2,1,1,1,a,b\n")
    rc, rows, err = recipe(capsys, "emorynlp", "--input", root, "--split", "test", "--text-only", "--context", "2",
                           "--out", tmp_path / "emory.jsonl")
    assert rc == 0 and [r["id"] for r in rows] == ["emorynlp_test_sea1_ep1_sc1_utt1", "emorynlp_test_sea1_ep1_sc1_utt2",
                                                   "emorynlp_test_sea1_ep1_sc1_utt3", "emorynlp_test_sea1_ep1_sc2_utt1"]
    assert [r["emotions"] for r in rows] == [["joyful"], ["neutral"], ["scared"], ["peaceful"]]
    assert rows[1]["speaker"] == "Chandler Bing and Ross Geller" and rows[0]["label"] == "joyful"
    assert "emorynlp_test_final.csv:5: unknown Emotion 'bored'" in err
    assert _context_of(rows)["emorynlp_test_sea1_ep1_sc1_utt3"] == [("Joey Tribbiani", "Hey, what's up?"),
                                                                     ("Chandler Bing and Ross Geller", "Nothing.")]
    assert rows[3]["context"] == []  # scene 2 is another conversation
    put(media["mp4"], root / "emorynlp_test_splits" / "sea1_ep1_sc1_utt1.mp4")
    rc, rows, err = recipe(capsys, "emorynlp", "--input", root, "--split", "test", "--out", tmp_path / "clips.jsonl")
    assert rc == 0 and [r["id"] for r in rows] == ["emorynlp_test_sea1_ep1_sc1_utt1"]
    assert rows[0]["videos"] == ["EmoryNLP/emorynlp_test_splits/sea1_ep1_sc1_utt1.mp4"]
    assert "clip 'sea1_ep1_sc1_utt2' not found" in err
    rc, _, err = recipe(capsys, "emorynlp", "--input", root, "--split", "dev", "--out", tmp_path / "dev.jsonl")
    assert rc == 2 and "emorynlp_dev_final.csv: EmoryNLP dev label file not found" in err


@pytest.mark.parametrize("context, message", [
    ("Ross: hi", '"context" must be a list of previous turns [{"speaker": ..., "text": ...}], got \'Ross: hi\''),
    ([{"speaker": "Ross", "utterance": "hi"}],
     "context turn 1 has unknown key(s) utterance; a turn holds speaker, text, videos, audios"),
    ([{"speaker": "Ross", "text": "hi"}, {"speaker": None, "text": "yo"}], 'context turn 2: "speaker" must be text, got None'),
    ([{"speaker": "Ross", "text": " "}], "context turn 1 has no text and no media; leave the turn out"),
    ([{"speaker": "Ross", "text": "hi", "videos": ["a.mp4", "b.mp4"]}], 'context turn 1: "videos" holds 2 files'),
    ([{"speaker": "Ross", "text": "hi", "audios": ["gone.wav"]}], "context: "),
])
def test_check_reports_malformed_context(tmp_path, capsys, context, message):
    sample = {"id": "s", "messages": [{"role": "user", "content": "Why?"}, {"role": "assistant", "content": "sad"}],
              "videos": [], "audios": [], "emotions": ["sad"], "context": context}
    manifest = write(tmp_path / "m.jsonl", json.dumps(sample) + "\n")
    assert main(["recipe", "check", str(manifest), "--json"]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert len(errors) == 1 and errors[0].startswith(f"{manifest}:1: ") and message in errors[0], errors
