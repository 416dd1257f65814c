"""Loading a local instruct (chat) LLM: a transformers model folder the user names, never a hub name.

The cue path's ``--llm`` (``affectllm.cues.llm``) and the evaluator's LLM judge
(``eval --extractor MODEL_DIR``, ``affectllm.eval.llm_extractor``) both load their model here:
one check of the folder, one error naming the option, float32 on CPU and bfloat16 on a GPU,
and no remote code (the folder is data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from affectllm.core.errors import AffectLLMError


@dataclass
class InstructLLM:
    """A loaded model with its tokenizer, in eval mode on ``device``."""

    model: object  # transformers PreTrainedModel
    tokenizer: object
    device: str


def check_model_folder(folder: str | Path, option: str, hint: str) -> Path:
    """``folder`` as a Path when it holds a transformers model (a config.json); else one error naming the
    ``option`` it came from, followed by ``hint`` (what to pass instead)."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise AffectLLMError(f"{option} {folder} is not a folder; {hint}")
    if not (path / "config.json").is_file():
        raise AffectLLMError(f"{option} {folder}: not a local transformers model folder (no config.json); {hint}")
    return path


def load_instruct_llm(folder: Path, device: str = "cpu", chat: bool = True) -> InstructLLM:
    """The model and tokenizer in ``folder`` (checked by :func:`check_model_folder`); ``device`` "auto" takes the
    GPU when there is one. ``chat``: refuse a tokenizer without a chat template (a base model)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if chat and tokenizer.chat_template is None:
        raise AffectLLMError(f"{folder}: the tokenizer has no chat template; use an instruct (chat) model")
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype).to(device).eval()
    return InstructLLM(model, tokenizer, device)
