"""The RAVDESS recipe: labels from the file-name codes, speaker-independent splits by actor, every file accounted for.

Generated media under RAVDESS names (Actor_NN/MM-VV-EE-II-SS-RR-AA); the real speech in ../shared/data/ravdess
is converted when present.
"""

from pathlib import Path

import pytest
from recipe_helpers import assert_media_resolve, put, recipe, user_text, write

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess"


@pytest.fixture
def ravdess(tmp_path, media) -> Path:
    root = tmp_path / "RAVDESS"
    for name in ("03-01-05-02-01-01-01", "03-01-01-01-02-02-01", "03-02-04-01-01-01-01", "03-01-08-01-02-02-14",
                 "03-01-03-02-01-01-18"):
        put(media["wav"], root / f"Actor_{name[-2:]}" / f"{name}.wav")
    put(media["mp4"], root / "Video_Speech_Actor_02" / "Actor_02" / "01-01-06-01-01-01-02.mp4")
    put(media["mp4"], root / "Video_Speech_Actor_02" / "Actor_02" / "02-01-07-02-02-01-02.mp4")
    put(media["wav"], root / "Actor_01" / "03-01-09-01-01-01-01.wav")  # emotion 09 does not exist
    put(media["wav"], root / "Actor_01" / "03-01-01-02-01-01-01.wav")  # neutral has no strong intensity
    put(media["wav"], root / "Actor_01" / "03-01-04-01-01-01-02.wav")  # actor 02 in Actor_01's folder
    put(media["wav"], root / "Actor_01" / "take 3.wav")
    write(root / "Actor_01" / "notes.txt", "recorded in booth B\n")
    write(root / "README.md", "documentation beside the actor folders is not data\n")
    return root


def test_labels_fields_and_every_file_accounted_for(tmp_path, ravdess, capsys):
    out = tmp_path / "all.jsonl"
    rc, rows, err = recipe(capsys, "ravdess", "--input", ravdess, "--out", out, "--channel", "all")
    assert rc == 0
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"ravdess_03-01-05-02-01-01-01", "ravdess_03-01-01-01-02-02-01", "ravdess_03-02-04-01-01-01-01",
                          "ravdess_03-01-08-01-02-02-14", "ravdess_03-01-03-02-01-01-18",
                          "ravdess_01-01-06-01-01-01-02", "ravdess_02-01-07-02-02-01-02"}
    angry = by_id["ravdess_03-01-05-02-01-01-01"]
    assert (angry["label"], angry["emotions"], angry["intensity"], angry["statement"], angry["repetition"]) == \
        ("angry", ["angry"], "strong", 1, 1, )
    assert (angry["actor"], angry["speaker"], angry["gender"], angry["split"]) == (1, "Actor_01", "male", "train")
    assert angry["subtitle"] == "Kids are talking by the door" and angry["vocal_channel"] == "speech"
    assert angry["audios"] and not angry["videos"] and user_text(angry).startswith("<audio>")
    assert by_id["ravdess_03-01-08-01-02-02-14"]["subtitle"] == "Dogs are sitting by the door"
    assert by_id["ravdess_03-01-08-01-02-02-14"]["split"] == "dev"
    assert by_id["ravdess_03-01-08-01-02-02-14"]["gender"] == "female"
    assert by_id["ravdess_03-01-03-02-01-01-18"]["split"] == "test"
    assert by_id["ravdess_03-02-04-01-01-01-01"]["vocal_channel"] == "song"
    disgust = by_id["ravdess_02-01-07-02-02-01-02"]
    assert disgust["label"] == "disgust" and disgust["emotions"] == ["disgusted"] and disgust["valence"] < 0
    assert disgust["videos"] and not disgust["audios"] and user_text(disgust).startswith("<video>")
    assert "<audio>" not in user_text(disgust)  # video-only (02): seen, not heard
    assert user_text(by_id["ravdess_01-01-06-01-01-01-02"]).startswith("<video><audio>")
    assert_media_resolve(out, rows)
    assert "03-01-09-01-01-01-01.wav: unknown emotion code 09" in err
    assert "03-01-01-02-01-01-01.wav: neutral has no strong intensity" in err
    assert "03-01-04-01-01-01-02.wav: actor code 02 does not match its folder Actor_01" in err
    assert "take 3.wav: name 'take 3' is not seven two-digit codes" in err
    assert "notes.txt: not a RAVDESS media file" in err and "README.md" not in err
    assert "(5 rows skipped)" in err


