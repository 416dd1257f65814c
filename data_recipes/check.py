"""Validate a manifest: `affectllm recipe check manifest.jsonl [--tokenizer DIR] [--no-probe] [--json]`.

Reports malformed lines, missing or unreadable media (``affectllm.media``'s
probe), media tags without media, empty targets, empty chains (a reasoning
template whose target holds no reasoning, such as ``<think></think>`` or a bare
``Emotions: sad``), the label distribution and token-length statistics
(whitespace tokens, or a local tokenizer). Exit code 1 when any error was found.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from affectllm.errors import AffectLLMError, MediaError

NAME = "check"
HELP = "validate a manifest: media, targets, label distribution, token lengths"
MAX_LISTED = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="manifest JSONL")
    parser.add_argument("--tokenizer", help="local tokenizer folder for token counts (default: whitespace tokens)")
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
    from data_recipes.targets import CHAIN_STYLES

    style = target_style(sample, target)
    if style not in CHAIN_STYLES:
        return None
    sections = parse_output(style, target).sections
    if style == "expllm":  # the template writes a stock line for missing observations
        return None if sections["interpretation"] or sections["conclusion"] else style
    return None if any(sections.values()) else style


def _percentile(sorted_values: list[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1) + 0.5))] if sorted_values else 0


def _media_problem(path: Path, probe: bool) -> str | None:
    from affectllm.media.probe import check_file, probe_media

    try:
        (probe_media if probe else check_file)(path)
    except MediaError as err:
        return str(err)
    return None


def check_manifest(path: Path, tokenizer: str | None = None, probe: bool = True) -> dict:
    """The report as a dict: samples, errors [str], labels {word: count}, tokens {min, mean, p50, p95, max}."""
    from tqdm import tqdm

    if not path.is_file():
        raise AffectLLMError(f"{path}: manifest not found")
    count_tokens = (lambda text: len(text.split()))
    if tokenizer:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tokenizer)
        count_tokens = (lambda text: len(tok(text, add_special_tokens=False)["input_ids"]))
    root = path.resolve().parent
    errors, labels, lengths, seen, probed = [], Counter(), [], set(), {}
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
        sid = sample.get("id")
        if not sid:
            errors.append(f"{where}: no id")
        elif sid in seen:
            errors.append(f"{where}: duplicate id {sid!r}")
        seen.add(sid)
        messages = sample.get("messages") or []
        user = " ".join(m.get("content", "") for m in messages if m.get("role") == "user")
        target = " ".join(m.get("content", "") for m in messages if m.get("role") == "assistant")
        if not target.strip():
            errors.append(f"{where}: empty target (no assistant message with content)")
        elif (style := empty_chain(sample, target)) is not None:
            errors.append(f"{where}: empty chain: the {style} target holds no reasoning; re-run the recipe "
                          "(label-only samples become plain answers) or add --ground-chains")
        for tag, key in (("<video>", "videos"), ("<audio>", "audios")):
            if user.count(tag) != len(sample.get(key) or []):
                errors.append(f"{where}: {user.count(tag)} {tag} tag(s) but {len(sample.get(key) or [])} {key}")
        for media in (sample.get("videos") or []) + (sample.get("audios") or []):
            p = Path(media) if Path(media).is_absolute() else root / media
            if p not in probed:
                probed[p] = _media_problem(p, probe)
            if probed[p]:
                errors.append(f"{where}: {probed[p]}")
        labels.update(sample.get("emotions") or ["(none)"])
        lengths.append(count_tokens(user) + count_tokens(target))
    lengths.sort()
    tokens = {"min": lengths[0] if lengths else 0, "mean": round(sum(lengths) / len(lengths), 1) if lengths else 0,
              "p50": _percentile(lengths, 0.5), "p95": _percentile(lengths, 0.95), "max": lengths[-1] if lengths else 0,
              "unit": "tokenizer" if tokenizer else "whitespace"}
    if n == 0:
        errors.append(f"{path}: no samples")
    return {"manifest": str(path), "samples": n, "errors": errors, "labels": dict(labels.most_common()),
            "tokens": tokens}


def run(args: argparse.Namespace) -> int:
    report = check_manifest(args.manifest, args.tokenizer, probe=not args.no_probe)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{report['manifest']}: {report['samples']} samples, {len(report['errors'])} errors")
        for err in report["errors"][:MAX_LISTED]:
            print(f"  error: {err}")
        if len(report["errors"]) > MAX_LISTED:
            print(f"  ... and {len(report['errors']) - MAX_LISTED} more")
        total = sum(report["labels"].values()) or 1
        print("labels: " + ", ".join(f"{k} {v} ({100 * v / total:.0f}%)" for k, v in report["labels"].items()))
        t = report["tokens"]
        print(f"tokens ({t['unit']}): min {t['min']}, mean {t['mean']}, p50 {t['p50']}, p95 {t['p95']}, max {t['max']}")
    return 1 if report["errors"] else 0
