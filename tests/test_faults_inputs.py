"""Text inputs a careless user brings are one line naming FILE:LINE, never a traceback: a manifest or eval file
that is not UTF-8, a CSV cell longer than the csv module allows (an unclosed quote)."""

from __future__ import annotations

import json

from affectllm.cli import main
from fault_helpers import error_line
from recipe_helpers import write

MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"


def test_a_file_that_is_not_utf8_is_one_line_in_caption_and_eval(tmp_path, capsys):
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps({"id": "a", "emotions": ["happy"]}).encode() + b"\n"
                      + b'{"id": "b", "subtitle": "caf\xe9"}\n')
    expected = f"{latin}:2: not UTF-8 text (byte 0xe9 at column 29); save the file as UTF-8"
    assert main(["eval", "ov", "--pred", str(latin), "--gold", str(latin)]) == 2
    assert error_line(capsys) == f"affectllm eval: error: {expected}"
    assert main(["caption", str(latin), "--out", str(tmp_path / "o.jsonl"), "--quiet"]) == 2
    assert error_line(capsys) == f"affectllm caption: error: {expected}"
    assert not (tmp_path / "o.jsonl").exists()


def test_a_csv_cell_over_the_csv_limit_is_one_line_naming_the_row(tmp_path, capsys):
    root = tmp_path / "meld"
    write(root / "dev_sent_emo.csv", MELD_HEADER +
          "1,Fine.,Phoebe,neutral,neutral,0,0,4,7,\"00:20:57,256\",\"00:21:00,049\"\n"
          "2,\"What?" + "!" * 140_000 + ",Monica,surprise,negative,0,1,4,7,0,0\n")  # the quote never closes
    assert main(["recipe", "meld", "--input", str(root), "--split", "dev", "--text-only",
                 "--out", str(tmp_path / "dev.jsonl")]) == 2
    line = error_line(capsys)
    assert line.startswith(f"affectllm recipe: error: {root / 'dev_sent_emo.csv'}:3: not readable as CSV: field "
                           "larger than field limit (131072) (usually a quote that is never closed)"), line
