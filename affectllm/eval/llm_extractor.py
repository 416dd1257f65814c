"""LLM-judge emotion extraction (``--extractor MODEL_DIR``): a local instruct model lists the emotions of a description.

This is how MER-UniBench turns free text into open-vocabulary labels. The
prompt below is the reference's wording, reproduced from
``reason_to_openset_qwen`` in zeroQiaoba/MERTools,
``MER2025/MER2025_Track23/toolkit/utils/qwen.py`` (commit 89120b7; the same
function serves ``evaluation.py`` and ``ovlabel_extraction.py`` there). The
reference sends it as the only user message of the model's chat template,
samples with temperature 0.7, top-p 0.8, repetition penalty 1.05 and at most
512 new tokens (``decoding="reference"``, seeded here so a run repeats), then
strips "Output"/"Input" prefixes and line breaks and reads the answer as a
list (``"[happy, sad]"``). ``decoding="greedy"`` (default) gives the same
list for the same text every time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from affectllm.core.errors import AffectLLMError
from affectllm.eval.wheel import parse_label_list

EXTRACTION_PROMPT = (
    "Please assume the role of an expert in the field of emotions. "
    "We provide clues that may be related to the emotions of the characters. "
    "Based on the provided clues, please identify the emotional states of the main character. "
    "The main character is the one with the most detailed clues. "
    "Please separate different emotional categories with commas and output only the clearly identifiable "
    "emotional categories in a list format. "
    "If none are identified, please output an empty list. "
    "Input: We cannot recognize his emotional state; Output: [] "
    "Input: His emotional state is happy, sad, and angry; Output: [happy, sad, angry] "
    "Input: {text}; Output: "
)
# The reference's sampling for this prompt (vllm SamplingParams in the same repository).
REFERENCE_SAMPLING = {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "repetition_penalty": 1.05}
REFERENCE_MAX_NEW_TOKENS = 512
DECODINGS = ("greedy", "reference")
# Prefixes the reference strips from an answer, in its order.
_ANSWER_PREFIXES = ("输入", "输出", "翻译", "让我们来翻译一下：", "output", "Output", "input", "Input")
_WORDY = re.compile(r"[a-z][a-z' -]*[a-z]|[a-z]")


def clean_answer(answer: str) -> str:
    """The reference's post-processing: strip, drop one leading "Output"/"Input"-style prefix and a colon, join lines."""
    answer = answer.strip()
    for prefix in _ANSWER_PREFIXES:
        if answer.startswith(prefix):
            answer = answer[len(prefix) :]
    answer = answer.strip()
    for colon in (":", "："):
        if answer.startswith(colon):
            answer = answer[len(colon) :]
    return answer.strip().replace("\n", "").strip()


def parse_emotion_answer(answer: str, max_items: int = 12) -> list[str]:
    """Emotion items of a judge's answer, read as the reference reads it (``"[happy, sad]"`` -> two items).

    Items are lower-cased and stripped of quotes and trailing punctuation; empty items, "none" and
    duplicates are dropped. Items are never split further ("happy and sad" stays one item, which
    the official wheels then drop, as in the reference).
    """
    out: list[str] = []
    for item in parse_label_list(clean_answer(answer)):
        match = _WORDY.search(item.lower())
        word = match.group(0).strip() if match else ""
        if word and word not in ("none", "no emotion", "no emotions", "empty") and word not in out:
            out.append(word)
    return out[:max_items]


class LLMEmotionExtractor:
    """Emotion listing with a local causal LM (a transformers model folder) and the reference prompt.

    Call it on one text, or :meth:`prefetch` many texts first (batched generation; later calls are
    cache hits). ``device="auto"`` takes the GPU when there is one.
    """

    def __init__(self, model_dir: str | Path, max_new_tokens: int | None = None, device: str = "auto",
                 decoding: str = "greedy", batch_size: int = 8, seed: int = 0):
        from affectllm.bundled.instruct_llm import check_model_folder, load_instruct_llm

        if decoding not in DECODINGS:
            raise AffectLLMError(f"--extractor-decoding {decoding} is not supported; use one of {', '.join(DECODINGS)}")
        folder = check_model_folder(model_dir, "--extractor",
                                    "pass 'discourse', 'lexicon' or a local transformers model directory")
        import torch

        self.torch = torch
        loaded = load_instruct_llm(folder, device=device, chat=False)
        self.tokenizer, self.model, device = loaded.tokenizer, loaded.model, loaded.device
        self.tokenizer.padding_side = "left"  # batched generation continues every prompt from its last token
        self.device = device
        self.decoding = decoding
        self.max_new_tokens = max_new_tokens or (REFERENCE_MAX_NEW_TOKENS if decoding == "reference" else 64)
        self.batch_size = batch_size
        self.seed = seed
        self.answers: dict[str, str] = {}  # text -> raw answer

    def prompt_text(self, text: str) -> str:
        """The chat-formatted prompt for one description (plain prompt when the tokenizer has no chat template)."""
        content = EXTRACTION_PROMPT.format(text=text)
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": content}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return content

    def _generate(self, texts: list[str]) -> list[str]:
        torch = self.torch
        prompts = [self.prompt_text(t) for t in texts]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token_id = pad
        # The chat template already holds any special tokens the model expects.
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        kwargs = dict(REFERENCE_SAMPLING) if self.decoding == "reference" else {"do_sample": False}
        if self.decoding == "reference":
            torch.manual_seed(self.seed)
        with torch.no_grad():
            out = self.model.generate(**batch, max_new_tokens=self.max_new_tokens, pad_token_id=pad, **kwargs)
        new = out[:, batch["input_ids"].shape[1] :]
        return self.tokenizer.batch_decode(new, skip_special_tokens=True)

    def prefetch(self, texts: Iterable[str], progress: bool = False) -> None:
        """Answer every new text in batches of ``batch_size`` (a tqdm bar with ``progress``)."""
        todo = list(dict.fromkeys(t for t in texts if t and t.strip() and t not in self.answers))
        starts = range(0, len(todo), self.batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="LLM emotion extraction", unit="batch")
        for start in starts:
            chunk = todo[start : start + self.batch_size]
            self.answers.update(zip(chunk, self._generate(chunk)))

    def __call__(self, text: str) -> list[str]:
        if text not in self.answers:
            self.answers[text] = self._generate([text])[0]
        return parse_emotion_answer(self.answers[text])
