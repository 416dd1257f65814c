"""What every converter shares: rows with their file and line, the error policy, sample building, writing.

A recipe yields ``SourceRow``s and gives a ``build(row) -> dict | None``
function; ``convert`` runs it over every row and accounts for each one: it
becomes a sample, or a malformed row is reported as ``FILE:LINE: reason``
and skipped or stops the run (``--on-error``), or a row the protocol leaves
out on purpose (``LeftOut``: no majority label, a class outside
``--classes 4``) is reported as ``left out FILE:LINE: reason``. Each sample
is one manifest line (the README's format)::

    {"id", "messages": [user "<video><audio>instruction", assistant target],   (tags: affectllm.manifest)
     "videos", "audios", "subtitle", "emotions", "valence", "dataset", "split", "label",
     "style", "chain"}     (+ "vad", "vad_scale": affectllm.dimensions; "context": affectllm.recipes.context)

``style`` is the template the target was rendered with and ``chain`` says
where its reasoning came from (``affectllm.recipes.targets``). Media paths are
written relative to the manifest's folder; a path taken from the data must
stay inside the folder the user pointed at (``inside``).
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
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from affectllm.errors import AffectLLMError
from affectllm.manifest import media_tags
from affectllm.prompts import render_prompt, render_target

if TYPE_CHECKING:
    from .targets import Targets

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".flv")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class RowError(ValueError):
    """One source row cannot become a sample (missing column, unknown label, missing clip)."""


class LeftOut(Exception):
    """A well-formed row the protocol excludes on purpose (no majority label, a class outside the chosen set).

    Reported with its reason and counted, never an error under ``--on-error fail``.
    """


@dataclass
class SourceRow:
    file: Path
    line: int  # 1-based line in ``file`` where the row starts
    data: Any
    entry: int | None = None  # 1-based position in a JSON list (a one-line file's lines say nothing)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" + (f" (entry {self.entry})" if self.entry is not None else "")


def add_common_arguments(parser: argparse.ArgumentParser, styles: Iterable[str], default_style: str,
                         splits: Iterable[str] = ("train",), default_split: str = "all",
                         label_only: bool = False) -> None:
    """The options every recipe takes; ``label_only`` recipes (no descriptions in the data) also get
    ``--ground-chains`` (see ``affectllm.recipes.targets``)."""
    parser.add_argument("--input", required=True, type=Path, metavar="ROOT", help="dataset root folder, as published")
    parser.add_argument("--out", required=True, type=Path, metavar="MANIFEST", help="manifest JSONL to write")
    parser.add_argument("--style", choices=list(styles), default=default_style,
                        help=f"chain-of-thought template of the assistant turn (default: {default_style})")
    parser.add_argument("--split", choices=["all", *splits], default=default_split,
                        help=f"which split to convert (default: {default_split})")
    parser.add_argument("--on-error", choices=["skip", "fail"], default="skip",
                        help="a malformed row is reported and skipped (default) or stops the run")
    parser.add_argument("--limit", type=int, default=None, help="stop after this many samples")
    if label_only:
        parser.add_argument("--ground-chains", action="store_true",
                            help="write a reasoning chain for each label-only sample from the cues of its own media "
                                 "(face, voice, words), conditioned on the gold label; without it a chain --style "
                                 "falls back to plain answers")
        parser.add_argument("--ground-frames", type=int, default=8, metavar="N",
                            help="frames sampled per clip for --ground-chains (default: 8)")
        parser.add_argument("--resume", action="store_true",
                            help="with --ground-chains: reuse the grounded samples already in OUT, or in OUT.part "
                                 "left by an interrupted run, instead of grounding them again")


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


def split_csv_rows(root: Path, files: dict[str, str], split: str, dataset: str,
                   required: Iterable[str] = ()) -> Iterator[SourceRow]:
    """Rows of each split's label CSV under ``root`` (``files``: split -> file name), ``row.data["_split"]`` set.

    ``--split all`` reads the splits whose file is there and says which are missing (all of them missing is
    an error naming the first); a named split needs its file."""
    wanted = [name for name in files if split in ("all", name)]
    present = [name for name in wanted if (root / files[name]).is_file()]
    if split != "all" or not present:
        present = wanted  # a named split, or none at all: require_file says which file is missing
    for name in wanted:
        if name not in present:
            print(f"{dataset.lower()}: no {files[name]} in {root}; the {name} split is not converted", file=sys.stderr)
    for name in present:
        for row in csv_rows(require_file(root / files[name], f"{dataset} {name} label file"), required=required):
            row.data["_split"] = name
            yield row


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV's first line (stripped), [] for an empty file."""
    lines = read_text(require_file(path, "label file")).splitlines()
    return [h.strip() for h in next(csv.reader(lines[:1]), [])]


