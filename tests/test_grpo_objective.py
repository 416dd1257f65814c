"""The GRPO objective by hand, and the log-probabilities it is built on checked against `generate` itself."""

from __future__ import annotations

import math

import pytest
import torch

from affectllm.config.schema import GRPOSettings
from affectllm.training.grpo.objective import (GRPOLoss, clipped_objective, completion_logps, group_advantages,
                                               repeat_rows)


def test_group_advantages_by_hand():
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0])
    # group 1: mean 0.25, unbiased std sqrt((0.75² + 3·0.25²) / 3) = 0.5; group 2: all equal → 0
    expected = torch.tensor([0.75, -0.25, -0.25, -0.25, 0, 0, 0, 0])
    torch.testing.assert_close(group_advantages(rewards, 4, scale=False), expected)
    torch.testing.assert_close(group_advantages(rewards, 4), expected / (0.5 + 1e-4))


def test_clipped_objective_by_hand():
    old = torch.zeros(2, 2)
    logps = torch.tensor([[0.5, 0.0], [-0.5, 3.0]], requires_grad=True)  # ratios e^0.5, 1; e^-0.5 (2nd masked)
    adv, mask = torch.tensor([1.0, -1.0]), torch.tensor([[1, 1], [1, 0]])
    # row 0 (A = +1): min(1.6487, clip 1.2) = 1.2 and min(1, 1) = 1 → -1.2, -1;  row 1 (A = -1):
    # min(-0.6065, -clip 0.8) = -0.8 → +0.8.  sequence: ((-1.2 - 1) / 2 + 0.8) / 2;  token: (-1.2 - 1 + 0.8) / 3
    loss, stats = clipped_objective(logps, old, adv, mask, clip_eps=0.2)
    assert loss.item() == pytest.approx((-1.1 + 0.8) / 2)
    assert stats.clip_fraction == pytest.approx(2 / 3) and stats.kl == 0.0
    loss.backward()
    # a clipped token passes no gradient; an unclipped one passes -A · ratio / (row tokens · rows)
    torch.testing.assert_close(logps.grad, torch.tensor([[0.0, -0.25], [0.0, 0.0]]))
    token, _ = clipped_objective(logps.detach(), old, adv, mask, clip_eps=0.2, aggregation="token")
    assert token.item() == pytest.approx((-1.2 - 1 + 0.8) / 3)
    # KL (k3) to a reference 0.1 nat below: e^-0.1 + 0.1 - 1 per token, weighted by β
    kl_tok = math.exp(-0.1) + 0.1 - 1
    with_kl, stats = clipped_objective(logps.detach(), old, adv, mask, 0.2, ref_logps=logps.detach() - 0.1,
                                       kl_beta=0.5)
    assert stats.kl == pytest.approx(kl_tok, rel=1e-5)
    assert with_kl.item() == pytest.approx((-1.1 + 0.8) / 2 + 0.5 * kl_tok, rel=1e-5)


@pytest.fixture(scope="module")
def prompts(tiny_model):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from synthetic_task import make_split

    samples = make_split(3, seed=5)
    for i, sample in enumerate(samples):  # prompts of different lengths, so left padding matters
        sample["messages"][0]["content"] += " Why?" * (3 * i)
    batch = tiny_model.processor.collate([tiny_model.processor.prepare(s, generation=True) for s in samples],
                                         padding_side="left")
    return samples, batch


def test_completion_logps_equal_the_scores_generate_sampled_from(tiny_model, prompts):
    from transformers import GenerationConfig

    from affectllm.training.grpo.rollout import completion_mask, eos_ids

    _, batch = prompts
    model, g, temperature = tiny_model, 2, 0.7
    torch.manual_seed(0)
    with torch.no_grad():
        embeds = repeat_rows(model.embed(batch["input_ids"], batch["media_inputs"]), g)
        mask = repeat_rows(batch["attention_mask"], g)
        out = model.llm.generate(inputs_embeds=embeds, attention_mask=mask, return_dict_in_generate=True,
                                 output_logits=True, generation_config=GenerationConfig(
                                     do_sample=True, temperature=temperature, top_k=None, max_new_tokens=10,
                                     pad_token_id=model.tokenizer.pad_token_id, eos_token_id=eos_ids(model)))
        keep, _ = completion_mask(out.sequences, eos_ids(model))
        ours = completion_logps(model, embeds, mask, out.sequences, keep, temperature)
    # prompts of different lengths: the left padding must not change what the completion tokens see
    assert batch["attention_mask"].sum(1).unique().numel() > 1
    sampled = torch.log_softmax(torch.stack(out.logits, 1).float() / temperature, -1)
    expected = sampled.gather(-1, out.sequences[..., None])[..., 0] * keep
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


def test_reference_is_the_model_without_its_adapter_and_both_parts_learn(tiny_checkpoint, prompts):
    from peft.tuners.lora import LoraLayer

    from affectllm.pretrained import AffectLLM
    from affectllm.training.grpo.rollout import reference_logps, sample_completions, completion_mask, eos_ids

    samples, batch = prompts
    model = AffectLLM.from_checkpoint(tiny_checkpoint, trainable=True)
    torch.manual_seed(1)
    settings = GRPOSettings(group_size=2, max_new_tokens=6)
    for module in model.llm.modules():  # an adapter that has moved away from zero
        if isinstance(module, LoraLayer):
            torch.nn.init.normal_(module.lora_B["default"].weight, std=0.5)
    tokens, prompt_mask = sample_completions(model, batch["input_ids"], batch["attention_mask"],
                                             batch["media_inputs"], settings, 2)
    keep, _ = completion_mask(tokens, eos_ids(model))
    with torch.no_grad():
        prompt = repeat_rows(model.embed(batch["input_ids"], batch["media_inputs"]), 2)
        policy = completion_logps(model, prompt, prompt_mask, tokens, keep)
        ref = reference_logps(model, None, batch, batch["media_inputs"], prompt, prompt_mask, tokens, keep, settings)
        assert torch.equal(completion_logps(model, prompt, prompt_mask, tokens, keep), policy)  # adapter back on
        for module in model.llm.modules():
            if isinstance(module, LoraLayer):
                module.lora_B["default"].weight.zero_()
        base = completion_logps(model, prompt, prompt_mask, tokens, keep)
    torch.testing.assert_close(ref, base)
    assert not torch.allclose(ref, policy)

    # the loss reaches the LoRA weights and the fusion adapter (the prompt is embedded again, with gradients)
    loss_module = GRPOLoss(model, settings)
    loss = loss_module({"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
                        "media_inputs": batch["media_inputs"], "completion_ids": tokens, "completion_mask": keep,
                        "advantages": torch.tensor([1.0, -1.0] * 3), "ref_logps": ref})
    loss.backward()
    lora_b = [p for n, p in model.llm.named_parameters() if "lora_B" in n]  # (B is zero again; A gets none)
    assert lora_b and all(p.grad is not None and p.grad.abs().sum() > 0 for p in lora_b)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.fusion.parameters())
