"""Render the chain-of-thought templates kept in ``prompts/``.

Each template is ``prompts/<name>.yaml`` with ``name``, ``version``,
``description`` and two Jinja strings: ``prompt`` (the user instruction) and
``target`` (the assistant text a model is trained to produce). The matching
parser lives in ``affectllm.reasoning``.

    render_prompt("emer", cues="...", subtitle="...")          -> str
    render_target("emer", {"emotions": [...], "reasoning": {...}}) -> str

The folder is found, in order: ``$AFFECTLLM_PROMPTS``; ``prompts/`` beside
the ``affectllm`` package (source checkout, editable install); the installed
``prompts`` package (wheel install ships the YAML files as package data).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from affectllm.errors import AffectLLMError
from affectllm.records import REASONING_SECTIONS

PROMPTS_ENV = "AFFECTLLM_PROMPTS"
# A folder counts as ours only if it holds this file; a foreign package that
# happens to be called `prompts` is skipped.
_MARKER = "emer.yaml"


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: int
    description: str
    prompt: str
    target: str
    path: Path


def prompts_dir() -> Path:
    """The folder holding the template YAML files."""
    env = os.environ.get(PROMPTS_ENV)
    if env:
        p = Path(env).expanduser()
        if not (p / _MARKER).is_file():
            raise AffectLLMError(f"{PROMPTS_ENV}={env} does not hold the prompt templates ({_MARKER} missing); unset it or point it at a copy of prompts/")
        return p
    checkout = Path(__file__).resolve().parents[1] / "prompts"
    if (checkout / _MARKER).is_file():
        return checkout
    spec = importlib.util.find_spec("prompts")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        if (Path(loc) / _MARKER).is_file():
            return Path(loc)
    raise AffectLLMError(f"prompt templates not found (looked for prompts/{_MARKER} beside the affectllm package and in an installed `prompts` package); reinstall affectllm or set {PROMPTS_ENV}")


def list_prompts() -> list[str]:
    """Names of the available templates, sorted."""
    return sorted(p.stem for p in prompts_dir().glob("*.yaml"))


@functools.lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> PromptTemplate:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise AffectLLMError(f"prompt template {path} is not valid YAML ({err}); fix the file") from err
    missing = [k for k in ("name", "version", "prompt", "target") if k not in (data or {})]
    if missing:
        raise AffectLLMError(f"prompt template {path} lacks {', '.join(missing)}; add them")
    return PromptTemplate(name=str(data["name"]), version=int(data["version"]),
                          description=str(data.get("description", "")),
                          prompt=str(data["prompt"]), target=str(data["target"]), path=path)


def load_prompt(name: str) -> PromptTemplate:
    """The template called ``name``; raises AffectLLMError listing the known names."""
    path = prompts_dir() / f"{name}.yaml"
    if not path.is_file():
        raise AffectLLMError(f"unknown prompt template {name!r}; choose one of: {', '.join(list_prompts())}")
    return _load(path, path.stat().st_mtime)


@functools.lru_cache(maxsize=1)
def _jinja():
    import jinja2  # a torch dependency, so always present with our stack

    return jinja2.Environment(trim_blocks=True, lstrip_blocks=True, autoescape=False,
                              undefined=jinja2.ChainableUndefined, keep_trailing_newline=False)


def _tidy(text: str) -> str:
    # Templates leave trailing spaces and runs of blank lines where optional parts are empty.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _hints(hints: Any) -> list[dict[str, Any]]:
    """Accepts ["happy", ...], [("happy", 0.6), ...] or [{"label", "score"}, ...]."""
    out = []
    for h in hints or []:
        if isinstance(h, Mapping):
            out.append({"label": str(h.get("label", "")), "score": h.get("score")})
        elif isinstance(h, (tuple, list)):
            out.append({"label": str(h[0]), "score": float(h[1]) if len(h) > 1 and h[1] is not None else None})
        else:
            out.append({"label": str(h), "score": None})
    return out


def _cause_spans(spans: Any) -> list[dict[str, Any]]:
    out = []
    for s in spans or []:
        if isinstance(s, Mapping):
            out.append({"text": str(s.get("text", "")).strip(), "utterance": s.get("utterance")})
        else:
            out.append({"text": str(s).strip(), "utterance": None})
    return out


def _action_units(aus: Any) -> list[dict[str, Any]]:
    out = []
    for a in aus or []:
        a = dict(a)
        inten = a.get("intensity")
        out.append({"au": str(a.get("au", "")), "name": a.get("name") or "",
                    "intensity": None if inten is None else float(inten), "emotion": a.get("emotion") or ""})
    return out


def _context(record: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    ctx = dict(record)
    ctx.update(fields)
    emotions = [str(e) for e in ctx.get("emotions") or []]
    reasoning = {k: "" for k in REASONING_SECTIONS}
    reasoning.update({k: str(v or "").strip() for k, v in (ctx.get("reasoning") or {}).items()})
    ctx.update(emotions=emotions, labels=", ".join(emotions), reasoning=reasoning,
               hints=_hints(ctx.get("hints")), cause_spans=_cause_spans(ctx.get("cause_spans")),
               action_units=_action_units(ctx.get("action_units")))
    if not ctx.get("target_mode"):
        ctx["target_mode"] = "description" if ctx.get("description") else "label"
    return ctx


def render_prompt(name: str, cues: str = "", subtitle: str = "", **fields: Any) -> str:
    """The user instruction of template ``name``.

    ``cues`` is textual evidence (from ``affectllm.cues``), ``subtitle`` what is
    said. Template-specific fields: ``hints`` (hef_hint: labels or
    (label, score) pairs), ``dialogue`` (chain_of_empathy, emotion_cause),
    ``emotion`` (emotion_cause), ``target_mode`` (affectgpt_hybrid).
    Media placeholders (``<video>``, ``<audio>``) are not added here.
    """
    tpl = load_prompt(name)
    fields.setdefault("target_mode", "description")  # at inference, ask for the richer answer
    ctx = _context({}, dict(fields, cues=(cues or "").strip(), subtitle=(subtitle or "").strip()))
    return _tidy(_jinja().from_string(tpl.prompt).render(**ctx))


def render_target(name: str, record: Mapping[str, Any], **fields: Any) -> str:
    """The assistant chain-of-thought text of template ``name`` for one record.

    ``record`` carries ``emotions`` and ``reasoning`` (observations /
    interpretation / conclusion) like the result record, plus per-template
    extras: ``clues`` {visual, acoustic, lexical} (emer), ``action_units``
    [{au, name, intensity, emotion}] (expllm), ``response`` (chain_of_empathy),
    ``description`` / ``target_mode`` (affectgpt_hybrid), ``cause_spans``
    [text or {text, utterance}] (emotion_cause).
    """
    tpl = load_prompt(name)
    return _tidy(_jinja().from_string(tpl.target).render(**_context(record, fields)))
