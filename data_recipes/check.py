"""Validate a manifest: `affectllm recipe check manifest.jsonl [--tokenizer DIR|bundled:NAME] [--no-probe] [--json]`.

Reports malformed lines, samples that break the manifest contract
(``affectllm.core.manifest.media_spec``: the same rule training, captioning and the
benchmark apply, so a manifest that passes here loads there), malformed dialogue
``context`` (``affectllm.core.manifest.check_context``) and ``vad`` ratings off their
``vad_scale`` (``affectllm.core.dimensions``), missing or
unreadable media (``affectllm.media``'s probe), empty targets, empty chains (a
reasoning template whose target holds no reasoning, such as
``<think></think>`` or a bare ``Emotions: sad``), the label distribution and
token-length statistics of what the model reads and writes: the dialogue context, the question with
its ``Subtitle: "..."`` line, and the target (media placeholder runs left out: their length is the
model's), in whitespace tokens or a tokenizer's (a folder, ``bundled:NAME`` or a cached hub id). Warnings
(not errors) name tagged streams a file turns out not to have, such as
``<audio>`` on a video without an audio track: the tag is left out and the
sample is used without sound. Exit code 1 when any error was found.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from affectllm.model.conversation import context_block, expand_user_content
from affectllm.core.errors import AffectLLMError, ConfigError, MediaError
from affectllm.core.dimensions import sample_ratings
from affectllm.core.manifest import ManifestError, check_context, media_spec

NAME = "check"
HELP = "validate a manifest: media, targets, label distribution, token lengths"
MAX_LISTED = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="manifest JSONL")
    parser.add_argument("--tokenizer", metavar="DIR|bundled:NAME",
                        help="tokenizer for token counts: a local folder, a bundled model (bundled:smollm2-135m-instruct) "
                             "or a cached hub id (default: whitespace tokens)")
    parser.add_argument("--no-probe", action="store_true", help="only check that media exist and are non-empty")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def target_style(sample: dict, target: str) -> str | None:
    """The template a target was rendered with: the sample's ``style`` field, else guessed from its layout."""
    if sample.get("style"):
        return str(sample["style"])
    if re.search(r"<\s*think\s*>", target, re.IGNORECASE):
        return "think_answer"
    if re.match(r"\s*Key Observations\s*:", target, re.IGNORECASE):
        return "expllm"
    if re.search(r"^Emotions?\s*:", target, re.IGNORECASE | re.MULTILINE):
        return "emer"
    return None


def empty_chain(sample: dict, target: str) -> str | None:
    """The style name when ``target`` is a reasoning template with no reasoning in it, else None."""
    from affectllm.reasoning import parse_output
    from .targets import CHAIN_STYLES

    style = target_style(sample, target)
    if style not in CHAIN_STYLES:
        return None
    sections = parse_output(style, target).sections
    if style == "expllm":  # the template writes a stock line for missing observations
        return None if sections["interpretation"] or sections["conclusion"] else style
    return None if any(sections.values()) else style


def _percentile(sorted_values: list[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1) + 0.5))] if sorted_values else 0


def _media_problem(path: Path, probe: bool):
    """(error or None, MediaInfo or None when not probed)."""
    from affectllm.media.probe import check_file, probe_media

    try:
        if probe:
            return None, probe_media(path)
        check_file(path)
    except MediaError as err:
        return str(err), None
    return None, None


def _missing_streams(spec, infos: dict, where: str) -> list[str]:
    """Warnings for tagged streams the probed files do not hold (``affectllm.core.manifest`` rule 3)."""
    out = []
    video = infos.get(spec.video)
    if spec.see_video and video is not None and not video.has_video:
        out.append(f"{where}: {spec.video} has no video stream; <video> is left out")
    if spec.audio_from_video and video is not None and not video.has_audio:
        out.append(f"{where}: {spec.video} has no audio track; <audio> is left out and the sample is used without sound")
    return out


class _MediaFiles:
    """Checks each media file once per manifest, however many samples and context turns name it."""

    def __init__(self, root: Path, probe: bool):
        self.root, self.probe, self.seen = root, probe, {}

    def check(self, media: str, probe: bool):
        """(error or None, MediaInfo or None) for a manifest path; the first check of a file is kept."""
        p = Path(media) if Path(media).is_absolute() else self.root / media
        if p not in self.seen:
            self.seen[p] = _media_problem(p, probe)
        return self.seen[p]


def _texts(sample: dict) -> tuple[str, str]:
    """(user text, assistant target) of a sample's messages."""
    messages = [m for m in sample.get("messages") or [] if isinstance(m, dict)]
    user = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    target = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "assistant")
    return user, target


def _id_errors(sample: dict, where: str, seen: set) -> list[str]:
    sid = sample.get("id")
    errors = [f"{where}: no id"] if not sid else [f"{where}: duplicate id {sid!r}"] if sid in seen else []
    seen.add(sid)
    return errors


def _target_errors(sample: dict, target: str, where: str) -> list[str]:
    if not target.strip():
        return [f"{where}: empty target (no assistant message with content)"]
    if (style := empty_chain(sample, target)) is not None:
        return [f"{where}: empty chain: the {style} target holds no reasoning; re-run the recipe "
                "(label-only samples become plain answers) or add --ground-chains"]
    return []


def _media_findings(sample: dict, where: str, files: _MediaFiles) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the sample's own media against the manifest contract and the files."""
    try:
        spec = media_spec(sample, where)
    except ManifestError as err:
        return [str(err)], []
    errors, infos = [], {}
    for media in (m for m in (spec.video, spec.audio) if m is not None):
        problem, infos[media] = files.check(media, files.probe)
        if problem:
            errors.append(f"{where}: {problem}")
    return errors, _missing_streams(spec, infos, where)


