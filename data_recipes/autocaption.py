"""Bootstrap training data from unlabelled clips: the cue path writes the chain of thought.

    affectllm recipe autocaption clips/ more.mp4 --out auto.jsonl --style emer
    affectllm recipe autocaption clips/ --out auto_expllm.jsonl --style expllm --llm models/Qwen2.5-3B-Instruct

Each clip goes through ``affectllm.cues`` (face, prosody, transcript, lexical
affect -> cue fusion, or a local LLM with ``--llm``); the manifest sample's assistant turn is
the chosen template's target built from that answer (EMER: visual / acoustic /
lexical clues, reasoning, emotions; ExpLLM: action units with intensity and
associated emotion, interpretation, expression). The transcript becomes the
sample's subtitle. A clip with sound is tagged ``<video><audio>`` (its own track is
the audio), one without ``<video>``, an audio file ``<audio>`` (``affectllm.core.manifest``). Ids already in OUT are skipped, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from affectllm.core.media_constants import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS

NAME = "autocaption"
HELP = "write chain-of-thought training samples for unlabelled videos with the cue path (no labels needed)"
STYLES = ("emer", "expllm")
MEDIA_SUFFIXES = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="media files or folders (searched recursively)")
    parser.add_argument("--out", required=True, help="manifest JSONL to write (appended to; existing ids skipped)")
    parser.add_argument("--style", choices=STYLES, default="emer", help="chain-of-thought layout of the target")
    from affectllm.cues.llm import LLM_OPTION_HELP

    parser.add_argument("--llm", default=None, help=LLM_OPTION_HELP)
    parser.add_argument("--whisper", default=None, help="local faster-whisper model folder (default: bundled tiny.en)")
    parser.add_argument("--num-frames", type=int, default=16, help="frames sampled per clip for face cues")


def media_files(inputs: list[str]) -> list[Path]:
    """Files as given plus media files under given folders, sorted per folder, without duplicates."""
    from affectllm.core.errors import AffectLLMError

    found: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in MEDIA_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            raise AffectLLMError(f"{item}: no such file or folder; give media files or folders of them")
    seen, unique = set(), []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def sample_id(path: Path, used: set[str]) -> str:
    """The file stem, prefixed by its folder when two clips share a stem."""
    sid = path.stem
    if sid in used:
        sid = f"{path.parent.name}_{path.stem}"
    n = 2
    base = sid
    while sid in used:
        sid, n = f"{base}_{n}", n + 1
    return sid


def target_record(rec, style: str) -> dict:
    """What ``render_target(style, ...)`` needs, from a cue-path result record."""
    from affectllm.cues.evidence.describe import action_unit_list, clue_texts

    out = {"reasoning": dict(rec.reasoning)}
    if style == "emer":
        out["clues"] = clue_texts(rec.cues)
    else:
        out["action_units"] = action_unit_list(rec.cues.get("face") or {})
    return out


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from affectllm.caption.writer import RecordWriter, read_done_ids
    from affectllm.cues.backend import CueBackend
    from .manifest import make_sample
    from .rows import RowError

    files = media_files(args.videos)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = read_done_ids(out)  # also cuts a line torn by a kill, so appending stays clean
    backend = CueBackend(llm=args.llm, whisper=args.whisper, num_frames=args.num_frames)
    used = set(done)
    jobs = []
    for f in files:
        sid = f.stem if f.stem in done else sample_id(f, used)
        used.add(sid)
        if sid not in done:
            jobs.append((sid, f))
    written = failed = 0
    with RecordWriter(out) as sink:
        for sid, f in tqdm(jobs, desc="autocaption", unit="clip", disable=not sys.stderr.isatty()):
            rec = backend.caption(str(f), sid)
            if rec.error:
                print(f"autocaption: skipped {f}: {rec.error}", file=sys.stderr)
                failed += 1
                continue
            is_audio = f.suffix.lower() in AUDIO_EXTENSIONS
            try:
                sample = make_sample(sid, out.parent.resolve(), args.style, emotions=rec.emotions,
                                     video=None if is_audio else f.resolve(), audio=f.resolve() if is_audio else None,
                                     video_sound=bool(rec.cues.get("has_audio")),
                                     subtitle=rec.cues["speech"].get("text", ""), valence=rec.extra.get("valence"),
                                     record=target_record(rec, args.style), answered_by=rec.extra["answered_by"],
                                     chain="cues")
            except RowError as err:
                print(f"autocaption: skipped {f}: {err}", file=sys.stderr)
                failed += 1
                continue
            sink.write(sample)
            written += 1
    print(f"autocaption: wrote {written} samples to {out} ({len(files) - len(jobs)} already there, {failed} skipped)")
    return 0 if written or not jobs else 1
