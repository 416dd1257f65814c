"""Official MER-UniBench emotion wheels: word -> level1 of wheel k, exactly as the reference maps it.

The official files (``format.csv``, ``synonym.xlsx``, ``wheel1.xlsx`` ...
``wheel5.xlsx``) are not shipped; the user points ``--wheel-dir`` at them.

Rules reproduced from the reference (AffectGPT ``wheel.py``):

1. ``format.csv`` maps a surface form to base forms (its ``name`` column).
   Every value of the ``format`` column and every ``name`` itself is a key;
   keys are taken as written (not lower-cased), so a form written with
   capitals can never match.
2. ``synonym.xlsx`` holds 8 runs of (wheel word, synonym list). A base form
   maps to the union over runs of the wheel words whose own entry or synonym
   list contains it (entries stripped and lower-cased).
3. Each ``wheelK.xlsx`` lists level1/level2/level3 with blank cells meaning
   "same as the row above" (all three columns, level3 too). Every word at any
   level maps to its level1; a word listed under two level1 groups keeps the
   group iterated last.
4. An item is looked up as ``item.lower().strip()``; unknown items are
   dropped; otherwise the sorted candidate wheel words are tried in Python
   string order and the first one present in wheel k gives the level1.
   Items are never split.

The tables are read as the reference's table reader reads them: cells equal
to pandas' default missing-value markers ("NA", "null", "nan", ...) count
as empty.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from affectllm.core.errors import AffectLLMError

WHEEL_NAMES = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")
SYNONYM_RUNS = 8

# pandas' default missing-value strings: the reference reads its tables with pandas.
_MISSING_MARKERS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)
_LIST_SEPARATORS = re.compile("['\",]")


def parse_label_list(value) -> list[str]:
    """A label list as the reference reads one from a string: ``"[happy, 'sad']"`` -> ``["happy", "sad"]``.

    Lists pass through unchanged (their items are never split); empty or
    missing values give ``[]``.
    """
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or (isinstance(value, float) and value != value):
        return []
    text = str(value)
    if text == "":
        return []
    if text[0] == "[":
        text = text[1:]
    if text and text[-1] == "]":
        text = text[:-1]
    return [item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip() not in ("", ",")]


def _cell(value) -> str | None:
    """A table cell as the reference sees it: None when pandas would read NaN."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = value if isinstance(value, str) else str(value)
    return None if text in _MISSING_MARKERS else text


def _require(path: Path) -> Path:
    if not path.is_file():
        raise AffectLLMError(
            f"official wheel file {path} is missing; point --wheel-dir at the folder holding "
            "format.csv, synonym.xlsx and wheel1.xlsx ... wheel5.xlsx"
        )
    return path


def _xlsx_rows(path: Path) -> list[dict[str, str | None]]:
    try:
        import openpyxl
    except ImportError as err:  # pragma: no cover - depends on the install
        raise AffectLLMError("official wheel mode needs openpyxl: pip install 'affectllm[eval]'") from err
    book = openpyxl.load_workbook(_require(path), read_only=True, data_only=True)
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        return []
    header = [str(h) if h is not None else "" for h in rows[0]]
    return [{h: _cell(v) for h, v in zip(header, row)} for row in rows[1:]]


def read_format_map(path: Path) -> dict[str, list[str]]:
    """``format.csv``: surface form -> base forms (``name`` values), names mapping to themselves."""
    format_map: dict[str, list[str]] = {}
    with open(_require(path), newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = _cell(row.get("name")) or ""
            for form in parse_label_list(_cell(row.get("format")) or ""):
                format_map.setdefault(form, []).append(name)
            format_map.setdefault(name, []).append(name)
    return format_map


def read_synonym_map(path: Path) -> dict[str, set[str]]:
    """``synonym.xlsx``: word or synonym -> wheel words, union over the 8 runs."""
    synonym_map: dict[str, set[str]] = {}
    for row in _xlsx_rows(path):
        for run in range(1, SYNONYM_RUNS + 1):
            word = row.get(f"word_run{run}")
            if word is None:
                raise AffectLLMError(f"{path}: empty word_run{run} cell; the synonym table is damaged")
            word = word.strip().lower()
            synonym_map.setdefault(word, set()).add(word)
            for synonym in parse_label_list(row.get(f"synonym_run{run}") or ""):
                synonym_map.setdefault(synonym.strip().lower(), set()).add(word)
    return synonym_map


def read_wheel_level1(path: Path) -> dict[str, str]:
    """``wheelK.xlsx``: every word at any level -> its level1 (blank cells repeat the row above)."""
    tree: dict[str, dict[str, list[str]]] = {}
    level1 = level2 = level3 = ""
    for row in _xlsx_rows(path):
        level1 = (row.get("level1") if row.get("level1") is not None else level1).lower().strip()
        level2 = (row.get("level2") if row.get("level2") is not None else level2).lower().strip()
        level3 = (row.get("level3") if row.get("level3") is not None else level3).lower().strip()
        tree.setdefault(level1, {}).setdefault(level2, []).append(level3)
    to_level1: dict[str, str] = {}
    # Insertion order of the nested dicts decides which group wins for a word listed twice.
    for top, groups in tree.items():
        to_level1[top] = top
        for mid, leaves in groups.items():
            to_level1[mid] = top
            for leaf in leaves:
                to_level1[leaf] = top
    return to_level1


@dataclass(frozen=True)
class OfficialWheels:
    """Per wheel, every known surface form -> level1 (precomputed, so scoring is dict lookups)."""

    to_level1: tuple[dict[str, str], ...]  # one dict per wheel, in WHEEL_NAMES order
    root: str

    def map_item(self, item: str, wheel: int) -> str | None:
        """Level1 of ``item`` on wheel ``wheel`` (0-based), or None when the reference drops it."""
        return self.to_level1[wheel].get(item.lower().strip())

    def map_set(self, items: list[str], wheel: int) -> set[str]:
        table = self.to_level1[wheel]
        out = set()
        for item in items:
            hit = table.get(item.lower().strip())
            if hit is not None:
                out.add(hit)
        return out


def _build(root: Path) -> OfficialWheels:
    format_map = read_format_map(root / "format.csv")
    synonym_map = read_synonym_map(root / "synonym.xlsx")
    wheels = [read_wheel_level1(root / f"{name}.xlsx") for name in WHEEL_NAMES]
    # Candidates per surface form are wheel-independent; resolve them once.
    candidates = {}
    for form, bases in format_map.items():
        words: set[str] = set()
        for base in bases:
            words |= synonym_map.get(base, set())
        candidates[form] = sorted(words)
    tables = []
    for wheel in wheels:
        table = {}
        for form, words in candidates.items():
            for word in words:
                if word in wheel:
                    table[form] = wheel[word]
                    break
        tables.append(table)
    return OfficialWheels(tuple(tables), str(root))


@lru_cache(maxsize=4)
def _load_cached(root: str) -> OfficialWheels:
    return _build(Path(root))


def load_official_wheels(wheel_dir: str | Path) -> OfficialWheels:
    """Load (once per process and folder) the official wheel files from ``wheel_dir``."""
    root = Path(wheel_dir).expanduser()
    if not root.is_dir():
        raise AffectLLMError(
            f"--wheel-dir {wheel_dir} is not a folder; point it at the official emotion_wheel folder "
            "(format.csv, synonym.xlsx, wheel1.xlsx ... wheel5.xlsx)"
        )
    return _load_cached(str(root.resolve()))
