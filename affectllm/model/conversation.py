"""Conversations → token ids and an explicit label mask, with media placeholders expanded.

Placeholders: the manifest's user text carries ``<video>`` / ``<audio>`` (and optionally
``<subtitle>``); ``affectllm.core.manifest`` says what they mean. Each tag of a present modality
becomes, where it stands, a run of its own special token (``<|affect_video|>`` ×
tokens-per-modality ...); the subtitle line and the pre-fusion's fused tokens follow; the
fusion module later splices features at exactly those positions.

A sample's dialogue ``context`` (the previous turns) is rendered in front of the first user
turn, one line per turn with its speaker's name; with ``model.context_media`` a turn whose
clip (or text, through a text encoder) was encoded carries its own runs of the context
placeholders (``<|affect_ctx_video|>`` ...), spliced exactly like the sample's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from affectllm.core.errors import AffectLLMError
from affectllm.core.media_constants import MODALITIES

PLACEHOLDER_TOKENS = {
    "video": "<|affect_video|>",
    "audio": "<|affect_audio|>",
    "text": "<|affect_text|>",
    "fused": "<|affect_fused|>",
    "ctx_video": "<|affect_ctx_video|>",
    "ctx_audio": "<|affect_ctx_audio|>",
    "ctx_text": "<|affect_ctx_text|>",
    "ctx_fused": "<|affect_ctx_fused|>",
}


def placeholder_ids(tokenizer) -> dict[str, int]:
    """{placeholder key: token id} in ``tokenizer`` (which carries the placeholder tokens)."""
    return {key: tokenizer.convert_tokens_to_ids(token) for key, token in PLACEHOLDER_TOKENS.items()}


CONTEXT_PREFIX = "ctx_"  # media_inputs / placeholder key of a context turn's stream: "ctx_" + modality
CONTEXT_HEADER = "Previous turns:"
USER_TAGS = {"video": "<video>", "audio": "<audio>", "subtitle": "<subtitle>"}
_TAG_SPLIT_RE = re.compile("(" + "|".join(re.escape(t) for t in USER_TAGS.values()) + ")")


class SampleTooLong(AffectLLMError):
    """Truncating the sample would cut a media placeholder."""


def _run(modality: str, tokens_per_modality: dict[str, int], context: bool = False) -> str:
    return PLACEHOLDER_TOKENS[CONTEXT_PREFIX * context + modality] * tokens_per_modality[modality]


def check_no_reserved_tokens(text: str, what: str) -> None:
    """Placeholders come from media only: text that already holds one would shift every splice after it."""
    for token in PLACEHOLDER_TOKENS.values():
        if token in text:
            raise AffectLLMError(f"{what} contains the reserved token {token}")


def context_block(turns: list[dict], encoded: list[list[str]], tokens_per_modality: dict[str, int],
                  speaker: str | None = None, where: str = "sample") -> str:
    """The dialogue history in front of a sample's question, oldest turn first::

        Previous turns:
        Rachel: "Where were you?"
        Ross: <ctx runs>"At work."
        Current turn (Monica):

    ``encoded[k]``: the modalities of turn k that went through the encoders ([] when none did): their
    context runs, and the fused run when the pre-fusion is on, stand before the turn's words. ``speaker``:
    who speaks the current turn; ``where`` names the sample in errors. "" when there are no turns."""
    if not turns:
        return ""
    lines = [CONTEXT_HEADER]
    for k, (turn, present) in enumerate(zip(turns, encoded), start=1):
        check_no_reserved_tokens(f"{turn.get('speaker', '')} {turn.get('text', '')}", f"{where}: context turn {k}")
        runs = "".join(_run(m, tokens_per_modality, context=True) for m in MODALITIES if m in present)
        if present and "fused" in tokens_per_modality:
            runs += _run("fused", tokens_per_modality, context=True)
        words = turn.get("text", "").strip()
        lines.append(f"{turn.get('speaker', '').strip() or 'Someone'}: {runs}" + (f'"{words}"' if words else ""))
    lines.append(f"Current turn ({speaker.strip()}):" if speaker and speaker.strip() else "Current turn:")
    return "\n".join(lines) + "\n"


def expand_user_content(content: str, present: list[str], tokens_per_modality: dict[str, int],
                        subtitle: str | None = None) -> str:
    """Replace the user's tags by placeholder tokens, where they stand (``affectllm.core.manifest``'s rule 4).

    ``<video>`` / ``<audio>`` become their modality's token run, or vanish when the stream is absent
    (a video without an audio track is valid input). The subtitle line (with the text encoder's
    tokens when ``"text"`` is present) stands at ``<subtitle>``, else right after the last media tag,
    else in front; the pre-fusion's fused tokens follow the last of these. For the usual
    ``<video><audio>Question`` this is: video run, audio run, subtitle line, fused run, newline, question.
    A present video or audio without its tag is an error: the tags decide what the model sees.
    """
    check_no_reserved_tokens(content, "user text")
    check_no_reserved_tokens(subtitle or "", "the subtitle")
    for m in ("video", "audio"):
        if m in present and USER_TAGS[m] not in content:
            raise AffectLLMError(f"{m} features are present but the user turn has no {USER_TAGS[m]} tag")
    pieces = _TAG_SPLIT_RE.split(content)
    out: list[str] = []
    anchor = subtitle_at = None  # indices in ``out`` after which the subtitle line / fused run go
    for piece in pieces:
        if piece in (USER_TAGS["video"], USER_TAGS["audio"]):
            m = "video" if piece == USER_TAGS["video"] else "audio"
            out.append(_run(m, tokens_per_modality) if m in present else "")
            anchor = len(out)
        elif piece == USER_TAGS["subtitle"]:
            out.append("")
            subtitle_at = len(out)
        else:
            out.append(piece)
    line = ""
    if subtitle and subtitle.strip():
        text_tokens = _run("text", tokens_per_modality) if "text" in present else ""
        line = f'{text_tokens}Subtitle: "{subtitle.strip()}"\n'
    fused = _run("fused", tokens_per_modality) if present and "fused" in tokens_per_modality else ""
    if subtitle_at is not None:
        out[subtitle_at - 1] = line
        at, block = max(anchor or 0, subtitle_at), fused
    else:
        at, block = anchor or 0, line + fused
    lead = ("".join(out[:at]) + block).lstrip()
    rest = "".join(out[at:]).strip()
    if not lead.strip():
        return rest
    return lead + ("\n" + rest if rest else "")


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
