"""Optional LLM emotion extractor: any local instruct model reads an explanation and lists emotion words.

The reference scores free text by asking a 7B judge at temperature 0.7; we
decode greedily so the same text always gives the same list. The model's
answer is parsed as a comma-separated list; the words go through the same
scoring as any other prediction (official wheels or our vocabulary).
"""

from __future__ import annotations

import re
from pathlib import Path

from affectllm.errors import AffectLLMError

EXTRACTION_PROMPT = (
    "Read the description of a person below and list the emotions it says the person feels. "
    "Leave out emotions the description rules out (for example 'not angry'). "
    "Answer with the emotion words only, separated by commas, or 'none'.\n\nDescription: {text}\n\nEmotions:"
)
_ANSWER_ITEM = re.compile(r"[a-zA-Z][a-zA-Z' -]*[a-zA-Z]|[a-zA-Z]")


def parse_emotion_answer(answer: str, max_items: int = 12) -> list[str]:
    """Emotion words from a model answer: first line, comma/semicolon separated, lower-case, no duplicates."""
    first = next((ln for ln in answer.strip().splitlines() if ln.strip()), "")
    first = first.split(":", 1)[1] if first.lower().startswith("emotions:") else first
    out: list[str] = []
    for piece in re.split(r"[,;/]| and ", first):
        m = _ANSWER_ITEM.search(piece)
        if not m:
            continue
        word = m.group(0).lower().strip()
        if word in ("none", "no emotion", "no emotions") or len(word.split()) > 3:
            continue
        if word not in out:
            out.append(word)
    return out[:max_items]


class LLMEmotionExtractor:
    """Greedy emotion listing with a local causal LM (a transformers model directory)."""

    def __init__(self, model_dir: str | Path, max_new_tokens: int = 32, device: str = "cpu"):
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise AffectLLMError(f"--extractor model {model_dir} is not a folder; pass a local transformers model directory")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).to(device).eval()
        self.device = device
        self.max_new_tokens = max_new_tokens

    def prompt_ids(self, text: str):
        content = EXTRACTION_PROMPT.format(text=" ".join(text.split()))
        if getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": content}], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )["input_ids"]
        else:
            ids = self.tokenizer(content, return_tensors="pt")["input_ids"]
        return ids.to(self.device)

    def __call__(self, text: str) -> list[str]:
        ids = self.prompt_ids(text)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        with self.torch.no_grad():
            out = self.model.generate(
                ids, attention_mask=self.torch.ones_like(ids), do_sample=False, max_new_tokens=self.max_new_tokens, pad_token_id=pad
            )
        answer = self.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        return parse_emotion_answer(answer)
