"""What to caption: files, folders (recursive, by media extension), glob patterns, or manifest JSONL.

Every input ends as exactly one item, and every item as one record: a path that does
not exist, a pattern that matches nothing, a sub-folder that cannot be read, a broken
link, a link that leads out of the folder you named (followed only with ``follow_links``)
or a manifest line whose media fields are malformed becomes an item with ``error`` set
(its record says why), never a silent gap. Ids are unique across all inputs:

* a file named on the command line keeps the path as given;
* a folder's files are relative to the folder, a manifest entry keeps its ``id``;
* when two inputs would share an id (``clip.mp4`` in two folders), the ids of every
  folder or manifest involved are prefixed by the path given: ``dA/clip.mp4``,
  ``data/mer.jsonl:sample_1``.

A duplicate id inside one manifest stops the run with both line numbers. A manifest
entry keeps its own question (its turns up to the last user turn, its dialogue
``context`` and ``speaker``) and must keep the manifest contract (``affectllm.core.manifest``);
an entry that breaks it (a malformed ``context`` too) is an error item. An
entry without ``messages`` is a bare list of media, asked the backend's own question.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from affectllm.core.errors import AffectLLMError
from affectllm.core.jsonl import iter_jsonl
from affectllm.core.manifest import ManifestError, MediaSpec, check_context, media_spec, prompt_turns
from affectllm.core.media_constants import MEDIA_EXTENSIONS

MANIFEST_SUFFIX = ".jsonl"


@dataclass
class CaptionItem:
    id: str  # unique across the inputs: see the module docstring
    path: str | None  # absolute media path; None for a text-only manifest entry
    subtitle: str | None = None
    audio_path: str | None = None  # a separate audio file beside the video (manifest entries)
    error: str | None = None  # known before decoding: the item's record is this error
    # a manifest entry's own question (``affectllm.core.manifest.prompt_turns``, media paths absolute, its
    # ``subtitle`` and ``style``): a checkpoint is asked exactly what the sample asks
    sample: dict | None = None


@dataclass
class _Source:
    """The items one command-line input expanded to."""

    label: str  # the input as given, normalised ("dA/" -> "dA")
    kind: str  # file | folder | manifest | missing
    items: list[CaptionItem] = field(default_factory=list)


def _prompt_sample(entry: dict, sid: str, spec: MediaSpec, root: Path, where: str) -> dict:
    """The entry as a question: its turns up to the last user turn, its dialogue context (speaker names, earlier
    turns), the scale its ratings are reported on; media paths made absolute."""
    sample = {"id": sid, "messages": prompt_turns(entry), "subtitle": entry.get("subtitle"), "style": entry.get("style")}
    if spec.video is not None:
        sample["videos"] = [str((root / spec.video).resolve())]
    if spec.audio is not None:
        sample["audios"] = [str((root / spec.audio).resolve())]
    if "context" in entry:
        sample["context"] = [{k: [str((root / p).resolve()) for p in v] if k in ("videos", "audios") else v
                              for k, v in turn.items()} for turn in check_context(entry, where)]
    for key in ("speaker", "vad_scale"):
        if key in entry:
            sample[key] = entry[key]
    return sample


def _manifest_items(manifest: Path) -> list[CaptionItem]:
    items = []
    root = manifest.parent
    first_line: dict[str, int] = {}
    for lineno, entry in iter_jsonl(manifest, "manifest"):
        sid = str(entry["id"]) if entry.get("id") not in (None, "") else f"{manifest.stem}:{lineno}"
        if sid in first_line:
            raise AffectLLMError(f"{manifest}:{lineno}: duplicate id {sid!r} (first on line {first_line[sid]}); "
                                 "give every manifest entry its own id")
        first_line[sid] = lineno
        try:
            spec = media_spec(entry, f"{manifest}:{lineno}", question_optional=True)
            sample = _prompt_sample(entry, sid, spec, root, f"{manifest}:{lineno}")
        except ManifestError as err:
            items.append(CaptionItem(sid, None, error=str(err)))
            continue
        videos, audios = sample.get("videos", []), sample.get("audios", [])
        if "messages" not in entry:  # a bare media list: the backend asks its own question
            sample = None
        path = (videos or audios or [None])[0]
        audio_path = audios[0] if videos and audios else None
        subtitle = entry.get("subtitle")
        items.append(CaptionItem(sid, path, None if subtitle is None else str(subtitle), audio_path, sample=sample))
    return items


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _link_error(link: Path, target: Path, root: Path, follow_links: bool) -> str | None:
    """Why a symbolic link inside the named folder is not captioned, or None when it is followed."""
    if not target.exists():
        return f"{link} is a broken link (to {target}); fix or remove it"
    if not follow_links and not _inside(target, root):
        return (f"{link} is a link to {target}, outside the folder you named; not followed — pass --follow-links "
                "to caption through links, or name that file or folder yourself")
    return None


def _folder_items(folder: Path, follow_links: bool = False) -> list[CaptionItem]:
    """Media files under ``folder`` (sorted, ids relative to it). A link is followed when it stays inside
    ``folder`` (anywhere with ``follow_links``); a link that leaves it, a broken link, a folder seen twice
    through links and an unreadable sub-folder each become an error item, so nothing is skipped silently."""
    root = folder.resolve()
    found: list[tuple[str, CaptionItem]] = []
    seen: set[Path] = set()

    def error(path: Path, rel: str, message: str) -> None:
        found.append((rel, CaptionItem(rel, str(path), error=message)))

    def walk(here: Path) -> None:
        seen.add(here.resolve())
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as err:
            rel = here.relative_to(folder).as_posix() + "/"
            return error(here, rel, f"folder {here} cannot be read ({err.strerror}); its files were not captioned "
                                    "— fix its permissions and rerun")
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(folder).as_posix()
            target = path.resolve()
            why = _link_error(path, target, root, follow_links) if entry.is_symlink() else None
            if target.is_dir():
                if why is None and target in seen:
                    why = f"{path} is a link to {target}, a folder already captioned here; not followed again"
                if why is not None:
                    error(path, rel + "/", why)
                else:
                    walk(path)
            elif path.suffix.lower() in MEDIA_EXTENSIONS:
                if why is None and not target.is_file():
                    why = f"{path} is not a regular file (a pipe or device); name a media file"
                found.append((rel, CaptionItem(rel, str(target), error=why)))

    walk(folder)
    return [item for _, item in sorted(found, key=lambda x: x[0])]


def _expand(spec: str, follow_links: bool = False) -> list[_Source]:
    p = Path(spec)
    label = os.path.normpath(spec)
    if p.is_dir():
        return [_Source(label, "folder", _folder_items(p, follow_links))]
    if p.is_file():  # checked before globbing: a real file may have [ or * in its name
        if p.suffix.lower() == MANIFEST_SUFFIX:
            return [_Source(label, "manifest", _manifest_items(p))]
        return [_Source(label, "file", [CaptionItem(spec, str(p.resolve()))])]
    if glob.has_magic(spec):
        matches = sorted(glob.glob(spec, recursive=True))
        if not matches:
            return [_Source(label, "missing", [CaptionItem(spec, None, error=f"{spec}: no file matches this pattern")])]
        return [source for m in matches for source in _expand(m, follow_links)]
    return [_Source(label, "missing", [CaptionItem(spec, spec, error=f"{spec}: no such file or folder")])]


def _prefixed(source: _Source) -> list[CaptionItem]:
    sep = ":" if source.kind == "manifest" else "/"
    return [CaptionItem(f"{source.label}{sep}{it.id}", it.path, it.subtitle, it.audio_path, it.error,
                        None if it.sample is None else dict(it.sample, id=f"{source.label}{sep}{it.id}"))
            for it in source.items]


def _signature(it: CaptionItem) -> tuple:
    question = None if it.sample is None else json.dumps(it.sample.get("messages"), sort_keys=True)
    return (it.path, it.subtitle, it.audio_path, it.error, question)


def _without_repeats(items: list[CaptionItem]) -> list[CaptionItem]:
    """The same input named twice (same id, same file) is one input."""
    seen: set[tuple] = set()
    out = []
    for it in items:
        key = (it.id, *_signature(it))
        if key not in seen:
            seen.add(key)
            out.append(it)
    return out


def collect_inputs(specs: list[str], follow_links: bool = False) -> list[CaptionItem]:
    """Expand the command-line inputs into items with unique ids, in a stable order (see the module docstring).
    ``follow_links``: follow symbolic links inside a folder that lead out of it (default: an error item each)."""
    sources = [source for spec in specs for source in _expand(spec, follow_links)]
    holders: dict[str, list[tuple[int, tuple]]] = {}
    for k, source in enumerate(sources):
        for it in source.items:
            holders.setdefault(it.id, []).append((k, _signature(it)))

    def clashes(k: int, it: CaptionItem) -> bool:  # another input holds a *different* item under this id
        return any(j != k and sig != _signature(it) for j, sig in holders[it.id])

    items: list[CaptionItem] = []
    for k, source in enumerate(sources):
        shared = source.kind in ("folder", "manifest") and any(clashes(k, it) for it in source.items)
        items += _prefixed(source) if shared else source.items
    items = _without_repeats(items)
    counts = Counter(it.id for it in items)
    clash = next((rid for rid, n in counts.items() if n > 1), None)
    if clash is not None:
        raise AffectLLMError(f"two different inputs would both get the id {clash!r}; rename one of them or "
                             "caption them in separate runs")
    return items


@dataclass(frozen=True)
class Hearing:
    """What a checkpoint hears of each input. ``asr``: the sound of an input without a subtitle is transcribed
    (faster-whisper; ``whisper``: a local model folder, default the bundled tiny.en) and the transcript is its
    subtitle. ``drop``: modalities every input is asked without (``affectllm.core.manifest.withhold``: files and
    tags removed; an ablation)."""

    asr: bool = True
    whisper: str | None = None
    drop: frozenset[str] = frozenset()
