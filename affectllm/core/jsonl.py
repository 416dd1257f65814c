"""Reading JSONL files (manifests, predictions, gold labels) with errors that name file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from affectllm.core.errors import AffectLLMError


def iter_jsonl(path: str | Path, what: str = "JSONL file", hint: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of ``path``.

    A missing file, a line that is not JSON or a line that is not an object raises
    AffectLLMError naming ``what``, the file and the line (``hint`` says how to fix a missing file).
    """
    path = Path(path)
    if not path.is_file():
        raise AffectLLMError(f"{what} {path} does not exist" + (f"; {hint}" if hint else ""))
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise AffectLLMError(f"{path}:{lineno}: not UTF-8 text (byte 0x{raw[err.start]:02x} at column "
                                     f"{err.start + 1}); save the file as UTF-8") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise AffectLLMError(f"{path}:{lineno}: not valid JSON ({err.msg}); write one JSON object per line") from None
            if not isinstance(obj, dict):
                raise AffectLLMError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj
