"""Conversation context reaching the model: the history rendered with speaker names, context turns' clips through
the same encoders and pre-fusion as <|affect_ctx_*|> tokens (splice check, broken clips, the feature cache), and a
synthetic dialogue task a tiny model solves with `--context 1` and cannot with `--context 0`, from the MELD recipe
through `affectllm train` to captioning."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest
import torch

from affectllm.core.errors import AffectLLMError, FeatureCountError
from affectllm.pretrained import AffectLLM
from affectllm.model.processor import EncoderFeatures, context_turn_sample
from affectllm.checkpoint.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUESTION = "<video><audio>What does Monica feel?"


def _model(tiny_checkpoint: Path, context_media: bool) -> AffectLLM:
    base = tiny_checkpoint / "base"
    cfg = tiny_config({k: base / k for k in ("llm", "audio", "vision", "text")})
    cfg.model.context_media = context_media
    torch.manual_seed(0)
    return AffectLLM.from_config(cfg).eval()


@pytest.fixture(scope="module")
def with_media(tiny_checkpoint):
    return _model(tiny_checkpoint, context_media=True)


def _sample(media_files, turns: list[dict]) -> dict:
    return {"id": "s1", "videos": [str(media_files["av"])], "subtitle": "I knew it.", "speaker": "Monica",
            "context": turns, "messages": [{"role": "user", "content": QUESTION},
                                           {"role": "assistant", "content": "surprised"}]}


def _turns(media_files) -> list[dict]:
    return [{"speaker": "Rachel", "text": "Where were you?", "videos": [str(media_files["silent"])]},
            {"speaker": "Ross", "text": "At work."},
            {"speaker": "Joey", "text": "", "audios": [str(media_files["audio"])]}]


def _shown(model: AffectLLM, ids: list[int]) -> str:
    """The rendered text with placeholder runs shortened to <name>×count."""
    text = model.tokenizer.decode(ids)
    return re.sub(r"(<\|affect_(\w+)\|>)\1*", lambda m: f"<{m.group(2)}>×{len(m.group(0)) // len(m.group(1))}", text)


def test_history_is_rendered_with_speaker_names_before_the_question(tiny_model, media_files):
    turns = [{"speaker": "Rachel", "text": "Where were you?", "videos": [str(media_files["silent"])]},
             {"speaker": "Ross", "text": "At work."}]
    sample = _sample(media_files, turns)
    shown = _shown(tiny_model, tiny_model.processor.prepare(sample, generation=True).input_ids)
    # context_media off (the default): earlier turns are text; the sample's own media as before
    assert ('user\nPrevious turns:\nRachel: "Where were you?"\nRoss: "At work."\nCurrent turn (Monica):\n'
            '<video>×2<audio>×2<text>×2Subtitle: "I knew it."\n<fused>×2\nWhat does Monica feel?') in shown
    plain = _shown(tiny_model, tiny_model.processor.prepare(dict(sample, context=[]), generation=True).input_ids)
    assert "Previous turns" not in plain and plain.endswith(shown.split("Current turn (Monica):\n")[1])
    bad = _sample(media_files, [{"speaker": "Ross", "text": "hi <|affect_video|>"}])
    with pytest.raises(AffectLLMError, match=r"^sample 's1': context turn 1 contains the reserved token <\|affect_video\|>$"):
        tiny_model.processor.prepare(bad, generation=True)
    with pytest.raises(AffectLLMError, match=r"sample 's1': context turn 1 has unknown key\(s\) utterance"):
        tiny_model.processor.prepare(_sample(media_files, [{"speaker": "Ross", "utterance": "hi"}]), generation=True)


def test_context_clips_become_their_own_tokens_from_the_same_encoders_and_fusion(with_media, media_files):
    model = with_media
    sample = _sample(media_files, _turns(media_files))
    prepared = model.processor.prepare(sample, generation=True)
    shown = _shown(model, prepared.input_ids)
    assert ('Previous turns:\nRachel: <ctx_video>×2<ctx_text>×2<ctx_fused>×2"Where were you?"\n'  # silent: no sound
            'Ross: <ctx_text>×2<ctx_fused>×2"At work."\n'  # its words through the text encoder
            'Joey: <ctx_audio>×2<ctx_fused>×2\nCurrent turn (Monica):\n<video>×2<audio>×2') in shown
    batch = model.processor.collate([prepared], padding_side="left")
    assert {m: v["rows"].tolist() for m, v in batch["media_inputs"].items() if m.startswith("ctx_")} == {
        "ctx_video": [0], "ctx_audio": [2], "ctx_text": [0, 1]}
    with torch.no_grad():
        embeds = model.embed(batch["input_ids"], batch["media_inputs"])[0]
        # Rachel's turn asked as a sample of its own: the same rows at its own placeholders
        alone = context_turn_sample(sample["context"][0], "s1", 1)
        alone["messages"][0]["content"] += "Who?"
        own = model.processor.collate([model.processor.prepare(alone, generation=True)], padding_side="left")
        own_embeds = model.embed(own["input_ids"], own["media_inputs"])[0]
    ids, own_ids = batch["input_ids"][0], own["input_ids"][0]
    for m in ("video", "text", "fused"):
        ctx_rows = embeds[ids == model.placeholder_ids["ctx_" + m]][:2]  # turn 1 comes first
        torch.testing.assert_close(ctx_rows, own_embeds[own_ids == model.placeholder_ids[m]], rtol=1e-4, atol=1e-5)
    # the splice check covers the context placeholders: features that do not match the text are one loud error
    del batch["media_inputs"]["ctx_audio"]
    with pytest.raises(FeatureCountError, match=r"<ctx_audio> features: 2 placeholder tokens in the text but 0 feature"):
        model.embed(batch["input_ids"], batch["media_inputs"])


def test_a_broken_context_clip_is_the_samples_error_naming_the_turn(with_media, media_files):
    sample = _sample(media_files, [{"speaker": "Ross", "text": "hm", "videos": [str(media_files["truncated"])]}])
    with pytest.raises(AffectLLMError) as err:
        with_media.processor.prepare(sample, generation=True)
    message = str(err.value)
    assert message.startswith("sample 's1': context turn 1: ") and "truncated.mp4" in message and "\n" not in message


def test_context_features_come_from_the_feature_cache(with_media, media_files, tmp_path):
    from affectllm.training.feature_cache import FeatureCache, build_feature_cache, cache_signature

    model = with_media
    sample = _sample(media_files, _turns(media_files))
    turn_samples = [context_turn_sample(t, "s1", k) for k, t in enumerate(sample["context"], start=1)]
    encoders = dict(model.encoders)
    signature = cache_signature(encoders, model.cfg.data.media, model.cfg.model.max_text_tokens)
    counts = build_feature_cache(turn_samples, None, encoders, model.processor, signature, tmp_path / "cache",
                                 num_workers=0, show_progress=False)
    assert counts["encoded"] == 3
    cache = FeatureCache.open(tmp_path / "cache", signature)
    cached = model.processor.prepare(sample, generation=True, cache=cache)
    decoded = model.processor.prepare(sample, generation=True)
    assert all(isinstance(v, EncoderFeatures) for turn in cached.context for v in turn.values())
    with torch.no_grad():
        embedded = [model.embed(batch["input_ids"], batch["media_inputs"])
                    for batch in (model.processor.collate([p]) for p in (cached, decoded))]
    torch.testing.assert_close(embedded[0], embedded[1], rtol=1e-4, atol=1e-5)


def test_caption_inputs_keep_a_manifest_entrys_context_speaker_and_scale(media_files, tmp_path):
    import shutil

    from affectllm.caption.inputs import collect_inputs

    shutil.copy(media_files["silent"], tmp_path / "earlier.mp4")
    question = [{"role": "user", "content": "How does she feel?"}]
    lines = [{"id": "a", "subtitle": "Fine.", "speaker": "Monica", "messages": question,
              "vad": {"valence": 2}, "vad_scale": {"valence": [1, 5]},
              "context": [{"speaker": "Ross", "text": "Hi.", "videos": ["earlier.mp4"]}]},
             {"id": "b", "subtitle": "Fine.", "messages": question, "context": [{"speaker": "Ross", "line": "Hi."}]}]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    good, bad = collect_inputs([str(manifest)])
    assert good.sample["context"] == [{"speaker": "Ross", "text": "Hi.", "videos": [str(tmp_path / "earlier.mp4")]}]
    assert good.sample["speaker"] == "Monica" and good.sample["vad_scale"] == {"valence": [1, 5]}
    assert bad.error == f"{manifest}:2: context turn 1 has unknown key(s) line; a turn holds speaker, text, videos, audios"


def test_grpo_encodes_context_turns_once_like_the_sample(with_media, media_files):
    from affectllm.training.grpo.rollout import encode_once

    model = with_media
    prepared = model.processor.prepare(_sample(media_files, _turns(media_files)), generation=True)
    batch = model.processor.collate([prepared], padding_side="left")
    once = encode_once(model, batch["media_inputs"])
    assert {m for m, v in once.items() if "features" in v} == set(batch["media_inputs"])  # ctx_* included
    with torch.no_grad():
        torch.testing.assert_close(model.embed(batch["input_ids"], once),
                                   model.embed(batch["input_ids"], batch["media_inputs"]), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- the synthetic dialogue task

CUES = {"red": "anger", "blue": "joy", "green": "sadness", "yellow": "surprise"}  # chance: 1 in 4
FILLER = "the a it this that is was face voice tone pitch says".split()
MELD_COLUMNS = ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID", "Season",
                "Episode", "StartTime", "EndTime"]


def _write_dialogues(path: Path, dialogues: int, seed: int) -> None:
    """MELD label rows of two-turn dialogues: Rachel names a colour among filler words, then Ross says filler only;
    Ross's emotion is fixed by Rachel's colour, so it can be known from the previous turn alone."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(MELD_COLUMNS)
        for d in range(dialogues):
            cue = rng.choice(list(CUES))
            words = [rng.choice(FILLER) for _ in range(10)]
            out.writerow([2 * d, " ".join(words[:3] + [cue] + words[3:5]), "Rachel", "neutral", "neutral", d, 0,
                          1, 1, "0", "0"])
            out.writerow([2 * d + 1, " ".join(words[5:]), "Ross", CUES[cue], "neutral", d, 1, 1, 1, "0", "0"])