def test_splits_actors_and_channel(tmp_path, ravdess, capsys):
    rc, rows, err = recipe(capsys, "ravdess", "--input", ravdess, "--out", tmp_path / "train.jsonl", "--split", "train")
    assert rc == 0 and {r["actor"] for r in rows} == {1, 2} and all(r["split"] == "train" for r in rows)
    assert "left out" in err and "song file (use --channel all or song to keep it)" in err
    rc, rows, _ = recipe(capsys, "ravdess", "--input", ravdess, "--out", tmp_path / "dev.jsonl", "--actors", "13-16")
    assert rc == 0 and [r["id"] for r in rows] == ["ravdess_03-01-08-01-02-02-14"]
    rc, rows, _ = recipe(capsys, "ravdess", "--input", ravdess / "Actor_01", "--out", tmp_path / "a1.jsonl",
                         "--channel", "song")
    assert rc == 0 and [r["id"] for r in rows] == ["ravdess_03-02-04-01-01-01-01"]
    for bad, message in ((("--actors", "1-30"), "RAVDESS actors are 1-24"), (("--actors", "x"), "such as 1-12"),
                         (("--split", "dev", "--actors", "1-12"), "holds no actor of --split dev")):
        rc, _, err = recipe(capsys, "ravdess", "--input", ravdess, "--out", tmp_path / "bad.jsonl", *bad)
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    rc, _, err = recipe(capsys, "ravdess", "--input", tmp_path / "nowhere", "--out", tmp_path / "n.jsonl")
    assert rc == 2 and "point --input at the RAVDESS root" in err


def test_drop_writes_the_words_alone_set(tmp_path, ravdess, capsys):
    """--drop audio: the same samples without their sound, as `caption --drop audio` would ask them."""
    rc, full, _ = recipe(capsys, "ravdess", "--input", ravdess, "--out", tmp_path / "full.jsonl", "--split", "train")
    rc2, words, _ = recipe(capsys, "ravdess", "--input", ravdess, "--out", tmp_path / "words.jsonl", "--split",
                           "train", "--drop", "audio")
    assert rc == rc2 == 0 and [r["id"] for r in words] == [r["id"] for r in full] and full[0]["audios"]
    for a, b in zip(full, words):
        assert b["audios"] == [] and "<audio>" not in user_text(b) and user_text(b) == user_text(a).replace("<audio>", "")
        assert b["subtitle"] == a["subtitle"] and b["messages"][1:] == a["messages"][1:]
    rc, _, err = recipe(capsys, "ravdess", "--input", ravdess, "--out", tmp_path / "x.jsonl", "--drop", "smell")
    assert rc == 2 and "--drop smell: smell is not a modality" in err and not (tmp_path / "x.jsonl").exists()


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/ravdess is not here")
def test_real_ravdess_actors_1_to_16(tmp_path, capsys):
    rc, rows, err = recipe(capsys, "ravdess", "--input", REAL, "--out", tmp_path / "r.jsonl")
    assert rc == 0 and len(rows) == 960 and "(0 rows skipped)" in err
    assert {r["split"] for r in rows} == {"train", "dev"}
    per_actor = {a: sum(r["actor"] == a for r in rows) for a in range(1, 17)}
    assert set(per_actor.values()) == {60}
    assert sum(r["label"] == "neutral" for r in rows) == 4 * 16
