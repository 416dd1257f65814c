"""`affectllm export` and the Python API: an export loads with plain transformers / peft and with
`AffectLLM.from_pretrained` from any folder, and answers exactly as the checkpoint it came from."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from model_helpers import trained_looking_model

from affectllm.cli import main
from affectllm.core.errors import AffectLLMError, ConfigError
from affectllm.pretrained import AffectLLM
from affectllm.model.processor import inference_sample

QUESTION = "<video><audio>What is the speaker feeling?"


@pytest.fixture(scope="module")
def trained(tiny_checkpoint, tmp_path_factory) -> Path:
    """A checkpoint whose LoRA and fusion weights moved away from their init (so merging changes weights),
    with a training.json as `affectllm train` writes one; its base models lie outside it."""
    model = trained_looking_model(tiny_checkpoint, seed=3)
    out = model.save_checkpoint(tmp_path_factory.mktemp("trained") / "final")
    (out / "training.json").write_text(json.dumps({
        "data": [{"path": "/data/train.jsonl", "samples": 10, "per_epoch": 10, "weight": 1.0}],
        "config": {"train": {"stage": "sft", "micro_batch_size": 2, "grad_accum": 1, "lr": 1e-3, "fusion_lr": None,
                             "lr_scheduler": "cosine", "warmup_steps": 0, "seed": 0, "deepspeed": None},
                   "data": {"max_length": 256}, "model": {}},
        "step": 5, "samples_seen": 10, "eval": {"task": "closed", "metric": "waf", "score": 0.5, "waf": 0.5,
                                                 "acc": 0.6, "samples": 10, "unparsed": 0},
        "best": {"step": 5, "score": 0.5}}))
    return out


def _logits(model: AffectLLM, media_files) -> torch.Tensor:
    sample = inference_sample(media_files["av"], QUESTION, subtitle="fine, whatever")
    sample["messages"].append({"role": "assistant", "content": "Annoyed."})
    batch = model.processor.collate([model.processor.prepare(sample)])
    model.eval()
    with torch.no_grad():
        return model(batch).logits


def test_export_merged_loads_with_plain_transformers_and_peft_from_another_folder(
        trained, tiny_checkpoint, media_files, tmp_path, monkeypatch, capsys):
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM

    original = AffectLLM.from_checkpoint(trained, trusted=[tiny_checkpoint])
    expected = _logits(original, media_files)
    out = tmp_path / "export"
    assert main(["export", str(trained), "--out", str(out), "--merge", "--copy-base", "--base",
                 str(tiny_checkpoint)]) == 0
    assert "LoRA merged" in capsys.readouterr().out
    config_text = (out / "affectllm.yaml").read_text()
    assert str(tmp_path) not in config_text and str(tiny_checkpoint) not in config_text  # nothing machine-bound
    assert not [p for p in out.rglob("*") if p.suffix in (".bin", ".pt", ".pkl")]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        via_peft = AutoPeftModelForCausalLM.from_pretrained(str(out / "adapter"))(input_ids=ids).logits
        merged = AutoModelForCausalLM.from_pretrained(str(out / "llm"))(input_ids=ids).logits
        reference = original.llm(input_ids=ids).logits
    assert torch.allclose(via_peft, reference, atol=1e-5)
    assert torch.allclose(merged, reference, atol=1e-4)
    base_only = AutoModelForCausalLM.from_pretrained(str(tiny_checkpoint / "base" / "llm"))
    assert not torch.allclose(base_only(input_ids=ids).logits, reference, atol=1e-3)  # the LoRA mattered

    # moved elsewhere, the export still loads with no --base: every path in it is inside it
    moved = shutil.move(str(out), str(tmp_path / "moved"))
    exported = AffectLLM.from_pretrained(moved)
    assert not exported.cfg.model.lora.enabled and Path(exported.cfg.model.llm) == Path(moved) / "llm"
    assert torch.allclose(_logits(exported, media_files), expected, atol=1e-4)

    card = (Path(moved) / "README.md").read_text()
    for text in ("## Use", "AffectLLM.from_pretrained", "## Training data", "train.jsonl", "## Recipe",
                 "5 optimizer steps", "closed-set weighted F1 0.5000", "merged into", "## Licence"):
        assert text in card, text


def test_export_without_copy_names_the_flag_and_loads_with_it(trained, tiny_checkpoint, tmp_path):
    from affectllm.checkpoint.layout import read_training_record
    from affectllm.checkpoint.export import export_model

    model = AffectLLM.from_checkpoint(trained, trusted=[tiny_checkpoint])
    report = export_model(model, tmp_path / "plain", training=read_training_record(trained))
    assert set(report.outside) == {"llm", "audio_encoder", "vision_encoder", "text_encoder"}
    assert report.load_hint().startswith(f"--base llm={(tiny_checkpoint / 'base' / 'llm').resolve()}")
    with pytest.raises(ConfigError, match=r"model.llm points outside the checkpoint .* --base llm="):
        AffectLLM.from_pretrained(tmp_path / "plain")
    again = AffectLLM.from_pretrained(tmp_path / "plain", trusted=[tiny_checkpoint])
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        assert torch.allclose(again.llm(input_ids=ids).logits, model.llm(input_ids=ids).logits, atol=1e-5)
    assert json.loads((tmp_path / "plain" / "training.json").read_text())["step"] == 5
    # a second export to the same folder is refused unless asked for; a foreign folder never is replaced
    with pytest.raises(AffectLLMError, match="not empty; choose a new folder or pass --overwrite"):
        export_model(model, tmp_path / "plain")
    export_model(model, tmp_path / "plain", overwrite=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(AffectLLMError, match="not an affectllm export"):
        export_model(model, tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_save_pretrained_and_explain(trained, tiny_checkpoint, media_files, tmp_path):
    model = AffectLLM.from_checkpoint(trained, trusted=[tiny_checkpoint])
    report = model.save_pretrained(tmp_path / "api", copy_base=True, card_name="me/affect")  # as push_to_hub names it
    assert report.outside == {} and (tmp_path / "api" / "base" / "vision_encoder" / "config.json").is_file()
    assert 'AffectLLM.from_pretrained("me/affect")' in (tmp_path / "api" / "README.md").read_text()
    loaded = AffectLLM.from_pretrained(tmp_path / "api")
    # with a subtitle given, nothing is transcribed: the answer depends on the weights alone
    record = loaded.explain(media_files["av"], subtitle="fine, whatever", max_new_tokens=8)
    assert record.error is None and record.id == str(media_files["av"]) and record.extra["raw_output"]
    same = model.explain(media_files["av"], subtitle="fine, whatever", max_new_tokens=8)
    assert record.extra["raw_output"] == same.extra["raw_output"]  # the export answers as the checkpoint does
    broken = loaded.explain(media_files["empty"], max_new_tokens=8)
    assert broken.emotions == [] and "empty" in broken.error
    text_only = loaded.explain(subtitle="I am so happy", max_new_tokens=4)
    assert text_only.error is None and text_only.path is None


def test_hub_operations_offline_say_what_to_run(trained, tiny_checkpoint, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match=r"'nobody/no-such-affect-model' .* HF_HUB_OFFLINE is set; .*"
                                          r"`hf download nobody/no-such-affect-model`"):
        AffectLLM.from_pretrained("nobody/no-such-affect-model")
    model = AffectLLM.from_checkpoint(trained, trusted=[tiny_checkpoint])
    with pytest.raises(AffectLLMError, match=r"HF_HUB_OFFLINE is set; .* `hf upload me/affect DIR`"):
        model.push_to_hub("me/affect")
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def _card_python(card: str) -> str:
    return card.split("```python\n", 1)[1].split("```", 1)[0]


def test_card_reads_the_benchmark_report_and_its_snippet_runs_where_the_export_was_made(
        trained, tiny_checkpoint, tmp_path, monkeypatch, capsys):
    # the documented loop: benchmark (baselines alone are enough for a report) -> export --metrics report.json
    samples = [{"id": f"u{i}", "messages": [{"role": "user", "content": "How does the speaker feel?"}],
                "subtitle": text, "label": label, "valence": valence, "dataset": "MELD"}
               for i, (text, label, valence) in enumerate([("I love it", "joy", 0.5), ("Go away", "anger", -0.5),
                                                           ("Yay!", "joy", 0.5), ("Ugh", "anger", -0.5)])]
    (tmp_path / "meld_dev.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    monkeypatch.chdir(tmp_path)
    assert main(["benchmark", "--data", "meld_dev.jsonl", "--baselines", "majority", "--out", "bench",
                 "--quiet"]) == 0
    base = ["--base", str(tiny_checkpoint)]
    assert main(["export", str(trained), "--out", "exports/card", "--copy-base",
                 "--metrics", "bench/report.json"] + base) == 0
    card = (tmp_path / "exports" / "card" / "README.md").read_text()
    assert "**MELD** — 4 samples (`meld_dev.jsonl`)" in card
    head = next(line for line in card.splitlines() if line.startswith("| model | hit rate"))
    for words in ("hit rate (emotion wheel)", "closed-set weighted F1", "closed-set accuracy",
                  "sentiment weighted F1", "sentiment accuracy"):
        assert words in head, words
    assert "details." not in card and "MELD/closed" not in card
    assert "| majority | 0.500 | 0.333 | 0.500 |" in card  # half the samples are the majority class
    # the snippet, as the card prints it, from the folder the export was made in
    snippet = _card_python(card)
    assert 'AffectLLM.from_pretrained("exports/card")' in snippet
    capsys.readouterr()
    exec(compile(snippet, "card", "exec"), {})
    assert capsys.readouterr().out.startswith("[")  # print(record.emotions, ...)
    # the folder itself names its report; the older shape still renders
    assert main(["export", str(trained), "--out", "exports/old", "--metrics", "bench"] + base) == 0
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"models": {"trained": {"closed": {"waf": 0.55}, "hit_rate_official": 0.37}}}))
    assert main(["export", str(trained), "--out", "exports/old", "--metrics", str(old), "--overwrite"] + base) == 0
    card = (tmp_path / "exports" / "old" / "README.md").read_text()
    assert "| model | closed-set weighted F1 | hit rate (emotion wheel, official) |" in card
    assert main(["export", str(trained), "--out", "exports/x", "--metrics", "nowhere.json"] + base) == 2
    assert "--metrics nowhere.json: no such file; pass the report.json" in capsys.readouterr().err
