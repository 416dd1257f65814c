"""What every converter shares: rows with their file and line, the error policy, sample building, writing.

A recipe yields ``SourceRow``s and gives a ``build(row) -> dict | None``
function; ``convert`` runs it over every row, reports a malformed row as
``FILE:LINE: reason`` and skips it or stops (``--on-error``), and writes one
manifest sample per line (DESIGN.md's format)::

    {"id", "messages": [user "<video><audio>instruction", assistant target],
     "videos", "audios", "subtitle", "emotions", "valence", "dataset", "split", "label"}

Media paths are written relative to the manifest's folder.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from affectllm.errors import AffectLLMError
from affectllm.prompts import render_prompt, render_target

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".flv")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class RowError(ValueError):
    """One source row cannot become a sample (missing column, unknown label, missing clip)."""


@dataclass
class SourceRow:
    file: Path
    line: int  # 1-based line in ``file`` where the row starts
    data: Any

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def add_common_arguments(parser: argparse.ArgumentParser, styles: Iterable[str], default_style: str,
                         splits: Iterable[str] = ("train",), default_split: str = "all") -> None:
    parser.add_argument("--input", required=True, type=Path, metavar="ROOT", help="dataset root folder, as published")
    parser.add_argument("--out", required=True, type=Path, metavar="MANIFEST", help="manifest JSONL to write")
    parser.add_argument("--style", choices=list(styles), default=default_style,
                        help=f"chain-of-thought template of the assistant turn (default: {default_style})")
    parser.add_argument("--split", choices=["all", *splits], default=default_split,
                        help=f"which split to convert (default: {default_split})")
    parser.add_argument("--on-error", choices=["skip", "fail"], default="skip",
                        help="a malformed row is reported and skipped (default) or stops the run")
    parser.add_argument("--limit", type=int, default=None, help="stop after this many samples")


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise AffectLLMError(f"{path}: {what} not found; point --input at the dataset root as published")
    return path


def read_text(path: Path) -> str:
    # Several releases (MELD among them) are not valid UTF-8; keep going with replaced characters.
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def csv_rows(path: Path, required: Iterable[str] = (), header: bool = True,
             fieldnames: list[str] | None = None) -> Iterator[SourceRow]:
    """Rows of a CSV as dicts (header stripped of spaces), each with the line it starts on.

    ``required`` columns missing from the header stop the run; a row lacking
    one of them (short row) is yielded with the value None and fails in build.
    """
    text = read_text(require_file(path, "label file"))
    reader = csv.reader(text.splitlines(keepends=True))
    names = fieldnames
    if header:
        try:
            names = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        missing = [c for c in required if c not in names]
        if missing:
            raise AffectLLMError(f"{path}:1: missing column(s) {', '.join(missing)}; found {', '.join(names)}")
    start = reader.line_num + 1
    for values in reader:
        if any(v.strip() for v in values):
            yield SourceRow(path, start, {n: (values[i] if i < len(values) else None) for i, n in enumerate(names)})
        start = reader.line_num + 1


def cell(row: SourceRow, column: str) -> str:
    """A non-empty stripped value, or RowError naming the column."""
    value = row.data.get(column)
    if value is None or not str(value).strip():
        raise RowError(f"missing value in column {column!r}")
    return str(value).strip()


def parse_label_list(text: str) -> list[str]:
    """Open-vocabulary label cells: "['happy', 'relieved']", "happy, relieved" or "happy; relieved"."""
    text = (text or "").strip()
    if text.startswith("["):
        try:
            return [str(x).strip() for x in ast.literal_eval(text) if str(x).strip()]
        except (ValueError, SyntaxError):
            text = text.strip("[]")
    return [p.strip(" '\"") for p in text.replace(";", ",").split(",") if p.strip(" '\"")]


def find_media(folder: Path, stem: str, extensions: Iterable[str]) -> Path:
    """``folder/stem`` with the first extension that exists; RowError naming the folder otherwise."""
    for ext in extensions:
        p = folder / f"{stem}{ext}"
        if p.is_file():
            return p
    raise RowError(f"clip {stem!r} not found in {folder} (tried {', '.join(extensions)})")


def emotion_words(labels: Iterable[str]) -> list[str]:
    """Gold labels as vocabulary words where known (joy -> joyful), open-vocabulary words kept."""
    from affectllm.emotions import default_vocabulary

    vocab, out = default_vocabulary(), []
    for label in labels:
        word = vocab.normalize(label) or label.strip().lower()
        if word and word not in out:
            out.append(word)
    return out


def label_valence(words: list[str]) -> float | None:
    """Mean vocabulary valence of the words that have one (for datasets without a valence rating)."""
    from affectllm.emotions import default_vocabulary

    vals = [v for v in (default_vocabulary().valence(w) for w in words) if v is not None]
    return round(sum(vals) / len(vals), 3) if vals else None


def description_sections(description: str) -> dict[str, str]:
    """Reasoning sections of a free description (the affectgpt_hybrid parser's split: cues, then the concluding sentence)."""
    from affectllm.reasoning import parse_output

    return parse_output("affectgpt_hybrid", description).sections


def make_sample(sample_id: str, out_dir: Path, style: str, *, emotions: list[str], video: Path | None = None,
                audio: Path | None = None, subtitle: str = "", valence: float | None = None,
                record: dict | None = None, prompt_fields: dict | None = None, **meta: Any) -> dict:
    """One manifest sample; the assistant turn is ``render_target(style, record)``.

    ``record`` carries what the template needs (reasoning sections, clues,
    action units, description, cause spans, response); ``emotions`` are added.
    The subtitle is not repeated in the instruction: the data pipeline puts
    the ``subtitle`` field into the prompt itself.
    """
    record = dict(record or {}, emotions=emotions)
    target = render_target(style, record)
    if not target.strip() or (not emotions and style != "affectgpt_hybrid"):
        raise RowError("empty target (no emotion label and no description)")
    prompt_fields = dict(prompt_fields or {})
    if style == "affectgpt_hybrid":
        prompt_fields.setdefault("target_mode", record.get("target_mode") or ("description" if record.get("description") else "label"))
    tags = ("<video>" if video else "") + ("<audio>" if audio else "")
    sample = {
        "id": sample_id,
        "messages": [{"role": "user", "content": tags + render_prompt(style, **prompt_fields)},
                     {"role": "assistant", "content": target, "loss": True}],
        "videos": [os.path.relpath(video, out_dir)] if video else [],
        "audios": [os.path.relpath(audio, out_dir)] if audio else [],
        "subtitle": (subtitle or "").strip(),
        "emotions": emotions,
        "valence": None if valence is None else round(float(valence), 4),
    }
    sample.update({k: v for k, v in meta.items() if v is not None})
    return sample


def convert(args: argparse.Namespace, rows: Iterable[SourceRow], build: Callable[[SourceRow], dict | None],
            dataset: str) -> int:
    """Run ``build`` over ``rows`` and write the manifest; returns the exit code (1 when nothing was written)."""
    from tqdm import tqdm

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    seen: set[str] = set()
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in tqdm(rows, desc=f"{dataset} -> {out.name}", unit="row", disable=not sys.stderr.isatty()):
            try:
                sample = build(row)
                if sample is None:
                    continue
                if sample["id"] in seen:
                    raise RowError(f"duplicate id {sample['id']!r}")
            except (RowError, KeyError, ValueError, TypeError) as err:
                message = f"{row.where}: {err}"
                if args.on_error == "fail":
                    tmp.unlink(missing_ok=True)
                    raise AffectLLMError(f"{message} (use --on-error skip to leave such rows out)") from None
                print(f"skipped {message}", file=sys.stderr)
                skipped += 1
                continue
            seen.add(sample["id"])
            sample.setdefault("dataset", dataset)
            fh.write(json.dumps(sample, ensure_ascii=False) + "\n")
            written += 1
            if args.limit is not None and written >= args.limit:
                break
    tmp.replace(out)
    print(f"{dataset}: wrote {written} samples to {out} ({skipped} rows skipped)", file=sys.stderr)
    return 0 if written else 1