def _context_errors(sample: dict, where: str, files: _MediaFiles) -> list[str]:
    """Dialogue context (--context K) and dimensional ratings on their scale; context media must exist."""
    try:
        context = check_context(sample, where)
        sample_ratings(sample, where)
    except AffectLLMError as err:
        return [str(err)]
    errors = []
    for media in (m for turn in context for m in turn.get("videos", []) + turn.get("audios", [])):
        problem, _ = files.check(media, probe=False)
        if problem:
            errors.append(f"{where}: context: {problem}")
    return errors


def _token_counter(tokenizer: str | None):
    """Tokens in a text: whitespace tokens, or the tokenizer of a folder, a bundled model or a cached hub id."""
    if not tokenizer:
        return lambda text: len(text.split())
    from transformers import AutoTokenizer

    from affectllm.config.paths import resolve_model_path

    try:
        folder = resolve_model_path(tokenizer, Path.cwd(), "tokenizer")
        tok = AutoTokenizer.from_pretrained(folder)
    except ConfigError as err:
        reason = str(err).split(": ", 1)[-1].replace("'model.tokenizer'", "--tokenizer")
        raise AffectLLMError(f"--tokenizer {tokenizer}: {reason}") from None
    except (OSError, ValueError) as err:
        raise AffectLLMError(f"--tokenizer {tokenizer}: no tokenizer could be loaded from {folder} "
                             f"({' '.join(str(err).split())[:160]})") from None
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


def seen_user_text(sample: dict) -> str:
    """The user turns as the model reads them, media placeholder runs left out: the dialogue context, then
    the first question with its subtitle line where it stands (``affectllm.model.conversation``), then later turns."""
    users = [str(m.get("content", "")) for m in sample.get("messages") or []
             if isinstance(m, dict) and m.get("role") == "user"]
    subtitle = sample.get("subtitle") if isinstance(sample.get("subtitle"), str) else None
    speaker = sample.get("speaker") if isinstance(sample.get("speaker"), str) else None
    try:
        turns = check_context(sample, "sample")
        first = context_block(turns, [[] for _ in turns], {}, speaker) + expand_user_content(
            users[0] if users else "", [], {}, subtitle)
    except AffectLLMError:  # a malformed context or a reserved token, reported by the checks; the words still count
        first = " ".join([*users[:1], subtitle or ""])
    return " ".join([first, *users[1:]])


def _token_stats(lengths: list[int], tokenizer: str | None) -> dict:
    lengths = sorted(lengths)
    return {"min": lengths[0] if lengths else 0, "mean": round(sum(lengths) / len(lengths), 1) if lengths else 0,
            "p50": _percentile(lengths, 0.5), "p95": _percentile(lengths, 0.95), "max": lengths[-1] if lengths else 0,
            "unit": "tokenizer" if tokenizer else "whitespace"}


def check_manifest(path: Path, tokenizer: str | None = None, probe: bool = True) -> dict:
    """The report as a dict: samples, errors [str], labels {word: count}, tokens {min, mean, p50, p95, max}."""
    from tqdm import tqdm

    if not path.is_file():
        raise AffectLLMError(f"{path}: manifest not found")
    count_tokens = _token_counter(tokenizer)
    files = _MediaFiles(path.resolve().parent, probe)
    errors, warnings, labels, lengths, seen = [], [], Counter(), [], set()
    n = 0
    lines = path.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(tqdm(lines, desc=f"check {path.name}", disable=not sys.stderr.isatty()), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            sample = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append(f"{where}: not valid JSON ({err.msg})")
            continue
        n += 1
        if not isinstance(sample, dict):
            errors.append(f"{where}: expected a JSON object, got {type(sample).__name__}")
            continue
        _, target = _texts(sample)
        media_errors, media_warnings = _media_findings(sample, where, files)
        errors += (_id_errors(sample, where, seen) + _target_errors(sample, target, where) + media_errors
                   + _context_errors(sample, where, files))
        warnings += media_warnings
        labels.update(sample.get("emotions") or ["(none)"])
        lengths.append(count_tokens(seen_user_text(sample)) + count_tokens(target))
    if n == 0:
        errors.append(f"{path}: no samples")
    return {"manifest": str(path), "samples": n, "errors": errors, "warnings": warnings,
            "labels": dict(labels.most_common()), "tokens": _token_stats(lengths, tokenizer)}


def run(args: argparse.Namespace) -> int:
    report = check_manifest(args.manifest, args.tokenizer, probe=not args.no_probe)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{report['manifest']}: {report['samples']} samples, {len(report['errors'])} errors, "
              f"{len(report['warnings'])} warnings")
        for kind in ("error", "warning"):
            listed = report[kind + "s"]
            for line in listed[:MAX_LISTED]:
                print(f"  {kind}: {line}")
            if len(listed) > MAX_LISTED:
                print(f"  ... and {len(listed) - MAX_LISTED} more {kind}s")
        total = sum(report["labels"].values()) or 1
        print("labels: " + ", ".join(f"{k} {v} ({100 * v / total:.0f}%)" for k, v in report["labels"].items()))
        t = report["tokens"]
        print(f"tokens ({t['unit']}): min {t['min']}, mean {t['mean']}, p50 {t['p50']}, p95 {t['p95']}, max {t['max']}")
    return 1 if report["errors"] else 0
