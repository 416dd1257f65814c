"""Which datasets a suite holds, how each is scored, and which manifest is which dataset.

MER-UniBench (AffectGPT, Lian et al., ICML 2025, arXiv:2501.16566, section 4): fine-grained
emotion recognition on OV-MERD+ scored by emotion-wheel F1; basic emotion recognition on
MER2023, MER2024, IEMOCAP (four classes) and MELD scored by hit rate (the gold label among the
predicted emotions, through the wheels); sentiment analysis on CMU-MOSI, CMU-MOSEI, CH-SIMS and
CH-SIMS v2 scored by weighted F1 on polarity (WAF main, accuracy second). The suite's score is the
mean of the main metrics. We add the closed-set accuracy / WAF beside the hit rate for the datasets
with a class label, and sentiment WAF for MELD (its utterances carry a sentiment): extra columns,
never part of the mean.

``auto`` scores any manifest: a known dataset as above, an unknown one by what its gold holds
(a ``label``: hit rate and closed-set; only ``emotions``: wheel F1; a non-zero ``valence``: sentiment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectllm.core.errors import AffectLLMError


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # as papers print it
    tasks: tuple[str, ...]  # ``affectllm.eval`` tasks, the main one first
    aliases: tuple[str, ...] = ()  # other spellings (file stems, recipe names, the manifests' ``dataset`` field)


DATASETS = (
    DatasetSpec("OV-MERD+", ("ov",), ("ovmerd", "ovmerdplus", "ovmerd_plus")),
    DatasetSpec("MER2023", ("basic", "closed"), ("mer23",)),
    DatasetSpec("MER2024", ("basic", "closed"), ("mer24",)),
    DatasetSpec("IEMOCAP", ("basic", "closed"), ("iemocapfour", "iemocap4", "iemocap/4class")),
    DatasetSpec("MELD", ("basic", "closed", "sentiment")),
    DatasetSpec("CMU-MOSI", ("sentiment",), ("mosi",)),
    DatasetSpec("CMU-MOSEI", ("sentiment",), ("mosei",)),
    DatasetSpec("CH-SIMS", ("sentiment",), ("sims",)),
    DatasetSpec("CH-SIMS v2", ("sentiment",), ("simsv2", "sims-v2")),
)
SUITES: dict[str, tuple[str, ...] | None] = {
    "mer-unibench": tuple(d.name for d in DATASETS),
    "auto": None,  # every manifest given, known datasets as in MER-UniBench, others by their gold fields
}


def key(name: str) -> str:
    """A spelling-free key: 'OV-MERD+' -> 'ovmerdplus', 'CH-SIMS v2' -> 'chsimsv2'."""
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("+", "plus"))


_BY_KEY = {key(alias): d for d in DATASETS for alias in (d.name, *d.aliases)}
_BY_KEY.update({key("cmu" + a): d for d in DATASETS for a in d.aliases if a in ("mosi", "mosei")})
_BY_KEY.update({key("ch" + a): d for d in DATASETS for a in d.aliases if a.startswith("sims")})


def known_dataset(name: str) -> DatasetSpec | None:
    """The dataset a name spells, or a file stem begins with before a split suffix ('meld_dev', 'mer2023-test3')."""
    if key(name) in _BY_KEY:
        return _BY_KEY[key(name)]
    parts = re.split(r"[_.\-\s]+", name)
    for n in range(len(parts) - 1, 0, -1):
        found = _BY_KEY.get(key("".join(parts[:n])))
        if found is not None:
            return found
    return None


def _has(records: list[dict[str, Any]], field: str) -> bool:
    return any(r.get(field) not in (None, "", [], {}) for r in records)


def extra_tasks(records: list[dict[str, Any]]) -> tuple[str, ...]:
    """Tasks any dataset's gold supports beyond its paper metrics: dimensional ratings (``vad``: IEMOCAP,
    MSP-Podcast, MER, MOSI ...) and RECCON's cause tasks (``target_turn`` with ``cause_spans``)."""
    tasks = ["vad"] if _has(records, "vad") else []
    if _has(records, "target_turn") and any("cause_spans" in r for r in records):
        tasks += ["cause-span", "cause-pair"]
    return tuple(tasks)


