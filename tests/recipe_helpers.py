"""Shared by the recipe tests: real generated media, fixture writing, running `affectllm recipe`.

Media are generated once per test module (ffmpeg lavfi) and copied under each
fixture's clip names; nothing binary is committed. The fixture layouts follow
the datasets' release files and loaders (each converter's docstring names
the file and commit); the text in them is ours.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from affectllm.cli import main
from affectllm.media.synthetic import write_tone_audio, write_tone_clip


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """A tiny mp4 (tone + colour), the same stream remuxed to .avi, a wav and a jpg."""
    d = tmp_path_factory.mktemp("media")
    mp4 = write_tone_clip(d / "clip.mp4", seconds=0.5, size=32)
    avi, jpg = d / "clip.avi", d / "face.jpg"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(mp4), "-c", "copy", str(avi)], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=32x32:d=0.1",
                    "-frames:v", "1", str(jpg)], check=True)
    return {"mp4": mp4, "avi": avi, "wav": write_tone_audio(d / "tone.wav", seconds=0.5), "jpg": jpg}


def put(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def recipe(capsys, *argv) -> tuple[int, list[dict], str]:
    """Run `affectllm recipe ARGV`; (exit code, manifest lines, stderr)."""
    rc = main(["recipe", *map(str, argv)])
    err = capsys.readouterr().err
    out = Path(argv[argv.index("--out") + 1])
    rows = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    return rc, rows, err


def assert_media_resolve(manifest: Path, rows: list[dict]) -> None:
    for r in rows:
        for p in r["videos"] + r["audios"]:
            assert not Path(p).is_absolute() and (manifest.parent / p).is_file(), p


def user_text(r: dict) -> str:
    return r["messages"][0]["content"]


def target(r: dict) -> str:
    return r["messages"][1]["content"]
