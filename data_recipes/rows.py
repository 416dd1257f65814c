"""Source rows of a published dataset, each with its file and line: CSV and JSON-list readers, cell access.

A recipe reads its label files through these, so an error names ``FILE:LINE``
(``SourceRow.where``); a row that cannot become a sample raises ``RowError``,
which ``affectllm.recipes.manifest.convert`` reports under ``--on-error``.
"""

from __future__ import annotations

import ast
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from affectllm.core.errors import AffectLLMError


class RowError(ValueError):
    """One source row cannot become a sample (missing column, unknown label, missing clip)."""


@dataclass
class SourceRow:
    file: Path
    line: int  # 1-based line in ``file`` where the row starts
    data: Any
    entry: int | None = None  # 1-based position in a JSON list (a one-line file's lines say nothing)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" + (f" (entry {self.entry})" if self.entry is not None else "")


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


def read_csv(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line the row ends on, row) of CSV ``text`` read from ``path``; a row the csv module cannot read (a field
    over its 131,072-character limit — usually an unclosed quote — or a stray NUL byte) is one line naming FILE:LINE."""
    reader = csv.reader(text.splitlines(keepends=True))
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            hint = " (usually a quote that is never closed)" if "field larger" in str(err) else ""
            raise AffectLLMError(f"{path}:{reader.line_num}: not readable as CSV: {err}{hint}; fix that row") from None
        yield reader.line_num, values


def csv_rows(path: Path, required: Iterable[str] = (), header: bool = True,
             fieldnames: list[str] | None = None) -> Iterator[SourceRow]:
    """Rows of a CSV as dicts (header stripped of spaces), each with the line it starts on.

    ``required`` columns missing from the header stop the run; a row lacking
    one of them (short row) is yielded with the value None and fails in build.
    """
    rows = read_csv(path, read_text(require_file(path, "label file")))
    names = fieldnames
    start = 1
    if header:
        first = next(rows, None)
        if first is None:
            return
        names = [h.strip() for h in first[1]]
        missing = [c for c in required if c not in names]
        if missing:
            raise AffectLLMError(f"{path}:1: missing column(s) {', '.join(missing)}; found {', '.join(names)}")
        start = first[0] + 1
    for end, values in rows:  # a row may span lines (quoted newlines): the next one starts after its last
        if any(v.strip() for v in values):
            yield SourceRow(path, start, {n: (values[i] if i < len(values) else None) for i, n in enumerate(names)})
        start = end + 1


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
    lines = read_text(require_file(path, "label file")).splitlines(keepends=True)
    return [h.strip() for h in next(read_csv(path, "".join(lines[:1])), (0, []))[1]]


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
