"""One parser per template of ``prompts/``; each maps its parts onto observations / interpretation / conclusion.

Every parser accepts any string and never raises: a part it cannot find is
left empty, and emotions fall back from the labelled list to the conclusion
to the whole text.
"""

from __future__ import annotations

import re
from typing import Callable

from affectllm.reasoning.answer import ParsedAnswer, empty_sections
from affectllm.reasoning.emotion_list import emotions_in_text, parse_emotion_list
from affectllm.reasoning.sections import clean_block, split_labelled

OBSERVATIONS = ["observations?", "key observations?", "evidence", "clues?", "cues?", "facial observations?"]
INTERPRETATION = ["reasoning", "interpretation", "overall emotional interpretation", "overall interpretation",
                  "emotional interpretation", "analysis", "rationale", "emotional reasoning"]
CONCLUSION = ["conclusion", "final conclusion", "in conclusion", "summary", "overall"]
EMOTIONS = ["emotions?", "final emotions?", "emotion labels?", "predicted emotions?", "labels?", "answer",
            "final answer", "emotional state"]
CLUES = {"visual": ["visual clues?", "visual cues?", "visual evidence", "visual"],
         "acoustic": ["acoustic clues?", "acoustic cues?", "audio clues?", "audio cues?", "vocal cues?", "acoustic", "audio"],
         "lexical": ["lexical clues?", "lexical cues?", "textual clues?", "text clues?", "verbal cues?", "lexical", "textual"]}
CLUE_TITLES = {"visual": "Visual clues", "acoustic": "Acoustic clues", "lexical": "Lexical clues"}


def _gather(parts: list[tuple[str, str]], slot: str, drop_bullets: bool = False) -> str:
    return "\n".join(filter(None, (clean_block(c, drop_bullets) for s, c in parts if s == slot)))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _explain(sections: dict[str, str]) -> str:
    return " ".join(_flat(sections[k]) for k in ("observations", "interpretation", "conclusion") if sections[k])


def _emotions(listed: str, *fallback_texts: str) -> list[str]:
    """The labelled list when present, else vocabulary words of the first fallback text that has any."""
    if listed.strip():
        found = parse_emotion_list(listed)
        if found:
            return found
    for text in fallback_texts:
        found = emotions_in_text(text)
        if found:
            return found
    return []


def _finish(template: str, text: str, emotions: list[str], sections: dict[str, str], explanation: str = "",
            **extra) -> ParsedAnswer:
    return ParsedAnswer(template=template, emotions=emotions, sections=sections,
                        explanation=explanation or _explain(sections), ok=bool(emotions), extra=extra, raw=text)


def _no_headers(template: str, text: str) -> ParsedAnswer:
    # Prose without any labelled part: all of it is interpretation.
    sections = empty_sections()
    sections["interpretation"] = clean_block(text)
    return _finish(template, text, emotions_in_text(text), sections)


def parse_emer(text: str, template: str = "emer") -> ParsedAnswer:
    slots = {"observations": OBSERVATIONS, "interpretation": INTERPRETATION, "conclusion": CONCLUSION,
             "emotions": EMOTIONS, **CLUES}
    preamble, parts = split_labelled(text, slots)
    if not parts:
        return _no_headers(template, text)
    clue_lines = [f"{CLUE_TITLES[k]}: {_flat(_gather(parts, k))}" for k in CLUES if _gather(parts, k)]
    sections = {"observations": "\n".join(filter(None, [_gather(parts, "observations")] + clue_lines)),
                "interpretation": _gather(parts, "interpretation"),
                "conclusion": _gather(parts, "conclusion")}
    emotions = _emotions(_gather(parts, "emotions"), sections["conclusion"], text)
    return _finish(template, text, emotions, sections)


def parse_hef_hint(text: str) -> ParsedAnswer:
    # Same labelled layout as EMER without per-modality clues; clue headers, if a model adds them, still parse.
    return parse_emer(text, template="hef_hint")


_AU_LINE = re.compile(
    r"(?P<au>AU\s*\d{1,2}[LR]?)\s*(?:\((?P<name>[^)]*)\))?(?P<rest>.*)", re.IGNORECASE)


