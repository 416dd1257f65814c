"""The command line as a user runs it: init-tiny, caption with a checkpoint, one-line errors."""

import json
import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "affectllm"]
RECORD_KEYS = {"id", "path", "emotions", "explanation", "reasoning", "cues", "model", "error"}


def affectllm(*args, cwd=None):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_init_tiny_then_caption_writes_one_well_formed_record(tmp_path, media_files):
    made = affectllm("init-tiny", tmp_path / "tiny")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "tiny" / "affectllm.yaml").exists() and (tmp_path / "tiny" / "base" / "llm").is_dir()
    out = tmp_path / "o.jsonl"
    run = affectllm("caption", media_files["av"], "--model", tmp_path / "tiny", "--out", out,
                    "--max-new-tokens", "16", "--quiet")
    assert run.returncode == 0, run.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert RECORD_KEYS <= set(record)
    assert record["id"] == str(media_files["av"]) and record["model"] == str(tmp_path / "tiny")
    assert set(record["reasoning"]) == {"observations", "interpretation", "conclusion"}
    assert "1 ok" in run.stdout or "1 failed" in run.stdout
    # resuming skips what is done
    again = affectllm("caption", media_files["av"], "--model", tmp_path / "tiny", "--out", out, "--quiet")
    assert "1 skipped" in again.stdout and len(out.read_text().splitlines()) == 1


@pytest.mark.parametrize("args,needle", [
    (["caption", "x.mp4", "--model", "no/such/ckpt", "--out", "o.jsonl"], "--model no/such/ckpt: not 'cues' and not a checkpoint folder"),
])
def test_user_errors_are_one_line(tmp_path, args, needle):
    run = affectllm(*args, cwd=tmp_path)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], run.stderr


def test_checkpoint_with_a_wrong_config_key_is_one_line(tmp_path, tiny_checkpoint):
    import shutil

    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, ckpt, ignore=shutil.ignore_patterns("base"))
    text = (ckpt / "affectllm.yaml").read_text().replace("fusion_dim:", "fusion_dimm:")
    (ckpt / "affectllm.yaml").write_text(text)
    run = affectllm("caption", "x.mp4", "--model", ckpt, "--out", tmp_path / "o.jsonl")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown config key 'model.fusion_dimm' (did you mean 'model.fusion_dim'?)" in lines[0]
