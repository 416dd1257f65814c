"""Reasoning formats: render the chain-of-thought templates (``prompts``) and read model answers back into
emotions and reasoning sections.

    from affectllm.reasoning import parse_output
    p = parse_output("emer", model_text)   # never raises on messy text
    p.emotions, p.sections, p.explanation, p.ok

One parser per template of ``prompts/`` (see ``affectllm.reasoning.prompts``).
"""

from __future__ import annotations

from affectllm.core.errors import AffectLLMError
from affectllm.reasoning.answer import ParsedAnswer
from affectllm.reasoning.emotion_list import parse_emotion_list
from affectllm.reasoning.parsers import PARSERS

__all__ = ["ParsedAnswer", "parse_output", "parse_emotion_list", "PARSERS"]


def parse_output(template: str, text: str | None) -> ParsedAnswer:
    """Parse ``text`` written in the layout of ``template``.

    Raises AffectLLMError only for an unknown template name; any text,
    including None or an empty string, gives a ParsedAnswer (``ok`` False
    when no emotion could be read).
    """
    parser = PARSERS.get(template)
    if parser is None:
        raise AffectLLMError(f"no parser for template {template!r}; choose one of: {', '.join(sorted(PARSERS))}")
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    try:
        return parser(text)
    except Exception as err:  # a parser bug must not stop a captioning run over thousands of clips
        return ParsedAnswer(template=template, raw=text, extra={"parse_error": f"{type(err).__name__}: {err}"})
