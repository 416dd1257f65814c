"""Conversations → token ids and an explicit label mask, with media placeholders expanded.

Placeholders: the manifest's user text carries ``<video>`` / ``<audio>`` (and optionally
``<subtitle>``). Each present modality becomes a run of its own special token
(``<|affect_video|>`` × tokens-per-modality ...), followed by the pre-fusion's fused
tokens; the fusion module later splices features at exactly those positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from affectllm.errors import AffectLLMError

PLACEHOLDER_TOKENS = {
    "video": "<|affect_video|>",
    "audio": "<|affect_audio|>",
    "text": "<|affect_text|>",
    "fused": "<|affect_fused|>",
}
USER_TAGS = {"video": "<video>", "audio": "<audio>", "subtitle": "<subtitle>"}
_TAG_RE = re.compile("|".join(re.escape(t) for t in USER_TAGS.values()))


class SampleTooLong(AffectLLMError):
    """Truncating the sample would cut a media placeholder."""


def media_block(present: list[str], tokens_per_modality: dict[str, int], subtitle: str | None) -> str:
    """The placeholder run for the modalities present, in canonical order, plus the subtitle line."""
    parts = [PLACEHOLDER_TOKENS[m] * tokens_per_modality[m] for m in ("video", "audio") if m in present]
    if subtitle:
        text_tokens = PLACEHOLDER_TOKENS["text"] * tokens_per_modality["text"] if "text" in present else ""
        parts.append(f'{text_tokens}Subtitle: "{subtitle.strip()}"\n')
    if present and "fused" in tokens_per_modality:
        parts.append(PLACEHOLDER_TOKENS["fused"] * tokens_per_modality["fused"])
    return "".join(parts)


def expand_user_content(content: str, present: list[str], tokens_per_modality: dict[str, int],
                        subtitle: str | None = None) -> str:
    """Drop the user's media tags and lead the turn with the placeholder block.

    Tags of absent modalities vanish (a video without an audio track is valid input);
    present modalities without a tag still get their tokens.
    """
    for token in PLACEHOLDER_TOKENS.values():
        if token in content:
            raise AffectLLMError(f"user text contains the reserved token {token}")
    rest = _TAG_RE.sub("", content).strip()
    block = media_block(present, tokens_per_modality, subtitle)
    return f"{block}\n{rest}" if block else rest


@dataclass
class RenderedConversation:
    input_ids: list[int]
    train_mask: list[bool]  # True where the token is a training target

    def debug_view(self, tokenizer) -> str:
        """The rendered text with trained spans in [[ ]] — print it to see what the model learns."""
        out, run, state = [], [], None
        for tok, trains in zip(self.input_ids, self.train_mask):
            if state is not None and trains != state:
                text = tokenizer.decode(run)
                out.append(f"[[{text}]]" if state else text)
                run = []
            run.append(tok)
            state = trains
        if run:
            text = tokenizer.decode(run)
            out.append(f"[[{text}]]" if state else text)
        return "".join(out)


def _template(tokenizer, messages: list[dict], generation_prompt: bool) -> str:
    if not messages:
        return ""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def render_conversation(tokenizer, messages: list[dict], add_generation_prompt: bool = False) -> RenderedConversation:
    """Render with the tokenizer's own chat template; assistant turns train unless ``"loss": false``.

    Each turn is located by rendering the conversation up to it, so the label mask
    follows whatever template the tokenizer ships (role headers never train).
    """
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    ids: list[int] = []
    mask: list[bool] = []
    rendered = ""

    def add(text: str, trains: bool) -> None:
        if text:
            piece = tokenizer(text, add_special_tokens=False)["input_ids"]
            ids.extend(piece)
            mask.extend([trains] * len(piece))

    for i, msg in enumerate(plain):
        full = _template(tokenizer, plain[: i + 1], False)
        if msg["role"] == "assistant":
            header_end = _template(tokenizer, plain[:i], True)
            if not (header_end.startswith(rendered) and full.startswith(header_end)):
                raise AffectLLMError("the tokenizer's chat template rewrites earlier turns; "
                                     "label masks need a template whose renderings are prefixes of each other")
            add(header_end[len(rendered):], False)
            add(full[len(header_end):], bool(messages[i].get("loss", True)))
        else:
            if not full.startswith(rendered):
                raise AffectLLMError("the tokenizer's chat template rewrites earlier turns")
            add(full[len(rendered):], False)
        rendered = full
    if add_generation_prompt:
        add(_template(tokenizer, plain, True)[len(rendered):], False)
    return RenderedConversation(ids, mask)


def truncate(conv: RenderedConversation, max_length: int, placeholder_ids: set[int],
             sample_id: str = "?") -> RenderedConversation:
    """Cut the tail to ``max_length`` tokens; raise SampleTooLong rather than cut a placeholder."""
    if len(conv.input_ids) <= max_length:
        return conv
    last = max((i for i, t in enumerate(conv.input_ids) if t in placeholder_ids), default=-1)
    if last >= max_length:
        raise SampleTooLong(f"sample {sample_id}: {len(conv.input_ids)} tokens; media placeholders reach token "
                            f"{last + 1} > max_length {max_length} (raise data.max_length or use fewer media tokens)")
    return RenderedConversation(conv.input_ids[:max_length], conv.train_mask[:max_length])
