"""The answer marker: the position from which the model ends its answer, and the LLM state there.

A dimensional head with ``source: llm_last`` reads the LLM's last hidden state at
the token *before* the answer's end-of-turn token — the state that emits the end of
the answer, after the model has read the prompt and written (or, in training, been
shown) its whole answer. The same position is found in the two places answers exist:

* a rendered training sample: in the last trained run of tokens (the final assistant
  answer), the token before its first EOS; without an EOS in the run (a template that
  ends turns otherwise, or an answer cut by ``data.max_length``), its last token;
* a generated completion: the token before its first EOS (the last prompt token when
  the answer is empty); an answer cut at ``max_new_tokens`` is read at its last token.

Generation itself never feeds the EOS back in, so the state is taken from one more
forward pass over prompt and completion (``answer_states``), the same pass GRPO runs
to score completions.
"""

from __future__ import annotations

from typing import Sequence

import torch


def eos_ids(model) -> list[int]:
    """Every token that ends an answer: the generation config's EOS ids (Qwen lists two) and the tokenizer's."""
    configured = getattr(model.base_llm.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, (list, tuple)) else [configured]
    return sorted({int(i) for i in [*ids, model.tokenizer.eos_token_id] if i is not None})


def completion_mask(tokens: torch.Tensor, eos: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, T) generated tokens → ((N, T) mask up to and including the first EOS, (N,) finished flags)."""
    is_eos = torch.isin(tokens, torch.tensor(eos, device=tokens.device))
    finished = is_eos.any(dim=1)
    last = torch.where(finished, is_eos.int().argmax(dim=1), torch.full_like(finished, tokens.shape[1] - 1, dtype=torch.long))
    return torch.arange(tokens.shape[1], device=tokens.device)[None, :] <= last[:, None], finished


def rendered_marker(input_ids: Sequence[int], train_mask: Sequence[bool], eos: Sequence[int]) -> int | None:
    """The answer marker of a rendered training sample (see the module docstring); None when nothing trains."""
    end = max((i for i, trains in enumerate(train_mask) if trains), default=None)
    if end is None:
        return None
    start = end
    while start > 0 and train_mask[start - 1]:
        start -= 1
    first_eos = next((i for i in range(start, end + 1) if input_ids[i] in eos), None)
    if first_eos is None:
        return end
    return max(first_eos - 1, 0)


def join_prompt_and_completion(llm, prompt_embeds: torch.Tensor, prompt_mask: torch.Tensor,
                               completion_ids: torch.Tensor, completion_mask: torch.Tensor
                               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-padded prompt embeddings (N, Lp, H) + right-padded completion ids (N, T) → embeddings (N, Lp + T, H),
    attention mask and position ids (N, Lp + T); positions count real tokens only, as ``generate`` numbers them."""
    token_embeds = llm.get_input_embeddings()(completion_ids.to(prompt_embeds.device))
    embeds = torch.cat([prompt_embeds, token_embeds.to(prompt_embeds.dtype)], dim=1)
    mask = torch.cat([prompt_mask, completion_mask], dim=1).to(prompt_embeds.device)
    positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
    return embeds, mask, positions


def last_hidden(model, embeds: torch.Tensor, attention_mask: torch.Tensor | None,
                position_ids: torch.Tensor | None = None) -> torch.Tensor:
    """The LLM's last-layer hidden states (B, L, H) (after its final norm), LoRA applied, without the vocabulary head."""
    base = model.base_llm
    if hasattr(base, "get_decoder"):
        return base.get_decoder()(inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids,
                                  use_cache=False).last_hidden_state
    return model.llm(inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids,
                     use_cache=False, output_hidden_states=True).hidden_states[-1]


def completion_markers(prompt_length: int, completion_mask: torch.Tensor, finished: torch.Tensor) -> torch.Tensor:
    """(N,) answer-marker positions in the joined prompt + completion sequence (module docstring)."""
    kept = completion_mask.long().sum(dim=1).to(finished.device)  # completion tokens up to and including the EOS
    return prompt_length - 1 + kept - finished.long()


def answer_states(model, prompt_embeds: torch.Tensor, prompt_mask: torch.Tensor, completion_ids: torch.Tensor,
                  completion_mask: torch.Tensor, finished: torch.Tensor) -> torch.Tensor:
    """The LLM's last hidden state at each completion's answer marker: (N, H)."""
    embeds, mask, positions = join_prompt_and_completion(model.llm, prompt_embeds, prompt_mask, completion_ids,
                                                         completion_mask)
    markers = completion_markers(prompt_embeds.shape[1], completion_mask, finished).to(embeds.device)
    width = int(markers.max()) + 1  # nothing after the furthest marker is needed
    hidden = last_hidden(model, embeds[:, :width], mask[:, :width], positions[:, :width])
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), markers]