def _action_units(block: str) -> list[dict]:
    out = []
    for line in block.split("\n"):
        m = _AU_LINE.search(line)
        if not m:
            continue
        rest = m.group("rest")
        inten = re.search(r"intensity\D{0,12}?(\d+(?:\.\d+)?)", rest, re.IGNORECASE)
        assoc = re.search(r"(?:associated with|indicat\w*|suggest\w*|linked to|typical of)\s+([a-z][a-z -]*?)\s*(?:[.,;)]|$)",
                          rest, re.IGNORECASE)
        out.append({"au": m.group("au").upper().replace(" ", ""), "name": (m.group("name") or "").strip(),
                    "intensity": float(inten.group(1)) if inten else None,
                    "emotion": assoc.group(1).strip().lower() if assoc else ""})
    return out


def parse_expllm(text: str) -> ParsedAnswer:
    slots = {"observations": OBSERVATIONS + ["action units?", "facial action units?"],
             "interpretation": INTERPRETATION, "conclusion": CONCLUSION,
             "emotions": EMOTIONS + ["expression", "final expression", "predicted expression", "facial expression"]}
    _, parts = split_labelled(text, slots)
    if not parts:
        return _no_headers("expllm", text)
    sections = {"observations": _gather(parts, "observations", drop_bullets=True),
                "interpretation": _gather(parts, "interpretation"),
                "conclusion": _gather(parts, "conclusion")}
    emotions = _emotions(_gather(parts, "emotions"), sections["conclusion"], sections["interpretation"], text)
    return _finish("expllm", text, emotions, sections, action_units=_action_units(sections["observations"]))


def parse_chain_of_empathy(text: str) -> ParsedAnswer:
    slots = {"observations": ["situation", "context", "scenario"],
             "emotions": ["emotions?", "speaker'?s? emotions?", "user'?s? emotions?", "feelings?"],
             "interpretation": ["cause", "causes", "emotion cause", "reason", "why"],
             "conclusion": ["goal", "goal of the response", "intent", "intention", "response goal", "response intent"],
             "response": ["response", "empathetic response", "reply", "empathetic reply"]}
    _, parts = split_labelled(text, slots)
    if not parts:
        return _no_headers("chain_of_empathy", text)
    sections = {"observations": _gather(parts, "observations"),
                "interpretation": _gather(parts, "interpretation"),
                "conclusion": _gather(parts, "conclusion")}
    emotions = _emotions(_gather(parts, "emotions"), sections["interpretation"], sections["observations"])
    explanation = " ".join(_flat(sections[k]) for k in ("observations", "interpretation") if sections[k])
    return _finish("chain_of_empathy", text, emotions, sections, explanation,
                   response=_flat(_gather(parts, "response")).strip('"“” '))


_STATE = re.compile(
    r"emotional\s+state(?:\s+of\s+(?:the|this)\s+\w+)?\s+(?:is|are|was|may\s+be|might\s+be|could\s+be|"
    r"seems\s+to\s+be|appears\s+to\s+be|would\s+be|can\s+be\s+described\s+as)\s*(?:described\s+as\s*)?[:：]?\s*"
    r"(?P<labels>[^.\n]+)", re.IGNORECASE)
_CONCLUDING = re.compile(r"^(?:therefore|overall|in summary|in conclusion|thus|so|hence|taken together|all in all)\b",
                         re.IGNORECASE)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", _flat(text)) if s]


def parse_affectgpt_hybrid(text: str) -> ParsedAnswer:
    flat = _flat(text.replace("**", ""))
    sentences = _sentences(flat)
    state = _STATE.search(flat)
    last = sentences[-1] if sentences else ""
    sections = empty_sections()
    if len(sentences) <= 1 and state:  # label mode: only the label sentence
        sections["conclusion"] = flat
        return _finish("affectgpt_hybrid", text, parse_emotion_list(state.group("labels")), sections,
                       explanation=flat, target_mode="label")
    if len(sentences) > 1 and (_CONCLUDING.search(last) or _STATE.search(last)):
        sections["observations"], sections["conclusion"] = " ".join(sentences[:-1]), last
    else:
        sections["observations"] = flat
    listed = state.group("labels") if state else ""
    emotions = _emotions(listed, sections["conclusion"], flat)
    return _finish("affectgpt_hybrid", text, emotions, sections, explanation=flat,
                   target_mode="description", description=flat)


