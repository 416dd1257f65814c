"""`affectllm benchmark`: suites and dataset matching, baselines scored by hand, and the whole loop on the tiny
model: MELD recipe -> recipe check -> affectllm train -> benchmark (trained, LoRA off, baselines) -> paper table."""

from __future__ import annotations

import json
import random

import pytest

from affectllm.benchmark.baselines import Baseline, baseline_records, parse_baselines
from affectllm.benchmark.suites import extra_tasks, gold_tasks, known_dataset, suite_sources
from affectllm.cli import main
from affectllm.core.errors import AffectLLMError
from affectllm.eval.report import infer_task

MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
# the emotion is said in the utterance, among filler words the tiny tokenizer knows, so a short run learns it
CUES = {"joy": ("happy", "positive"), "sadness": ("sad", "negative"), "anger": ("angry", "negative"),
        "surprise": ("surprised", "positive")}
FILLER = "the a speaker character person face voice tone says what because seems appears shows evidence".split()


def write_meld(path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        emotion = list(CUES)[i % len(CUES)]
        word, sentiment = CUES[emotion]
        words = rng.sample(FILLER, 2)
        words.insert(rng.randrange(3), word)
        rows.append(f"{i + 1},{' '.join(words)},Joey,{emotion},{sentiment},{i},0,1,1,\"00:00:01,000\",\"00:00:02,000\"\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MELD_HEADER + "".join(rows))


def test_datasets_are_found_by_name_file_stem_or_dataset_field(tmp_path):
    assert known_dataset("meld_dev").name == "MELD" and known_dataset("mer2023-test3").name == "MER2023"
    assert known_dataset("cmu-mosi_test").name == "CMU-MOSI" and known_dataset("OV-MERD+").name == "OV-MERD+"
    assert known_dataset("sims-v2").name == "CH-SIMS v2" and known_dataset("iemocap/4class").name == "IEMOCAP"
    assert known_dataset("reccon") is None
    (tmp_path / "d").mkdir()
    for name, dataset in (("test_split.jsonl", "mosei"), ("d/meld.jsonl", "meld"), ("d/notes.jsonl", "reccon")):
        line = {"id": "a", "dataset": dataset, "valence": 0.5, "messages": [{"role": "user", "content": "?"}]}
        (tmp_path / name).write_text(json.dumps(line) + "\n")
    sources, notes = suite_sources("mer-unibench", [str(tmp_path / "test_split.jsonl"), str(tmp_path / "d")])
    # the first file by its samples' dataset field, the folder's by file name; in the suite's order
    assert [(s.name, s.tasks) for s in sources] == [("MELD", ("basic", "closed", "sentiment")),
                                                   ("CMU-MOSEI", ("sentiment",))]
    assert notes[0] == (f"{tmp_path / 'd/notes.jsonl'}: not a dataset of suite mer-unibench; skipped "
                        f"(name it NAME={tmp_path / 'd/notes.jsonl'} to include it)")
    assert notes[1].startswith("suite mer-unibench: not given, left out of the table: OV-MERD+, MER2023")
    sources, _ = suite_sources("auto", [f"mine={tmp_path / 'd/notes.jsonl'}"])
    assert [(s.name, s.tasks) for s in sources] == [("mine", None)]  # decided from its gold fields
    with pytest.raises(AffectLLMError, match="is not a dataset of suite mer-unibench"):
        suite_sources("mer-unibench", [f"mine={tmp_path / 'd/notes.jsonl'}"])
    with pytest.raises(AffectLLMError, match="are both MELD"):
        suite_sources("auto", [str(tmp_path / "d/meld.jsonl"), f"MELD={tmp_path / 'd/notes.jsonl'}"])
    with pytest.raises(AffectLLMError, match="no such manifest file or folder"):
        suite_sources("auto", [str(tmp_path / "missing.jsonl")])


def test_ratings_and_cause_spans_add_their_tasks():
    iemocap = [{"id": "a", "label": "sad", "emotions": ["sad"], "vad": {"valence": 2.0, "arousal": 1.5},
                "vad_scale": {"valence": [1, 5], "arousal": [1, 5]}}]
    reccon = [{"id": "b", "emotions": ["happy"], "target_turn": 3, "cause_spans": [{"text": "I won", "utterance": 1}]}]
    assert extra_tasks(iemocap) == ("vad",) and gold_tasks(iemocap) == ("basic", "closed", "vad")
    assert gold_tasks(reccon) == ("cause-span", "cause-pair")
    assert extra_tasks([{"id": "c", "label": "sad"}]) == ()
    assert infer_task({"b": reccon[0]}) == "cause-span" and infer_task({"d": {"id": "d", "vad": {"arousal": 2}}}) == "vad"


def test_baselines_predict_the_majority_or_a_constant():
    gold = {"1": {"label": "joy", "valence": 0.5}, "2": {"label": "joy", "valence": 0.4},
            "3": {"label": "anger", "valence": -0.7}, "4": {"emotions": ["sad"], "valence": 0}}
    (majority,) = parse_baselines("majority")[0]
    assert [r["emotions"] for r in baseline_records(majority, gold)] == [["joy"]] * 4
    assert {r["sentiment"] for r in baseline_records(majority, gold)} == {"positive"}  # 2 of 3 non-zero valences
    assert baseline_records(Baseline("constant:sad", "sad"), gold)[0] == {"id": "1", "emotions": ["sad"],
                                                                          "model": "constant:sad", "error": None}
    assert parse_baselines("constants, constant:calm") == ([Baseline("constant:calm", "calm")], True)
    with pytest.raises(AffectLLMError, match="--baselines mode: unknown baseline"):
        parse_baselines("mode")


@pytest.fixture(scope="module")
def trained(tiny_checkpoint, tmp_path_factory, one_torch_thread):
    """MELD (text only) through recipe, check and `affectllm train` on the tiny model (one torch thread: a
    hidden-64 model's matmuls lose more to thread hand-offs than they gain, ~15x slower on a loaded 2-core box)."""
    d = tmp_path_factory.mktemp("loop")
    write_meld(d / "MELD.Raw" / "train_sent_emo.csv", 64, seed=0)
    write_meld(d / "MELD.Raw" / "dev_sent_emo.csv", 24, seed=1)
    for split in ("train", "dev"):
        assert main(["recipe", "meld", "--input", str(d / "MELD.Raw"), "--split", split, "--text-only",
                     "--out", str(d / f"meld_{split}.jsonl")]) == 0
        assert main(["recipe", "check", str(d / f"meld_{split}.jsonl")]) == 0
    # the LLM reads the utterance as the subtitle line; no encoders and one thread keep the 160 steps to seconds
    # (96 steps left the dev hit rate near 0.5 on some thread counts; 160 reach ~0.9)
    assert main(["train", str(tiny_checkpoint), f"data.train={d / 'meld_train.jsonl'}", "data.num_workers=0",
                 "model.audio_encoder=", "model.vision_encoder=", "model.text_encoder=", "model.prefusion=none",
                 "model.prompt=affectgpt_hybrid",
                 f"train.output_dir={d / 'run'}", "train.max_steps=160", "train.micro_batch_size=8", "train.lr=1e-2",
                 "train.fusion_lr=1e-2", "train.warmup_steps=2", "train.save_every=0", "train.tensorboard=false",
                 "train.seed=0"]) == 0
    return d


def test_from_checkpoint_to_paper_table(trained, tiny_checkpoint, capsys):
    d, out = trained, trained / "bench"
    argv = ["benchmark", str(d / "run" / "final"), "--data", str(d / "meld_dev.jsonl"), "--out", str(out),
            "--adapter", "both", "--baselines", "majority,constants", "--base", str(tiny_checkpoint / "base"),
            "--max-new-tokens", "12", "--workers", "0", "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    final = str(d / "run" / "final")
    # the four labels are equally frequent and joy comes first: the majority row answers joy, so constant:joy
    # would repeat it and is left out, and the footnote says so
    names = [final, f"{final} (LoRA off)", "majority", "constant:sadness", "constant:anger", "constant:surprise"]
    assert list(report["models"]) == names
    assert report["footnotes"] == ["majority on MELD: every sample answered 'joy' (its most frequent label) and "
                                   "'positive' (its most frequent polarity); constant:joy would be the same answer "
                                   "and is not repeated."]
    assert report["footnotes"][0] in (out / "report.md").read_text()
    assert [(c["name"], c["metric"], c["main"]) for c in report["datasets"]] == [
        ("MELD", "hit_rate", True), ("MELD/closed", "waf", False), ("MELD/sentiment", "waf", False)]
    assert report["data"]["MELD"]["samples"] == 24 and report["suite"] == "auto"
    assert report["command"].startswith("affectllm benchmark ")
    # constant answers, scored by hand: 6 of 24 right, one class of four -> WAF = 6/24 * (2*0.25/1.25) = 0.1
    const = report["models"]["majority"]["details"]["MELD/closed"]
    assert const["acc"] == pytest.approx(0.25) and const["waf"] == pytest.approx(0.25 * 0.4)
    # sentiment: 12 positive and 12 negative utterances; joy -> positive: acc 0.5, WAF 0.5 * 2/3
    assert report["models"]["majority"]["details"]["MELD/sentiment"]["waf"] == pytest.approx(1 / 3)
    # what a paper reports beside the score: samples, per-class table, confusion matrix (also as a PNG), intervals
    stats = report["models"]["majority"]["stats"]["MELD/closed"]
    assert stats["counts"] == {"scored": 24, "skipped": 0, "missing_predictions": 0}
    assert stats["per_class"]["joy"] == {"support": 6, "precision": 0.25, "recall": 1.0, "f1": 0.4}
    assert stats["per_class"]["anger"] == {"support": 6, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert [row[stats["confusion"]["predicted"].index("joy")] for row in stats["confusion"]["matrix"]] == [6] * 4
    assert (out / "confusion" / "majority" / "MELD_closed.png").read_bytes()[:4] == b"\x89PNG"
    for entry in report["models"].values():
        for column, (lo, hi) in entry["ci"].items():
            assert lo <= entry["scores"][column] <= hi
    # the trained model reads the emotion word out of the utterance (better than any constant answer);
    # its base LLM alone answers noise
    scores = {name: entry["scores"]["MELD"] for name, entry in report["models"].items()}
    assert scores[final] >= 0.5 and scores[final] > max(v for k, v in scores.items() if k != final)
    assert report["models"][final]["details"]["MELD/closed"]["acc"] >= 0.5
    assert report["runs"][final]["MELD"]["failed"] == 0
    preds = [json.loads(x) for x in (out / "predictions" / "_".join(final.strip("/").split("/")) / "MELD.jsonl")
             .read_text().splitlines()]
    assert len(preds) == 24 and "transcript" not in preds[0]  # every utterance has its subtitle: no ASR
    assert f"| {final} |" in printed and (out / "report.md").read_text() in printed
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    # resumable: a rerun captions nothing again and writes the same table
    assert main(argv) == 0
    assert "0 ok, 0 failed, 24 already done" in capsys.readouterr().err
    assert json.loads((out / "report.json").read_text())["models"] == report["models"]


def test_inputs_are_checked_before_the_first_sample(tiny_checkpoint, tmp_path, capsys):
    """A wrong path, checkpoint, wheel folder or manifest is one error line before any model answers: nothing is
    predicted, so the mistake costs seconds, not the generation time."""
    rows = [{"id": f"u{i}", "label": label, "valence": 0.5 if label == "joy" else -0.5, "subtitle": "so it goes",
             "messages": [{"role": "user", "content": "Which emotion?"},
                          {"role": "assistant", "content": f"The character's emotional state is {label}."}]}
            for i, label in enumerate(["joy", "anger"] * 4)]
    manifest = tmp_path / "meld_dev.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    missing_media = tmp_path / "meld_media.jsonl"
    missing_media.write_text(json.dumps(dict(rows[0], videos=["clips/gone.mp4"], messages=[
        {"role": "user", "content": "<video>Which emotion?"}])) + "\n")
    (tmp_path / "a_file").write_text("")
    (tmp_path / "not_a_checkpoint").mkdir()
    out = tmp_path / "bench"
    base = ["--base", str(tiny_checkpoint / "base"), "--workers", "0", "--quiet", "--max-new-tokens", "4"]
    cases = [
        ([str(tiny_checkpoint), "--data", str(manifest), "--wheel-dir", str(tmp_path / "no_wheels"), *base],
         "--wheel-dir"),
        ([str(tmp_path / "not_a_checkpoint"), "--data", str(manifest), *base], "not an affectllm checkpoint"),
        ([str(tiny_checkpoint), "--data", f"MELD={missing_media}", *base], "gone.mp4 does not exist"),
        ([str(tiny_checkpoint), "--data", str(manifest), "--whisper", str(tmp_path), *base], "--whisper"),
    ]
    for argv, expected in cases:
        assert main(["benchmark", *argv, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert expected in err and len(err.splitlines()) == 1 and "error:" in err
        assert not (out / "predictions").exists()
    assert main(["benchmark", str(tiny_checkpoint), "--data", str(manifest), "--out", str(tmp_path / "a_file"),
                 *base]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_explain_asks_the_question_the_checkpoint_was_trained_on(trained, tiny_checkpoint):
    """The run records what its manifest asked (training.json "questions"); explain, caption --model and the demo
    (one backend) ask that question and parse with that style, seen in the prompt the model is given. A
    checkpoint without the record keeps its template's question."""
    import shutil

    from affectllm import AffectLLM
    from affectllm.caption.inputs import CaptionItem
    from affectllm.core.manifest import MEDIA_TAG_RE

    final = trained / "run" / "final"
    first = json.loads((trained / "meld_train.jsonl").read_text().splitlines()[0])
    asked = MEDIA_TAG_RE.sub("", first["messages"][0]["content"]).strip()
    assert asked.startswith("Which emotions does the character show?")
    questions = json.loads((final / "training.json").read_text())["questions"]
    assert questions["samples"] == 64 and questions["distinct"] == 1
    assert questions["prompts"] == [{"text": asked, "count": 64}]
    assert questions["styles"] == [{"style": "affectgpt_hybrid", "count": 64}]
    assert 8 <= questions["answer_tokens"]["max"] <= 40  # "The character's emotional state is surprise."

    def prompt_of(model, subtitle: str) -> str:
        backend = model._explainer[1]
        prepared = backend.preparer().prepare(CaptionItem("text", None, subtitle))
        return model.tokenizer.decode(prepared.input_ids)

    trusted = [str(tiny_checkpoint / "base")]
    model = AffectLLM.from_checkpoint(final, trusted=trusted)
    record = model.explain(subtitle="the speaker is happy", max_new_tokens=16)
    shown = prompt_of(model, "the speaker is happy")
    assert asked in shown and "Describe the character" not in shown
    # answered in the trained format and parsed ("joy" is written "joyful" by the recipe)
    assert record.extra["raw_output"].startswith("The character's emotional state is") and record.emotions

    old = trained / "old_checkpoint"
    shutil.copytree(final, old, dirs_exist_ok=True)
    record_file = json.loads((old / "training.json").read_text())
    del record_file["questions"]
    (old / "training.json").write_text(json.dumps(record_file))
    old_model = AffectLLM.from_checkpoint(old, trusted=trusted)
    old_model.explain(subtitle="the speaker is happy", max_new_tokens=2)
    assert "Describe the character's emotional cues" in prompt_of(old_model, "the speaker is happy")


def test_lora_off_answers_are_capped_near_the_trained_answer_length(trained, tiny_checkpoint, capsys):
    """Without its adapter the base LLM never learnt to stop: the row's answers stop at twice the longest trained
    answer (at least 32 tokens) instead of 256, and the run says so before it starts; an explicit larger
    --max-new-tokens is kept, with a note that it will be slow."""
    d, final = trained, str(trained / "run" / "final")

    def lora_off_answers(out, *extra) -> list[str]:
        assert main(["benchmark", final, "--data", str(d / "meld_dev.jsonl"), "--out", str(out), "--adapter", "off",
                     "--limit", "2", "--base", str(tiny_checkpoint / "base"), "--workers", "0", "--quiet",
                     *extra]) == 0
        folder = next((out / "predictions").iterdir())
        return [json.loads(line)["raw_output"] for line in (folder / "MELD.jsonl").read_text().splitlines()]

    capped = lora_off_answers(d / "bench_off")
    err = capsys.readouterr().err
    longest = json.loads((d / "run" / "final" / "training.json").read_text())["questions"]["answer_tokens"]["max"]
    cap = max(32, 2 * longest)
    assert f"{final} (LoRA off): without its adapter" in err and f"stop at {cap} tokens" in err
    report = json.loads((d / "bench_off" / "report.json").read_text())
    assert report["runs"][f"{final} (LoRA off)"]["max_new_tokens"] == cap
    full = lora_off_answers(d / "bench_off_256", "--max-new-tokens", "256")
    assert "expect every answer to run to --max-new-tokens 256" in capsys.readouterr().err
    # the random base LLM never stops: its answers run to the limit either way
    assert sum(map(len, capped)) * 256 / cap == pytest.approx(sum(map(len, full)), rel=0.5)
