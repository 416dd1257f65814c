"""An export reads only the checkpoint: no link leads it out, training.json names no file it opens, and it never
removes a folder it did not create."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from affectllm.cli import main
from fault_helpers import error_line

TRAINING = {"data": [{"path": "/data/train.jsonl", "samples": 10, "per_epoch": 10, "weight": 1.0,
                      "datasets": ["meld"]}],
            "config": {"train": {"stage": "sft"}, "data": {"max_length": 256}, "model": {}},
            "step": 5, "samples_seen": 10}


@pytest.fixture
def ckpt(tiny_checkpoint, tmp_path) -> Path:
    """A private copy of the tiny checkpoint (its base models inside it) with a training record."""
    copy = Path(shutil.copytree(tiny_checkpoint, tmp_path / "ckpt"))
    (copy / "training.json").write_text(json.dumps(TRAINING))
    return copy


def _export(ckpt: Path, out: Path, *flags: str) -> int:
    return main(["export", str(ckpt), "--out", str(out), *flags])


def _strays(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_copy_base_copies_the_models_own_files_and_refuses_a_link_out(ckpt, tmp_path, capsys):
    llm = ckpt / "base" / "llm"
    (llm / "alias_config.json").symlink_to(llm / "config.json")  # a link inside the model: its file is copied
    out = tmp_path / "export"
    assert _export(ckpt, out, "--copy-base") == 0
    copied = out / "base" / "llm" / "alias_config.json"
    assert not copied.is_symlink() and copied.read_bytes() == (llm / "config.json").read_bytes()

    secret = tmp_path / "hf_token"
    secret.write_text("hf_SECRET")
    (llm / "token.json").symlink_to(secret)
    capsys.readouterr()
    assert _export(ckpt, tmp_path / "export2", "--copy-base") == 2
    line = error_line(capsys)
    assert f"model.llm: {llm / 'token.json'} is a link to {secret}, outside the model folder" in line
    assert _strays(tmp_path, {"ckpt", "export", "hf_token"}) == []  # nothing half-written left behind


def test_the_model_card_never_opens_what_training_json_names(ckpt, tmp_path):
    fifo = tmp_path / "train.jsonl"
    os.mkfifo(fifo)  # opening it for reading blocks until someone writes: an export that reads it hangs
    record = json.loads((ckpt / "training.json").read_text())
    record["data"][0]["path"] = str(fifo)
    (ckpt / "training.json").write_text(json.dumps(record))
    opened = []

    def unblock():  # succeeds only while a reader holds the FIFO open; then let it finish and say so
        while not done.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.05)
                continue
            opened.append(True)
            os.write(fd, b'{"dataset": "iemocap"}\n')
            os.close(fd)

    done = threading.Event()
    watcher = threading.Thread(target=unblock, daemon=True)
    watcher.start()
    try:
        assert _export(ckpt, tmp_path / "export") == 0
    finally:
        done.set()
        watcher.join()
    assert not opened
    card = (tmp_path / "export" / "README.md").read_text()
    assert "| train.jsonl | 10 | 10 | 1 |" in card and "MELD (Poria et al." in card


@pytest.mark.parametrize("field, value, problem", [
    ("data", [{"path": "/data/train.jsonl"}], "data[0].samples (and per_epoch) must be whole numbers"),
    ("data", [{"samples": 3}], 'data[0] has no "path" string'),
    ("best", {"score": "high"}, '"best" needs a numeric score and a step'),
])
def test_a_damaged_training_record_is_one_line(ckpt, tmp_path, capsys, field, value, problem):
    record = dict(TRAINING, **{field: value})
    (ckpt / "training.json").write_text(json.dumps(record))
    assert _export(ckpt, tmp_path / "export") == 2
    assert error_line(capsys).endswith(f"training.json: {problem}; the file is damaged — copy the checkpoint again, "
                                       "or delete training.json to go on without it")


def test_export_never_removes_folders_it_did_not_create(ckpt, tmp_path):
    out = tmp_path / "export"
    mine = {}
    for name in (".tmp-export", ".old-export"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.txt").write_text(f"the user's own {name}")
        mine[name] = (tmp_path / name / "notes.txt").read_text()
    assert _export(ckpt, out) == 0
    assert _export(ckpt, out, "--overwrite") == 0  # replaces the earlier export
    for name, text in mine.items():
        assert (tmp_path / name / "notes.txt").read_text() == text
    assert _strays(tmp_path, {"ckpt", "export", *mine}) == []