_THINK = re.compile(r"<\s*think\s*>(?P<body>.*?)(?:<\s*/\s*think\s*>|(?=<\s*answer\s*>)|$)", re.IGNORECASE | re.DOTALL)
_ANSWER = re.compile(r"<\s*answer\s*>(?P<body>.*?)(?:<\s*/\s*answer\s*>|$)", re.IGNORECASE | re.DOTALL)


def parse_think_answer(text: str) -> ParsedAnswer:
    think_m, answer_m = _THINK.search(text), _ANSWER.search(text)
    think = think_m.group("body") if think_m else ""
    if answer_m:
        answer = answer_m.group("body")
    else:  # no tags: an "Answer:" line, else whatever follows </think>
        _, parts = split_labelled(text, {"answer": EMOTIONS})
        answer = _gather(parts, "answer") or (text[think_m.end():] if think_m else "")
        if not think_m:
            think = text[: text.lower().rfind("answer")] if parts else text
    _, parts = split_labelled(think, {"observations": OBSERVATIONS, "interpretation": INTERPRETATION,
                                      "conclusion": CONCLUSION})
    sections = empty_sections()
    if parts:
        sections = {k: _gather(parts, k) for k in sections}
    elif think.strip():
        # Unlabelled thinking: first paragraph observes, last concludes, the rest interprets.
        paras = [clean_block(p) for p in re.split(r"\n\s*\n", think.strip()) if p.strip()]
        if len(paras) >= 3:
            sections = {"observations": paras[0], "interpretation": "\n".join(paras[1:-1]), "conclusion": paras[-1]}
        else:
            sections["interpretation"] = "\n".join(paras)
    emotions = _emotions(answer, sections["conclusion"], think)
    return _finish("think_answer", text, emotions, sections, think=clean_block(think))


_QUOTED = re.compile(r"[\"“”«]([^\"“”»]+)[\"“”»]\s*(?:\((?:utterance|utt\.?|turn)\s*#?(?P<utt>\d+)\))?", re.IGNORECASE)


def _cause_spans(block: str) -> list[dict]:
    spans = []
    for line in block.split("\n"):
        found = list(_QUOTED.finditer(line))
        if found:
            spans += [{"text": m.group(1).strip(), "utterance": int(m.group("utt")) if m.group("utt") else None}
                      for m in found]
            continue
        bare = re.sub(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s*", "", line).strip()
        utt = re.search(r"\((?:utterance|utt\.?|turn)\s*#?(\d+)\)\s*$", bare, re.IGNORECASE)
        bare = bare[: utt.start()].strip() if utt else bare
        if bare and bare.lower().strip(".") not in {"none", "n/a", "no cause", "not found"}:
            spans.append({"text": bare, "utterance": int(utt.group(1)) if utt else None})
    return spans


def parse_emotion_cause(text: str) -> ParsedAnswer:
    slots = {"emotions": ["emotions?", "target emotion"],
             "spans": ["cause spans?", "causal spans?", "causes?", "cause utterances?", "emotion causes?", "spans?"],
             "observations": ["evidence", "observations?"], "interpretation": ["reasoning", "interpretation", "analysis"],
             "conclusion": CONCLUSION}
    _, parts = split_labelled(text, slots)
    if not parts:
        answer = _no_headers("emotion_cause", text)
        answer.extra["cause_spans"] = [{"text": m.group(1).strip(), "utterance": None} for m in _QUOTED.finditer(text)]
        return answer
    sections = {k: _gather(parts, k) for k in ("observations", "interpretation", "conclusion")}
    emotions = _emotions(_gather(parts, "emotions"), sections["conclusion"])
    spans = _cause_spans(_gather(parts, "spans"))
    return _finish("emotion_cause", text, emotions, sections, cause_spans=spans)


PARSERS: dict[str, Callable[[str], ParsedAnswer]] = {
    "emer": parse_emer,
    "expllm": parse_expllm,
    "chain_of_empathy": parse_chain_of_empathy,
    "affectgpt_hybrid": parse_affectgpt_hybrid,
    "think_answer": parse_think_answer,
    "emotion_cause": parse_emotion_cause,
    "hef_hint": parse_hef_hint,
}
