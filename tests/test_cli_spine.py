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
    # a random tiny model answers noise: its record is still a caption (error null), not a failure
    assert record["error"] is None and "captioned 1 inputs: 1 ok, 0 failed, 0 skipped" in run.stdout
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


def test_checkpoint_with_a_wrong_config_key_is_one_line(tmp_path, tiny_checkpoint, capsys):
    import shutil

    from affectllm.cli import main

    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, ckpt, ignore=shutil.ignore_patterns("base"))
    text = (ckpt / "affectllm.yaml").read_text().replace("fusion_dim:", "fusion_dimm:")
    (ckpt / "affectllm.yaml").write_text(text)
    # in process (the subprocess path of the same entry point is proven above): a fresh interpreter costs ~25 s here
    assert main(["caption", "x.mp4", "--model", str(ckpt), "--out", str(tmp_path / "o.jsonl")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "unknown config key 'model.fusion_dimm' (did you mean 'model.fusion_dim'?)" in lines[0]
    assert captured.out == "" and not (tmp_path / "o.jsonl").exists()


def test_version_and_help_for_every_flag(capsys):
    import argparse

    import affectllm
    from affectllm.cli import build_parser, main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"affectllm {affectllm.__version__}\n"

    def undocumented(parser, prefix):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from undocumented(sub, f"{prefix} {name}")
            elif not action.help and not action.option_strings == ["-h", "--help"]:
                yield f"{prefix} {'/'.join(action.option_strings) or action.dest}"

    assert list(undocumented(build_parser(), "affectllm")) == []  # recipe flags included (data_recipes/)


@pytest.mark.parametrize("task,flags", [
    ("ov", {"--pred", "--gold", "--out", "--wheel-dir", "--level", "--strict", "--source", "--extractor",
            "--extractor-decoding", "--json"}),
    ("sentiment", {"--pred", "--gold", "--out", "--strict", "--source", "--extractor", "--extractor-decoding",
                   "--json"}),
    ("vad", {"--pred", "--gold", "--out", "--source", "--extractor", "--extractor-decoding", "--json"}),
    ("grounding", {"--pred", "--json"}),
    ("cause-span", {"--pred", "--gold", "--out", "--json"}),
])
def test_each_eval_task_shows_only_its_own_flags(task, flags, capsys):
    import re

    from affectllm.cli import main

    with pytest.raises(SystemExit):
        main(["eval", task, "--help"])
    assert set(re.findall(r"^  (--[a-z-]+)", capsys.readouterr().out, flags=re.M)) - {"--help"} == flags
    with pytest.raises(SystemExit):
        main(["eval", "grounding", "--pred", "p.jsonl", "--wheel-dir", "w"])
    assert "unrecognized arguments: --wheel-dir w" in capsys.readouterr().err