def gold_tasks(records: list[dict[str, Any]]) -> tuple[str, ...]:
    """Tasks an unknown dataset's gold supports, the main one first."""
    causes = extra_tasks(records)
    tasks: list[str] = [t for t in causes if t.startswith("cause")]  # a cause dataset is scored on its causes
    if not tasks:
        tasks = ["basic", "closed"] if _has(records, "label") else ["ov"] if _has(records, "emotions") else []
        if any(isinstance(r.get("valence"), (int, float)) and r["valence"] != 0 for r in records):
            tasks.append("sentiment")
    tasks += [t for t in causes if t not in tasks]
    if not tasks:
        raise AffectLLMError("its samples have no gold label, emotions, valence, ratings or cause spans to score")
    return tuple(tasks)


@dataclass(frozen=True)
class DataSource:
    name: str  # the table's column name
    manifest: Path
    tasks: tuple[str, ...] | None  # None: decide from the gold fields


def suite_sources(suite: str, data: list[str]) -> tuple[list[DataSource], list[str]]:
    """The manifests of ``--data`` (``[NAME=]PATH``, a file or a folder of ``*.jsonl``) matched to the suite's
    datasets, and notes (files skipped, suite datasets not given). One AffectLLMError line for a mistake."""
    if suite not in SUITES:
        raise AffectLLMError(f"--suite {suite}: unknown suite; choose one of {', '.join(SUITES)}")
    members = SUITES[suite]
    sources: list[DataSource] = []
    notes: list[str] = []
    for spec in data:
        named, _, path = spec.rpartition("=") if "=" in spec and not Path(spec).exists() else ("", "", spec)
        p = Path(path)
        if p.is_dir():
            if named:
                raise AffectLLMError(f"--data {spec}: NAME=PATH names one manifest file, not a folder")
            files = sorted(f for f in p.glob("*.jsonl") if f.is_file())
            if not files:
                raise AffectLLMError(f"--data {p}: no *.jsonl manifest in this folder")
            for f in files:
                source = _source(f, None, members)
                if source is None:
                    notes.append(f"{f}: not a dataset of suite {suite}; skipped (name it NAME={f} to include it)")
                else:
                    sources.append(source)
        elif p.is_file():
            source = _source(p, named or None, members)
            if source is None:
                raise AffectLLMError(f"--data {spec}: {p.stem!r} is not a dataset of suite {suite} "
                                     f"({', '.join(members or ())}); name it, e.g. --data MELD={p}")
            sources.append(source)
        else:
            raise AffectLLMError(f"--data {spec}: no such manifest file or folder")
    seen: dict[str, Path] = {}
    for s in sources:
        if s.name in seen:
            raise AffectLLMError(f"--data: {seen[s.name]} and {s.manifest} are both {s.name}; give one manifest "
                                 "per dataset (NAME=PATH to tell them apart)")
        seen[s.name] = s.manifest
    if members:
        missing = [m for m in members if m not in seen]
        if missing:
            notes.append(f"suite {suite}: not given, left out of the table: {', '.join(missing)}")
        sources.sort(key=lambda s: members.index(s.name))
    if not sources:
        raise AffectLLMError("--data: no manifest to score")
    return sources, notes


def _source(path: Path, named: str | None, members: tuple[str, ...] | None) -> DataSource | None:
    """The dataset ``path`` is (by the name given, its file stem, or its samples' ``dataset`` field)."""
    spec = known_dataset(named or path.stem) or (None if named else known_dataset(_dataset_field(path)))
    if members is not None:  # a named suite: only its datasets
        return DataSource(spec.name, path, spec.tasks) if spec is not None and spec.name in members else None
    if spec is not None:
        return DataSource(spec.name, path, spec.tasks)
    return DataSource(named or path.stem, path, None)


def _dataset_field(path: Path) -> str:
    """The ``dataset`` field of a manifest's first sample ('' when absent or unreadable)."""
    import json

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    return str(json.loads(line).get("dataset") or "")
                except (json.JSONDecodeError, AttributeError):
                    return ""
    return ""
