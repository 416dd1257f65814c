"""Render the chain-of-thought templates kept in ``prompts/``.

Each template is ``prompts/<name>.yaml`` with ``name``, ``version``,
``description`` and two Jinja strings: ``prompt`` (the user instruction) and
``target`` (the assistant text a model is trained to produce). The matching
parser lives in ``affectllm.reasoning``.

    render_prompt("emer", cues="...", subtitle="...")          -> str
    render_target("emer", {"emotions": [...], "reasoning": {...}}) -> str

The folder is found, in order: ``$AFFECTLLM_PROMPTS``; ``prompts/`` beside
the ``affectllm`` package (source checkout, editable install); the installed
``affectllm.prompt_templates`` package (a wheel ships the folder under that
name, with the YAML files as package data).

Templates are data, never code: a template is picked by *name* only (a bare
name of a file in that folder — a checkpoint's ``model.prompt`` can never point
at a path), or read from a file the user names explicitly on the command line
(``load_prompt_file``). Rendering runs in Jinja's immutable sandbox, so a
template cannot reach Python internals (``cycler.__init__.__globals__``) or
mutate its inputs; a template that tries is one error line naming the file.
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

from affectllm.core.errors import AffectLLMError
from affectllm.core.records import REASONING_SECTIONS

PROMPTS_ENV = "AFFECTLLM_PROMPTS"
# A template name is a bare file stem: no separators, no dots, so it cannot leave the folder.
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
# A folder counts as the templates only if it holds this file (an $AFFECTLLM_PROMPTS typo is caught).
_MARKER = "emer.yaml"
# The installed name of the prompts/ folder (pyproject package-dir).
_PACKAGE = "affectllm.prompt_templates"


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
    checkout = Path(__file__).resolve().parents[2] / "prompts"
    if (checkout / _MARKER).is_file():
        return checkout
    spec = importlib.util.find_spec(_PACKAGE)
    for loc in (spec.submodule_search_locations or []) if spec else []:
        if (Path(loc) / _MARKER).is_file():
            return Path(loc)
    raise AffectLLMError(f"prompt templates not found (looked for prompts/{_MARKER} beside the affectllm package "
                         f"and in {_PACKAGE}); reinstall affectllm or set {PROMPTS_ENV}")


def list_prompts() -> list[str]:
    """Names of the available templates, sorted."""
    return sorted(p.stem for p in prompts_dir().glob("*.yaml"))


@functools.lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> PromptTemplate:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise AffectLLMError(f"prompt template {path} is not valid YAML ({reason}); fix the file") from None
    if not isinstance(data, dict):
        raise AffectLLMError(f"prompt template {path} must be a YAML mapping with name, version, prompt, target")
    missing = [k for k in ("name", "version", "prompt", "target") if k not in data]
    if missing:
        raise AffectLLMError(f"prompt template {path} lacks {', '.join(missing)}; add them")
    try:
        version = int(data["version"])
    except (TypeError, ValueError):
        raise AffectLLMError(f"prompt template {path}: version must be an integer, got {data['version']!r}") from None
    return PromptTemplate(name=str(data["name"]), version=version, description=str(data.get("description", "")),
                          prompt=str(data["prompt"]), target=str(data["target"]), path=path)


def is_template_name(value: str) -> bool:
    """Whether ``value`` has the form of a template name (it may still be unknown)."""
    return bool(TEMPLATE_NAME.fullmatch(value or ""))


def load_prompt(name: "str | PromptTemplate") -> PromptTemplate:
    """The template called ``name`` (a bare name, never a path); raises AffectLLMError listing the known names.

    A PromptTemplate is returned as is, so callers may pass a name or a template read by ``load_prompt_file``.
    """
    if isinstance(name, PromptTemplate):
        return name
    if not is_template_name(str(name)):
        raise AffectLLMError(f"prompt template {name!r} is not a template name (a bare name such as 'emer', no "
                             f"paths); choose one of: {', '.join(list_prompts())}, or pass a template file "
                             "explicitly on the command line (--prompt FILE.yaml)")
    path = prompts_dir() / f"{name}.yaml"
    if not path.is_file():
        raise AffectLLMError(f"unknown prompt template {name!r}; choose one of: {', '.join(list_prompts())}")
    return _load(path, path.stat().st_mtime)


def load_prompt_file(path: str | os.PathLike) -> PromptTemplate:
    """A template from a YAML file the user named explicitly (``--prompt FILE.yaml``); never call this
    with a path read from a checkpoint or any other file someone else wrote."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise AffectLLMError(f"prompt template file {p} does not exist; pass a YAML file or a template name "
                             f"({', '.join(list_prompts())})")
    return _load(p.resolve(), p.stat().st_mtime)


def prompt_from_argument(value: str) -> PromptTemplate:
    """A command-line ``--prompt`` value: a template name, or else the path of a template file."""
    if is_template_name(value) and not Path(value).is_file():
        return load_prompt(value)
    return load_prompt_file(value)


@functools.lru_cache(maxsize=1)
def _jinja():
    import jinja2  # a torch dependency, so always present with our stack
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # Sandboxed: a template (possibly shipped by someone else) can read its fields, nothing else.
    return ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, autoescape=False,
                                        undefined=jinja2.ChainableUndefined, keep_trailing_newline=False)


def _render(tpl: PromptTemplate, part: str, ctx: dict[str, Any]) -> str:
    """Render ``part`` ("prompt" or "target") of ``tpl`` in the sandbox; any template error is one line."""
    import jinja2

    try:
        return _tidy(_jinja().from_string(getattr(tpl, part)).render(**ctx))
    except jinja2.TemplateError as err:
        # SecurityError (a reach for Python internals) is a TemplateError too
        reason = " ".join(str(err).split()) or type(err).__name__
        raise AffectLLMError(f"prompt template {tpl.path}: {part} cannot be rendered ({type(err).__name__}: "
                             f"{reason}); fix the template") from None


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


def render_prompt(name: "str | PromptTemplate", cues: str = "", subtitle: str = "", **fields: Any) -> str:
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
    return _render(tpl, "prompt", ctx)


def render_target(name: "str | PromptTemplate", record: Mapping[str, Any], **fields: Any) -> str:
    """The assistant chain-of-thought text of template ``name`` for one record.

    ``record`` carries ``emotions`` and ``reasoning`` (observations /
    interpretation / conclusion) like the result record, plus per-template
    extras: ``clues`` {visual, acoustic, lexical} (emer), ``action_units``
    [{au, name, intensity, emotion}] (expllm), ``response`` (chain_of_empathy),
    ``description`` / ``target_mode`` (affectgpt_hybrid), ``cause_spans``
    [text or {text, utterance}] (emotion_cause).
    """
    tpl = load_prompt(name)
    return _render(tpl, "target", _context(record, fields))