@pytest.fixture(scope="module")
def dialogues(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dialogues") / "MELD"
    _write_dialogues(root / "train_sent_emo.csv", 160, seed=1)
    _write_dialogues(root / "dev_sent_emo.csv", 40, seed=2)
    return root


@pytest.mark.parametrize("context", [1, 0])
def test_dialogue_label_from_the_previous_turn(tiny_checkpoint, dialogues, tmp_path, context, capsys):
    from affectllm.caption.checkpoint_backend import CheckpointBackend
    from affectllm.caption.inputs import Hearing
    from affectllm.caption.inference import InferenceOptions
    from affectllm.caption.inputs import collect_inputs
    from affectllm.cli import main
    from affectllm.eval import evaluate
    from affectllm.training.trainer import train

    for split in ("train", "dev"):
        assert main(["recipe", "meld", "--input", str(dialogues), "--split", split, "--text-only",
                     "--context", str(context), "--out", str(tmp_path / f"{split}.jsonl")]) == 0
    base = tiny_checkpoint / "base"
    cfg = tiny_config({k: base / k for k in ("llm", "audio", "vision", "text")})
    cfg.model.audio_encoder = cfg.model.vision_encoder = None  # text only, as MELD's text: subtitle + text encoder
    cfg.model.prompt = "affectgpt_hybrid"
    cfg.data.train, cfg.data.num_workers = str(tmp_path / "train.jsonl"), 0
    t = cfg.train
    t.output_dir, t.max_steps, t.micro_batch_size, t.lr, t.warmup_steps = str(tmp_path / "run"), 300, 16, 3e-3, 10
    t.save_every, t.tensorboard, t.log_every, t.seed = 0, False, 100, 0
    final = train(cfg)["final"]

    model = AffectLLM.from_checkpoint(final, trusted=[base])
    backend = CheckpointBackend(model, max_new_tokens=12, options=InferenceOptions(merge_lora=False),
                                name="tiny", hearing=Hearing(asr=False))
    dev = [json.loads(line) for line in (tmp_path / "dev.jsonl").read_text().splitlines()]
    ross = [s for s in dev if s["speaker"] == "Ross"]  # the turns whose label the previous turn decides
    assert all(len(s["context"]) == 1 for s in ross) if context else all("context" not in s for s in ross)
    # the manifest read as `affectllm caption` / `affectllm benchmark` read it: each entry asks with its context
    items = [it for it in collect_inputs([str(tmp_path / "dev.jsonl")]) if it.id in {s["id"] for s in ross}]
    assert [it.sample.get("context") for it in items] == [s.get("context") for s in ross]
    records = backend.caption(items)
    accuracy = evaluate("closed", {s["id"]: s for s in ross}, {r.id: r.to_dict() for r in records}).scores["acc"]
    capsys.readouterr()
    if context:
        assert accuracy >= 0.9, [r.extra["raw_output"] for r in records[:8]]
    else:
        assert accuracy <= 0.45, accuracy  # chance is 0.25: Ross's words say nothing