def json_list_rows(path: Path, what: str) -> Iterator[SourceRow]:
    """The elements of a JSON file holding a list, each with the line it starts on and its position."""
    text = read_text(require_file(path, what))
    decoder = json.JSONDecoder()
    i = len(text) - len(text.lstrip())
    if not text.startswith("[", i):
        raise AffectLLMError(f"{path}:1: expected a JSON list of {what} entries")
    i += 1
    line, counted, entry = 1, 0, 0
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            raise AffectLLMError(f"{path}: unexpected end of file (the JSON list is not closed)")
        if text[i] == "]":
            return
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as err:
            raise AffectLLMError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        line += text.count("\n", counted, i)
        counted, entry = i, entry + 1
        yield SourceRow(path, line, value, entry)
        i = end


def cell(row: SourceRow, column: str) -> str:
    """A non-empty stripped value, or RowError naming the column."""
    value = row.data.get(column)
    if value is None or not str(value).strip():
        raise RowError(f"missing value in column {column!r}")
    return str(value).strip()


def split_list_cell(text: str) -> list[str]:
    """The items of a list-valued cell (open-vocabulary labels, speakers): "['happy', 'relieved']", "happy, relieved"
    or "happy; relieved" -> ["happy", "relieved"]; an empty cell gives []."""
    text = (text or "").strip()
    if text.startswith("["):
        try:
            return [str(x).strip() for x in ast.literal_eval(text) if str(x).strip()]
        except (ValueError, SyntaxError):
            text = text.strip("[]")
    return [p.strip(" '\"") for p in text.replace(";", ",").split(",") if p.strip(" '\"")]


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` when it stays inside ``root``; RowError otherwise (a data file names ``../x`` or ``/x``)."""
    path = (root / relative).resolve()
    base = root.resolve()
    if path != base and base not in path.parents:
        raise RowError(f"path {relative!r} leaves {root}; paths in the data must stay inside the dataset folder")
    return root / relative


def plain_name(name: str) -> str:
    """A clip name from the data, refused when it is not a bare file name (``../x``, ``a/b``)."""
    if not name or name in (".", "..") or Path(name).name != name or "\\" in name:
        raise RowError(f"name {name!r} is not a plain file name")
    return name


def find_media(folder: Path | Iterable[Path], stem: str, extensions: Iterable[str]) -> Path:
    """``folder/stem`` (first of several folders) with the first extension that exists; RowError naming
    the folder(s) otherwise."""
    folders = [folder] if isinstance(folder, Path) else list(folder)
    extensions = tuple(extensions)
    plain_name(stem)
    for f in folders:
        for ext in extensions:
            p = f / f"{stem}{ext}"
            if p.is_file():
                return p
    where = folders[0] if len(folders) == 1 else "{" + ", ".join(str(f) for f in folders) + "}"
    raise RowError(f"clip {stem!r} not found in {where} (tried {', '.join(extensions)})")


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


def make_sample(sample_id: str, out_dir: Path, style: "str | Targets", *, emotions: list[str],
                video: Path | None = None, audio: Path | None = None, subtitle: str = "",
                valence: float | None = None, record: dict | None = None, prompt_fields: dict | None = None,
                video_sound: bool | None = None, **meta: Any) -> dict:
    """One manifest sample; the assistant turn is ``render_target`` of the style ``targets`` settles on.

    ``style`` is a template name or a ``Targets`` (which also decides what a
    label-only sample becomes: a plain answer, or a chain grounded in its
    media's cues). ``record`` carries what the template needs (reasoning
    sections, clues, action units, description, cause spans, response);
    ``emotions`` are added. The subtitle is not repeated in the instruction:
    the data pipeline puts the ``subtitle`` field into the prompt itself. The media tags follow
    ``affectllm.manifest.media_tags``: a video is seen and heard (its own track answers ``<audio>``
    unless ``video_sound`` is False), an image seen, an audio file heard.
    """
    from .targets import Targets

    targets = style if isinstance(style, Targets) else Targets(style)
    if sample_id in targets.reuse:
        return targets.reuse[sample_id]
    record = dict(record or {}, emotions=emotions)
    if not emotions and not record.get("description"):
        raise RowError("empty target (no emotion label and no description)")
    style, record, chain = targets.resolve(record, video=video, audio=audio, subtitle=subtitle, valence=valence)
    target = render_target(style, record)
    if not target.strip():
        raise RowError("empty target (no emotion label and no description)")
    prompt_fields = dict(prompt_fields or {})
    if style == "affectgpt_hybrid":
        prompt_fields.setdefault("target_mode", record.get("target_mode") or ("description" if record.get("description") else "label"))
    tags = media_tags(video, audio, video_sound)
    sample = {
        "id": sample_id,
        "messages": [{"role": "user", "content": tags + render_prompt(style, **prompt_fields)},
                     {"role": "assistant", "content": target, "loss": True}],
        "videos": [os.path.relpath(video, out_dir)] if video else [],
        "audios": [os.path.relpath(audio, out_dir)] if audio else [],
        "subtitle": (subtitle or "").strip(),
        "emotions": emotions,
        "valence": None if valence is None else round(float(valence), 4),
        "style": style,
        "chain": chain,
    }
    if chain == "cues":
        sample["grounding"] = record.get("grounding")
    sample.update({k: v for k, v in meta.items() if v is not None})
    return sample


def written_samples(path: Path) -> dict[str, dict]:
    """Samples by id in a manifest written earlier (a line torn by an interruption is ignored)."""
    found: dict[str, dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                sample = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(sample, dict) and sample.get("id"):
                found[str(sample["id"])] = sample
    return found


MAX_LEFT_OUT_LISTED = 10  # per reason; the rest are counted in the closing summary


def convert(args: argparse.Namespace, rows: Iterable[SourceRow], build: Callable[[SourceRow], dict | None],
            dataset: str, targets: "Targets | None" = None) -> int:
    """Run ``build`` over ``rows`` and write the manifest; returns the exit code (1 when nothing was written).

    Every row is accounted for: written, skipped with its error, or left out
    with its reason (``LeftOut``; the first few per reason are listed, all are
    counted). ``targets``, when given, adds its note on label-only samples to
    the closing summary.
    """
    from collections import Counter

    from tqdm import tqdm

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    left_out: Counter[str] = Counter()
    seen: set[str] = set()
    tmp = out.with_name(out.name + ".part")
    if targets is not None and targets.grounder is not None and getattr(args, "resume", False):
        earlier = {**written_samples(out), **written_samples(tmp)}
        # Only chains grounded for the same template are worth keeping; everything else is cheap to redo.
        targets.reuse = {k: v for k, v in earlier.items() if v.get("chain") == "cues" and v.get("style") == targets.style}
        print(f"{dataset}: resuming: {len(targets.reuse)} grounded samples already written are reused", file=sys.stderr)
    with tmp.open("w", encoding="utf-8") as fh:
        for row in tqdm(rows, desc=f"{dataset} -> {out.name}", unit="row", disable=not sys.stderr.isatty()):
            try:
                sample = build(row)
                if sample is None:
                    continue
                if sample["id"] in seen:
                    raise RowError(f"duplicate id {sample['id']!r}")
            except LeftOut as why:
                reason = str(why)
                left_out[reason] += 1
                if left_out[reason] <= MAX_LEFT_OUT_LISTED:
                    print(f"left out {row.where}: {reason}", file=sys.stderr)
                continue
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
            if targets is not None and targets.grounder is not None:
                fh.flush()  # grounding is slow: keep what is done for --resume
            written += 1
            if args.limit is not None and written >= args.limit:
                break
    tmp.replace(out)
    summary = f"{dataset}: wrote {written} samples to {out} ({skipped} rows skipped"
    if left_out:
        summary += f", {sum(left_out.values())} left out: " + "; ".join(f"{n} {r}" for r, n in left_out.most_common())
    print(summary + ")", file=sys.stderr)
    if targets is not None and targets.note():
        print(f"{dataset}: {targets.note()}", file=sys.stderr)
    return 0 if written else 1
