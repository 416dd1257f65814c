"""What the fault tests share: small real clips, the caption command in process, and the one line a user sees.

Loaded as a pytest plugin (``conftest.pytest_plugins``), so ``clips`` is a fixture everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectllm.cli import main

NEW_TOKENS = "8"


def caption(*args) -> int:
    return main(["caption", *map(str, args), "--workers", "0", "--max-new-tokens", NEW_TOKENS, "--quiet"])


def error_line(capsys) -> str:
    """The one line a user sees on stderr (nothing else may be printed there)."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


def record_ids(out: Path) -> list[str]:
    data = out.read_bytes()
    assert data.endswith(b"\n"), "torn last line"
    return [json.loads(line)["id"] for line in data.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    """Four small real clips with distinct colours and tones."""
    from affectllm.media.synthetic import write_tone_clip

    d = tmp_path_factory.mktemp("fault_clips")
    colours = ["red", "green", "blue", "yellow"]
    return [write_tone_clip(d / f"c{i}.mp4", 200.0 + 100 * i, c, seconds=1.0, size=32, fps=4)
            for i, c in enumerate(colours)]
