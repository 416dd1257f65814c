"""What to caption: files, folders (recursive, by media extension), glob patterns, or a manifest JSONL."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from affectllm.jsonl import iter_jsonl
from affectllm.media.constants import MEDIA_EXTENSIONS


@dataclass
class CaptionItem:
    id: str  # stable: path relative to the folder given, or the manifest id
    path: str | None  # absolute media path; None for a text-only manifest entry
    subtitle: str | None = None
    audio_path: str | None = None  # a separate audio file beside the video (manifest entries)


def _manifest_items(manifest: Path) -> list[CaptionItem]:
    items = []
    root = manifest.parent
    for lineno, entry in iter_jsonl(manifest, "manifest"):
        videos = [str((root / v).resolve()) for v in entry.get("videos") or []]
        audios = [str((root / a).resolve()) for a in entry.get("audios") or []]
        path = (videos or audios or [None])[0]
        audio_path = audios[0] if videos and audios else None
        items.append(CaptionItem(str(entry.get("id") or f"{manifest.stem}:{lineno}"), path,
                                 entry.get("subtitle"), audio_path))
    return items


def collect_inputs(specs: list[str]) -> list[CaptionItem]:
    """Expand the command-line inputs into items, in a stable order, without duplicates.

    A missing path is kept as an item (it becomes an error record), so a typo never
    silently shrinks the job.
    """
    items: list[CaptionItem] = []
    for spec in specs:
        p = Path(spec)
        if p.is_file() and p.suffix == ".jsonl":
            items += _manifest_items(p)
        elif p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in MEDIA_EXTENSIONS)
            items += [CaptionItem(str(f.relative_to(p)), str(f.resolve())) for f in files]
        elif any(ch in spec for ch in "*?["):
            matches = sorted(glob.glob(spec, recursive=True))
            items += [CaptionItem(m, str(Path(m).resolve())) for m in matches if Path(m).is_file()]
        else:
            items.append(CaptionItem(spec, str(p.resolve()) if p.exists() else spec))
    seen: set[str] = set()
    unique = []
    for it in items:
        if it.id not in seen:
            seen.add(it.id)
            unique.append(it)
    return unique
