"""The spine on real tiny architectures: every modality mix runs, checkpoints round-trip, LoRA trains."""

import json

import pytest
import torch
from model_helpers import trained_looking_model

from affectllm.model.conversation import SampleTooLong
from affectllm.pretrained import AffectLLM
from affectllm.model.processor import IGNORE_INDEX, inference_sample

QUESTION = "<video><audio>What is the person feeling?"


def test_every_modality_combination_runs(tiny_model, media_files):
    samples = [
        inference_sample(media_files["av"], QUESTION, subtitle="I can't believe it", sample_id="all-three"),
        inference_sample(media_files["audio"], QUESTION, sample_id="audio-only"),
        inference_sample(media_files["silent"], QUESTION, sample_id="video-only"),
        inference_sample(None, QUESTION, subtitle="What a lovely surprise", sample_id="text-only"),
        inference_sample(media_files["image"], QUESTION, sample_id="image"),
    ]
    prepared = [tiny_model.processor.prepare(s, generation=True) for s in samples]
    present = [sorted(p.media) for p in prepared]
    assert present == [["audio", "text", "video"], ["audio"], ["video"], ["text"], ["video"]]
    texts = tiny_model.generate(tiny_model.processor.collate(prepared, padding_side="left"), max_new_tokens=5)
    assert len(texts) == 5 and all(isinstance(t, str) for t in texts)


def test_batched_generation_matches_one_by_one(tiny_model, media_files):
    samples = [inference_sample(media_files["av"], QUESTION, subtitle="so tired of this"),
               inference_sample(None, "Tell me.", subtitle="hi")]
    prepared = [tiny_model.processor.prepare(s, generation=True) for s in samples]
    proc = tiny_model.processor
    batched = tiny_model.generate(proc.collate(prepared, padding_side="left"), max_new_tokens=8)
    single = [tiny_model.generate(proc.collate([p], padding_side="left"), max_new_tokens=8)[0] for p in prepared]
    assert batched == single


def test_only_assistant_turns_train(tiny_model, media_files):
    sample = inference_sample(media_files["av"], QUESTION)
    sample["messages"] += [{"role": "assistant", "content": "Calm.", "loss": False},
                           {"role": "user", "content": "And now?"},
                           {"role": "assistant", "content": "Happy."}]
    p = tiny_model.processor.prepare(sample)
    trained = tiny_model.tokenizer.decode([t for t in p.labels if t != IGNORE_INDEX])
    assert trained.startswith("Happy.") and "Calm" not in trained and "user" not in trained
    placeholders = set(tiny_model.placeholder_ids.values())
    assert all(l == IGNORE_INDEX for t, l in zip(p.input_ids, p.labels) if t in placeholders)


def test_truncation_never_cuts_a_placeholder(tiny_model, media_files):
    sample = inference_sample(media_files["av"], QUESTION)
    sample["messages"].append({"role": "assistant", "content": "word " * 400})
    proc = tiny_model.processor
    old = proc.max_length
    try:
        proc.max_length = 40
        p = proc.prepare(sample)  # the answer is cut, the media tokens survive
        assert len(p.input_ids) == 40
        proc.max_length = 5
        with pytest.raises(SampleTooLong, match="media placeholders reach token"):
            proc.prepare(sample)
    finally:
        proc.max_length = old


def test_checkpoint_round_trip_reproduces_logits_and_adapter_is_standard_peft(tiny_checkpoint, media_files, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = trained_looking_model(tiny_checkpoint, seed=1)
    sample = inference_sample(media_files["av"], QUESTION, subtitle="fine, whatever")
    sample["messages"].append({"role": "assistant", "content": "Annoyed."})
    batch = model.processor.collate([model.processor.prepare(sample)])
    model.eval()
    with torch.no_grad():
        before = model(batch).logits
    out = model.save_checkpoint(tmp_path / "ckpt")
    assert not list(out.rglob("*.bin")) and not list(out.rglob("*.pt")) and not list(out.rglob("*.pkl"))
    # the saved config points at the tiny base models outside `out`: trusted explicitly
    reloaded = AffectLLM.from_checkpoint(out, trusted=[tiny_checkpoint / "base"])
    with torch.no_grad():
        after = reloaded(batch).logits
    assert torch.allclose(before, after, atol=1e-5)
    assert not torch.allclose(before, AffectLLM.from_checkpoint(tiny_checkpoint)(batch).logits, atol=1e-3)
    # the adapter is an ordinary peft adapter
    cfg = json.loads((out / "adapter" / "adapter_config.json").read_text())
    base = AutoModelForCausalLM.from_pretrained(reloaded.cfg.model.llm)
    peft_model = PeftModel.from_pretrained(base, out / "adapter")
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert torch.allclose(peft_model(input_ids=ids).logits, reloaded.llm(input_ids=ids).logits, atol=1e-5)
    assert cfg["r"] == reloaded.cfg.model.lora.r


def test_gradient_checkpointing_still_trains_lora(tiny_checkpoint):
    model = AffectLLM.from_checkpoint(tiny_checkpoint, trainable=True)
    model.llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    sample = inference_sample(None, "How do they feel?", subtitle="ugh")  # text only: frozen embeddings only
    sample["messages"].append({"role": "assistant", "content": "Annoyed."})
    model(model.processor.collate([model.processor.prepare(sample)])).loss.backward()
    lora = [p for n, p in model.llm.named_parameters() if "lora_" in n]
    assert lora and all(p.grad is not None for p in lora)
    assert any(p.grad.abs().sum() > 0 for p in lora)
