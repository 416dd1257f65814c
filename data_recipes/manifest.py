"""What every converter shares: the error policy, sample building, writing.

A recipe yields ``SourceRow``s (``affectllm.recipes.rows``: rows with their
file and line) and gives a ``build(row) -> dict | None`` function; ``convert`` runs it over every row and accounts for each one: it
becomes a sample, or a malformed row is reported as ``FILE:LINE: reason``
and skipped or stops the run (``--on-error``), or a row the protocol leaves
out on purpose (``LeftOut``: no majority label, a class outside
``--classes 4``) is reported as ``left out FILE:LINE: reason``. Each sample
is one manifest line (the README's format)::

    {"id", "messages": [user "<video><audio>instruction", assistant target],   (tags: affectllm.core.manifest)
     "videos", "audios", "subtitle", "emotions", "valence", "dataset", "split", "label",
     "style", "chain"}     (+ "vad", "vad_scale": affectllm.core.dimensions; "context": affectllm.recipes.context)

``style`` is the template the target was rendered with and ``chain`` says
where its reasoning came from (``affectllm.recipes.targets``). Media paths are
written relative to the manifest's folder; a path taken from the data must
stay inside the folder the user pointed at (``inside``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from affectllm.core.errors import AffectLLMError
from affectllm.core.manifest import media_tags, withhold
from affectllm.core.media_constants import MODALITIES
from affectllm.reasoning.prompts import render_prompt, render_target

from .rows import RowError, SourceRow

if TYPE_CHECKING:
    from .targets import Targets

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".flv")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class LeftOut(Exception):
    """A well-formed row the protocol excludes on purpose (no majority label, a class outside the chosen set).

    Reported with its reason and counted, never an error under ``--on-error fail``.
    """


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
    parser.add_argument("--drop", default="", metavar="MODALITY[,MODALITY]",
                        help="write every sample without these modalities (video, audio, text: an ablation set, "
                             "e.g. the words alone), made as `caption --drop` asks: files and tags removed")
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


def dropped_modalities(value: str) -> frozenset[str]:
    """``--drop video,audio`` -> the modalities named, each checked."""
    drop = frozenset(m.strip() for m in value.split(",") if m.strip())
    unknown = sorted(drop - set(MODALITIES))
    if unknown:
        raise AffectLLMError(f"--drop {value}: {', '.join(unknown)} is not a modality ({', '.join(MODALITIES)})")
    return drop


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
    ``affectllm.core.manifest.media_tags``: a video is seen and heard (its own track answers ``<audio>``
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
    """Samples by id in a manifest written earlier. Only a last line without its newline (torn by an
    interruption) may fail to parse and is left for the run to redo; any other bad line is an error naming it,
    so --resume never drops a sample silently."""
    found: dict[str, dict] = {}
    if not path.is_file():
        return found
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            sample = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the write was cut
                continue
            raise AffectLLMError(f"{path}:{number}: not a JSON sample, so --resume cannot reuse this file; delete "
                                 "the line (or the file) and run again") from None
        if not isinstance(sample, dict) or not sample.get("id"):
            raise AffectLLMError(f"{path}:{number}: a sample needs an \"id\", so --resume cannot reuse this file")
        found[str(sample["id"])] = sample
    return found


MAX_LEFT_OUT_LISTED = 10  # per reason; the rest are counted in the closing summary


class _Tally:
    """What became of each row: written, skipped with its error, or left out with its reason."""

    def __init__(self, on_error: str, part: Path):
        from collections import Counter

        self.on_error, self.part = on_error, part
        self.written = self.skipped = 0
        self.left_out: Counter[str] = Counter()
        self.seen: set[str] = set()

    def sample(self, row: SourceRow, build: Callable[[SourceRow], dict | None]) -> dict | None:
        """``build(row)``, or None for a row that is left out, skipped or yields nothing; under
        ``--on-error fail`` a malformed row removes the partial manifest and stops the run."""
        try:
            sample = build(row)
            if sample is not None and sample["id"] in self.seen:
                raise RowError(f"duplicate id {sample['id']!r}")
        except LeftOut as why:
            reason = str(why)
            self.left_out[reason] += 1
            if self.left_out[reason] <= MAX_LEFT_OUT_LISTED:
                print(f"left out {row.where}: {reason}", file=sys.stderr)
            return None
        except (RowError, KeyError, ValueError, TypeError) as err:
            message = f"{row.where}: {err}"
            if self.on_error == "fail":
                self.part.unlink(missing_ok=True)
                raise AffectLLMError(f"{message} (use --on-error skip to leave such rows out)") from None
            print(f"skipped {message}", file=sys.stderr)
            self.skipped += 1
            return None
        if sample is not None:
            self.seen.add(sample["id"])
        return sample

    def summary(self, dataset: str, out: Path) -> str:
        text = f"{dataset}: wrote {self.written} samples to {out} ({self.skipped} rows skipped"
        if self.left_out:
            text += (f", {sum(self.left_out.values())} left out: "
                     + "; ".join(f"{n} {r}" for r, n in self.left_out.most_common()))
        return text + ")"


def _reuse_grounded(targets: "Targets", out: Path, part: Path, dataset: str) -> None:
    """``--resume``: chains grounded earlier (in OUT or OUT.part) for the same template are kept."""
    earlier = {**written_samples(out), **written_samples(part)}
    # Only chains grounded for the same template are worth keeping; everything else is cheap to redo.
    targets.reuse = {k: v for k, v in earlier.items() if v.get("chain") == "cues" and v.get("style") == targets.style}
    print(f"{dataset}: resuming: {len(targets.reuse)} grounded samples already written are reused", file=sys.stderr)


def convert(args: argparse.Namespace, rows: Iterable[SourceRow], build: Callable[[SourceRow], dict | None],
            dataset: str, targets: "Targets | None" = None) -> int:
    """Run ``build`` over ``rows`` and write the manifest; returns the exit code (1 when nothing was written).

    Every row is accounted for: written, skipped with its error, or left out
    with its reason (``LeftOut``; the first few per reason are listed, all are
    counted). ``targets``, when given, adds its note on label-only samples to
    the closing summary.
    """
    from tqdm import tqdm

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    grounding = targets is not None and targets.grounder is not None
    if grounding and getattr(args, "resume", False):
        _reuse_grounded(targets, out, part, dataset)
    drop = dropped_modalities(getattr(args, "drop", ""))
    tally = _Tally(args.on_error, part)
    with part.open("w", encoding="utf-8") as fh:
        for row in tqdm(rows, desc=f"{dataset} -> {out.name}", unit="row", disable=not sys.stderr.isatty()):
            sample = tally.sample(row, build)
            if sample is None:
                continue
            sample.setdefault("dataset", dataset)
            sample = withhold(sample, drop)
            fh.write(json.dumps(sample, ensure_ascii=False) + "\n")
            if grounding:
                fh.flush()  # grounding is slow: keep what is done for --resume
            tally.written += 1
            if args.limit is not None and tally.written >= args.limit:
                break
    part.replace(out)
    print(tally.summary(dataset, out), file=sys.stderr)
    if targets is not None and targets.note():
        print(f"{dataset}: {targets.note()}", file=sys.stderr)
    return 0 if tally.written else 1
