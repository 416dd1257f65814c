"""One record schema: `affectllm.core.records.RECORD_FIELDS` lists every top-level key a result record can have,
the table of docs/data.md is that list, and the records real writers produce hold no key outside it. Also what
`recipe check` counts as the text a model reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectllm.cli import main
from affectllm.core.records import RECORD_FIELDS, RECORD_KEYS, ResultRecord, schema_markdown

REPO = Path(__file__).resolve().parents[1]


def test_docs_table_is_the_schema_and_the_readme_stands_alone():
    assert schema_markdown() in (REPO / "docs" / "data.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "DESIGN.md" not in readme and "../shared" not in readme
    assert set(ResultRecord.__dataclass_fields__) - {"extra"} <= RECORD_KEYS
    assert len(RECORD_KEYS) == len(RECORD_FIELDS)


def test_every_key_reads_as_an_attribute_and_the_json_keeps_its_shape():
    line = {"id": "a", "path": "a.mp4", "emotions": ["sad"], "explanation": "", "reasoning": {}, "cues": {},
            "model": "ckpt", "error": None, "raw_output": "Emotions: sad", "transcript": "so tired"}
    rec = ResultRecord.from_dict(line)
    assert rec.raw_output == "Emotions: sad" and rec.transcript == "so tired" and rec.parse_error is None
    assert rec.extra["raw_output"] == "Emotions: sad"  # code that reads extra keeps working
    assert rec.to_dict() == line
    fresh = ResultRecord("b")
    fresh.transcript = "hello"
    assert fresh.to_dict()["transcript"] == "hello" and fresh.extra == {"transcript": "hello"}
    with pytest.raises(AttributeError, match="no attribute 'raw_ouptut'"):
        fresh.raw_ouptut


def test_records_real_writers_produce_hold_only_schema_keys(tiny_model):
    from affectllm.benchmark.baselines import Baseline, baseline_records
    from affectllm.cues.backend import CueBackend
    from affectllm.media import MediaClip

    checkpoint = tiny_model.explain(subtitle="I am so happy", max_new_tokens=4)
    assert checkpoint.raw_output is not None and checkpoint.raw_output == checkpoint.to_dict()["raw_output"]
    cue = CueBackend().caption_clip(MediaClip(path=None), "x", subtitle="I am so angry with you, get out!")
    assert cue.answered_by == "cue-fusion" and cue.sentiment == cue.to_dict()["sentiment"] == "negative"
    gold = {"u1": {"id": "u1", "label": "joy", "valence": 0.5}}
    baseline = baseline_records(Baseline("majority", None), gold)[0]
    for record in (checkpoint.to_dict(), cue.to_dict(), baseline):
        assert set(record) <= RECORD_KEYS, set(record) - RECORD_KEYS


def test_recipe_check_counts_the_subtitle_line_and_names_bundled_tokenizers(tmp_path, capsys):
    subtitle = "one two three four five six seven eight nine ten"
    sample = {"id": "s", "messages": [{"role": "user", "content": "How does the speaker feel?"},
                                      {"role": "assistant", "content": "sad"}],
              "subtitle": subtitle, "emotions": ["sad"]}
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps(sample) + "\n")
    assert main(["recipe", "check", str(manifest), "--json"]) == 0
    # the question (5), `Subtitle:` and its 10 words (11), the target (1)
    assert json.loads(capsys.readouterr().out)["tokens"]["max"] == 17
    assert main(["recipe", "check", str(manifest), "--json", "--tokenizer", "bundled:all-minilm-l6-v2"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"]["max"] > 17
    assert main(["recipe", "check", str(manifest), "--tokenizer", "bundled:no-such-model"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith("--tokenizer bundled:no-such-model: unknown bundled model "
                                                 "'bundled:no-such-model'; bundled models: "
                                                 "bundled:smollm2-135m-instruct, bundled:all-minilm-l6-v2, "
                                                 "bundled:whisper-tiny.en")
