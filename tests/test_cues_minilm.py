"""The text head's encoder without transformers gives transformers' BERT hidden states, token for token."""

from __future__ import annotations

import pytest
import torch

TEXTS = ["I can't believe you did that!", "ok", "", "Ça va? Naïve café — “quoted” words…", "word " * 300,
         "Oh my God, Ross! We were on a BREAK!!! 😀 中文"]


def test_minilm_matches_transformers_bert():
    from affectllm.bundled.packages import minilm_dir
    from affectllm.cues.heads.minilm import MiniLMEncoder
    from affectllm.encoders.text import TextEncoder

    ours, theirs = MiniLMEncoder(minilm_dir()), TextEncoder(str(minilm_dir()), max_tokens=128)
    a, b = ours.preprocess(TEXTS), theirs.preprocess(TEXTS)
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["attention_mask"], b["attention_mask"])
    assert a["input_ids"].shape[1] == 128  # the 300-word text is cut at max_tokens, the others padded to it
    with torch.no_grad():
        expected = theirs.model(**b, output_hidden_states=True).hidden_states
    got = ours.hidden_states(a)
    real = a["attention_mask"][..., None].bool()  # padding positions are never read (masked means)
    assert len(got) == len(expected) == ours.layers + 1
    for mine, ref in zip(got, expected):
        assert torch.allclose(mine * real, ref * real, atol=1e-5)


def test_minilm_refuses_a_folder_it_cannot_read(tmp_path):
    from affectllm.cues.heads.minilm import MiniLMEncoder
    from affectllm.core.errors import AffectLLMError

    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(AffectLLMError, match="no model.safetensors, tokenizer.json"):
        MiniLMEncoder(tmp_path)
