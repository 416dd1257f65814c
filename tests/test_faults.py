"""Safety and data integrity, reproduced on real files and processes.

A checkpoint from someone else runs nothing; every captioning input ends as exactly
one record or one clear error, and no record already written is lost — through bad
output files, colliding ids, a second writer, kill -9, a full disk and a bad setup;
training resumes past half-finished checkpoints; evaluation refuses garbage.
Each test asserts the exact one-line message a user sees.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from affectllm.cli import main
from fault_helpers import NEW_TOKENS, caption as _caption, error_line as _error_line, record_ids as _ids


def _env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")


@pytest.fixture
def ckpt_copy(tiny_checkpoint, tmp_path) -> Path:
    """A private copy of the tiny checkpoint (base models inside it) to tamper with."""
    return Path(shutil.copytree(tiny_checkpoint, tmp_path / "shared_ckpt"))


def _set_config(ckpt: Path, **model_keys) -> None:
    cfg = yaml.safe_load((ckpt / "affectllm.yaml").read_text())
    cfg["model"].update(model_keys)
    (ckpt / "affectllm.yaml").write_text(yaml.safe_dump(cfg))


# ------------------------------------------------------------------ a checkpoint runs nothing

def test_malicious_checkpoint_prompt_runs_nothing_and_creates_nothing(ckpt_copy, clips, tmp_path, capsys):
    from affectllm.reasoning.prompts import prompts_dir

    pwned = tmp_path / "PWNED"
    payload = "{{ cycler.__init__.__globals__.os.system('touch " + str(pwned) + "') }}"
    (ckpt_copy / "evil.yaml").write_text(yaml.safe_dump({"name": "emer", "version": 1, "prompt": payload,
                                                         "target": payload}))
    out = tmp_path / "o.jsonl"
    for pointer in (os.path.relpath(ckpt_copy / "evil", prompts_dir()), str(ckpt_copy / "evil")):
        _set_config(ckpt_copy, prompt=pointer)
        assert _caption(clips[0], "--model", ckpt_copy, "--out", out) == 2
        assert _error_line(capsys) == (
            f"affectllm caption: error: config key 'model.prompt' must be a template name such as 'emer', not a "
            f"path (got {pointer!r}); a template file is passed on the command line with --prompt FILE")
    assert not pwned.exists() and not out.exists()
    assert not list(tmp_path.glob("o.jsonl*"))  # no lock file either


def test_templates_render_sandboxed_even_from_a_file_the_user_names(tiny_checkpoint, clips, tmp_path, capsys,
                                                                    monkeypatch):
    from affectllm.core.errors import AffectLLMError
    from affectllm.reasoning.prompts import render_prompt

    pwned = tmp_path / "PWNED"
    evil = tmp_path / "evil.yaml"
    evil.write_text(yaml.safe_dump({"name": "emer", "version": 1, "target": "x",
                                    "prompt": "{{ cycler.__init__.__globals__.os.system('touch " + str(pwned) + "') }}"}))
    out = tmp_path / "o.jsonl"
    assert _caption(clips[0], "--model", tiny_checkpoint, "--prompt", evil, "--out", out) == 2
    assert _error_line(capsys) == (
        f"affectllm caption: error: prompt template {evil}: prompt cannot be rendered (SecurityError: access to "
        "attribute '__init__' of 'type' object is unsafe.); fix the template")
    # a templates folder the user points at is sandboxed the same way
    shutil.copy(evil, tmp_path / "emer.yaml")
    monkeypatch.setenv("AFFECTLLM_PROMPTS", str(tmp_path))
    with pytest.raises(AffectLLMError, match="SecurityError"):
        render_prompt("emer")
    assert not pwned.exists() and not out.exists()


def test_checkpoint_model_paths_stay_inside_unless_passed_explicitly(ckpt_copy, clips, tmp_path, capsys):
    models = tmp_path / "models"
    shutil.move(ckpt_copy / "base", models)  # as a trained checkpoint names base models elsewhere
    _set_config(ckpt_copy, llm=str(models / "llm"), audio_encoder=str(models / "audio"),
                vision_encoder=str(models / "vision"), text_encoder=str(models / "text"))
    out = tmp_path / "o.jsonl"
    assert _caption(clips[0], "--model", ckpt_copy, "--out", out) == 2
    assert _error_line(capsys) == (
        f"affectllm caption: error: checkpoint {ckpt_copy}: model.llm points outside the checkpoint "
        f"({models}/llm); a checkpoint may only name folders inside itself or cached hub ids — if you trust it, "
        f"pass it explicitly: --base llm={models}/llm (or --base FOLDER that holds it)")
    _set_config(ckpt_copy, llm="../models/llm")  # relative, but leaving the checkpoint
    assert _caption(clips[0], "--model", ckpt_copy, "--out", out) == 2
    assert "model.llm points outside the checkpoint (../models/llm)" in _error_line(capsys)
    assert not out.exists()

    # passed explicitly: a trusted folder, or one path by key
    assert _caption(clips[0], "--model", ckpt_copy, "--base", models, "--out", out) == 0
    assert _ids(out) == [str(clips[0])]
    (ckpt_copy / "base").mkdir()
    (ckpt_copy / "base" / "empty").mkdir()
    _set_config(ckpt_copy, llm="base/empty")
    assert _caption(clips[1], "--model", ckpt_copy, "--base", models, "--out", out) == 2
    assert _error_line(capsys) == (
        f"affectllm caption: error: checkpoint {ckpt_copy}: model.llm {ckpt_copy}/base/empty holds no config.json, "
        "so it is not a transformers model folder; fix affectllm.yaml or pass --base llm=DIR")
    assert _caption(clips[1], "--model", ckpt_copy, "--base", f"llm={models / 'llm'}", "--base", models,
                    "--out", out) == 0
    assert _ids(out) == [str(clips[0]), str(clips[1])]


def test_corrupt_or_non_finite_weights_are_one_line_naming_the_file(ckpt_copy, clips, tmp_path, capsys):
    import torch
    from safetensors.torch import load_file, save_file

    fusion = ckpt_copy / "fusion.safetensors"
    good = fusion.read_bytes()
    out = tmp_path / "o.jsonl"
    fusion.write_bytes(good[: len(good) // 2])  # a copy cut short
    assert _caption(clips[0], "--model", ckpt_copy, "--out", out) == 2
    line = _error_line(capsys)
    assert line.startswith(f"affectllm caption: error: {fusion}: not a readable safetensors file (")
    assert line.endswith("); the checkpoint is corrupt or was copied incompletely — copy it again")

    fusion.write_bytes(good)
    tensors = load_file(fusion)
    key = sorted(tensors)[0]
    tensors[key] = torch.full_like(tensors[key], float("nan"))
    save_file(tensors, fusion)
    assert _caption(clips[0], "--model", ckpt_copy, "--out", out) == 2
    assert _error_line(capsys) == (
        f"affectllm caption: error: {fusion}: tensor '{key}' holds NaN or infinite values (1 of {len(tensors)} "
        "tensors); the weights are broken (a diverged run?) — use an earlier checkpoint")

    adapter = ckpt_copy / "adapter" / "adapter_model.safetensors"
    adapter.write_bytes(b"\x00" * 3)
    assert _caption(clips[0], "--model", ckpt_copy, "--out", out) == 2
    assert _error_line(capsys).startswith(f"affectllm caption: error: {adapter}: not a readable safetensors file")
    assert not out.exists()


# ------------------------------------------------------------------ captioning output

def test_an_out_that_is_not_a_record_file_is_refused_and_left_unchanged(tiny_checkpoint, clips, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\nmilk\n")
    assert _caption(clips[0], "--model", tiny_checkpoint, "--out", notes) == 2
    assert _error_line(capsys) == (
        f"affectllm caption: error: {notes}:1: not valid JSON; a caption output (--out) must hold one JSON record "
        "per line — nothing was changed: fix or remove that line, or choose another file")
    assert notes.read_text() == "shopping list\nmilk\n"

    notes.write_text("no newline at the end")  # looks torn, but was never a record: not cut either
    assert _caption(clips[0], "--model", tiny_checkpoint, "--out", notes) == 2
    assert "notes.txt:1: not valid JSON" in _error_line(capsys)
    assert notes.read_text() == "no newline at the end"

    out = tmp_path / "o.jsonl"
    before = (json.dumps({"id": "a", "error": None}) + "\n" + json.dumps({"emotions": []}) + "\n"
              + json.dumps({"id": "b", "error": None}) + "\n")
    out.write_text(before)
    assert _caption(clips[0], "--model", tiny_checkpoint, "--out", out) == 2
    assert _error_line(capsys) == (
        f"affectllm caption: error: {out}:2: a record without \"id\"; a caption output (--out) must hold one JSON "
        "record per line — nothing was changed: fix or remove that line, or choose another file")
    assert out.read_text() == before

    folder = tmp_path / "outdir"
    folder.mkdir()
    assert _caption(clips[0], "--model", tiny_checkpoint, "--out", folder) == 2
    assert _error_line(capsys) == (f"affectllm caption: error: {folder} is a folder; a caption output (--out) "
                                   "must be a JSONL file — name a file inside it")
    assert list(folder.iterdir()) == []


def test_every_input_yields_one_record_and_ids_are_unique_across_inputs(tiny_checkpoint, clips, tmp_path,
                                                                          capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, clip in (("dA", clips[0]), ("dB", clips[1])):
        Path(name).mkdir()
        shutil.copy(clip, Path(name) / "clip.mp4")  # the same file name in two folders
    shutil.copy(clips[2], "odd[1].mp4")  # a literal file whose name looks like a glob
    Path("m.JSONL").write_text(json.dumps({"id": "s1", "videos": ["dA/clip.mp4"]}) + "\n"
                               + json.dumps({"id": "s2", "videos": "dB/clip.mp4"}) + "\n")
    assert _caption("dA/", "dB", "odd[1].mp4", "m.JSONL", "nomatch*.mp4", "--model", tiny_checkpoint,
                    "--out", "o.jsonl") == 0
    printed = capsys.readouterr().out
    assert "captioned 6 inputs: 4 ok, 2 failed, 0 skipped" in printed
    assert "output holds one record for each of the 6 inputs" in printed
    records = {r["id"]: r for r in map(json.loads, Path("o.jsonl").read_text().splitlines())}
    assert list(records) == ["dA/clip.mp4", "dB/clip.mp4", "odd[1].mp4", "s1", "s2", "nomatch*.mp4"]
    assert records["dA/clip.mp4"]["path"] == str(tmp_path / "dA" / "clip.mp4")
    assert records["dB/clip.mp4"]["path"] == str(tmp_path / "dB" / "clip.mp4")
    assert records["odd[1].mp4"]["error"] is None and records["s1"]["error"] is None
    assert records["s2"]["error"] == 'm.JSONL:2: "videos" must be a list of paths, got \'dB/clip.mp4\'; write e.g. ["clip.mp4"]'
    assert records["nomatch*.mp4"]["error"] == "nomatch*.mp4: no file matches this pattern"

    Path("dup.jsonl").write_text("".join(json.dumps({"id": i, "videos": ["dA/clip.mp4"]}) + "\n" for i in "xyx"))
    assert _caption("dup.jsonl", "--model", tiny_checkpoint, "--out", "d.jsonl") == 2
    assert _error_line(capsys) == ("affectllm caption: error: dup.jsonl:3: duplicate id 'x' (first on line 1); give "
                                   "every manifest entry its own id")
    assert not Path("d.jsonl").exists()


def _without_root_file_powers() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, so permissions bind root too."""
    import ctypes

    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, from the bounding set (PR_CAPBSET_DROP = 24)
        if libc.prctl(24, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_an_unreadable_sub_folder_is_an_error_record_not_a_gap(tmp_path):
    root = tmp_path / "clips"
    (root / "ok").mkdir(parents=True)
    (root / "ok" / "a.mp4").write_bytes(b"x")
    (root / "locked").mkdir()
    (root / "locked" / "b.mp4").write_bytes(b"x")
    os.chmod(root / "locked", 0o000)
    try:
        code = ("import json, sys; from affectllm.caption.inputs import collect_inputs; "
                "print(json.dumps([[i.id, i.error] for i in collect_inputs([sys.argv[1]])]))")
        run = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=60,
                             env=_env(), preexec_fn=_without_root_file_powers)
    finally:
        os.chmod(root / "locked", 0o755)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [
        ["locked/", f"folder {root / 'locked'} cannot be read (Permission denied); its files were not captioned — "
                    "fix its permissions and rerun"],
        ["ok/a.mp4", None]]


def test_failed_records_are_retried_by_default_and_replaced(tiny_checkpoint, clips, tmp_path, capsys):
    late = tmp_path / "late.mp4"  # missing on the first run, copied in afterwards
    out = tmp_path / "o.jsonl"
    assert _caption(clips[0], late, "--model", tiny_checkpoint, "--out", out) == 0
    first = out.read_text().splitlines()
    assert json.loads(first[1])["error"] == f"{late}: no such file or folder"
    shutil.copy(clips[1], late)
    capsys.readouterr()

    assert _caption(clips[0], late, "--model", tiny_checkpoint, "--out", out, "--no-retry-failed") == 0
    assert "captioned 2 inputs: 0 ok, 0 failed, 2 skipped" in capsys.readouterr().out
    assert out.read_text().splitlines() == first

    assert _caption(clips[0], late, "--model", tiny_checkpoint, "--out", out) == 0
    printed = capsys.readouterr().out
    assert "captioned 2 inputs: 1 ok, 0 failed, 1 skipped" in printed
    assert "1 of them had failed before and were captioned again" in printed
    assert f"rewrote {out} with one record per id: 2 records, 1 older one(s) replaced" in printed
    lines = out.read_text().splitlines()
    assert lines[0] == first[0] and len(lines) == 2  # the good record untouched, the failed one replaced
    assert json.loads(lines[1])["id"] == str(late) and json.loads(lines[1])["error"] is None


def test_setup_errors_stop_before_the_first_clip(tiny_checkpoint, clips, tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    assert _caption(clips[0], clips[1], "--llm", tmp_path / "no_such_llm", "--out", out) == 2
    assert _error_line(capsys).startswith(f"affectllm caption: error: --llm {tmp_path / 'no_such_llm'}")
    assert _caption(clips[0], "--model", tiny_checkpoint, "--prompt", "nosuch", "--out", out) == 2
    assert _error_line(capsys).startswith("affectllm caption: error: unknown prompt template 'nosuch'; choose one of:")
    assert _caption(clips[0], "--model", tiny_checkpoint, "--whisper", tmp_path, "--out", out) == 2
    assert _error_line(capsys) == (f"affectllm caption: error: --whisper {tmp_path}: not a faster-whisper model "
                                   "folder (no model.bin); point it at a local CTranslate2 Whisper model, or pass --no-asr")
    assert not out.exists()


def test_a_second_writer_is_refused_and_a_killed_writers_lock_is_taken_over(tiny_checkpoint, clips, tmp_path):
    out = tmp_path / "o.jsonl"
    cmd = [sys.executable, "-m", "affectllm", "caption", *map(str, clips), "--model", str(tiny_checkpoint),
           "--out", str(out), "--batch-size", "1", "--workers", "0", "--max-new-tokens", "200", "--quiet"]
    first = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and first.poll() is None and not (out.exists() and b"\n" in out.read_bytes()):
            time.sleep(0.01)
        os.killpg(first.pid, signal.SIGSTOP)  # hold it mid-run, lock taken, while a second run starts
        assert first.poll() is None, "the first run ended too soon: " + first.stderr.read().decode()[-500:]
        second = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240)
        assert second.returncode == 2
        assert second.stderr.splitlines()[-1] == (
            f"affectllm caption: error: {out} is being written by another run ({socket.gethostname()} pid "
            f"{first.pid}, lock file {out}.lock); wait for it to finish or choose another --out")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert Path(f"{out}.lock").read_text() == f"{socket.gethostname()} pid {first.pid}\n"  # left behind, stale
    written = out.read_bytes().count(b"\n")
    assert 1 <= written < len(clips)
    assert main(cmd[3:-3] + ["--max-new-tokens", NEW_TOKENS, "--quiet"]) == 0  # the dead writer's lock is taken over
    assert sorted(_ids(out)) == sorted(map(str, clips))  # every input exactly once
    assert not Path(f"{out}.lock").exists()


def test_disk_full_is_one_line_and_the_rerun_loses_nothing(tiny_checkpoint, clips, tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    assert _caption(*clips[:2], "--model", tiny_checkpoint, "--out", out) == 0
    kept = out.read_bytes()
    limit = len(kept) + 100  # room for a torn piece of the next record, not the whole of it

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cmd = [sys.executable, "-m", "affectllm", "caption", *map(str, clips), "--model", str(tiny_checkpoint),
           "--out", str(out), "--workers", "0", "--max-new-tokens", NEW_TOKENS, "--quiet"]
    full = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240, preexec_fn=small_disk)
    assert full.returncode == 2, full.stderr[-2000:]
    assert full.stderr.splitlines()[-1] == (
        f"affectllm caption: error: {out}: cannot write (File too large) after 0 record(s) in this run; everything "
        "written is kept — free space and rerun to continue")
    assert "Traceback" not in full.stderr
    assert out.read_bytes().startswith(kept) and len(out.read_bytes()) == limit  # a torn tail
    capsys.readouterr()
    assert _caption(*clips, "--model", tiny_checkpoint, "--out", out) == 0
    assert "captioned 4 inputs: 2 ok, 0 failed, 2 skipped" in capsys.readouterr().out
    assert out.read_bytes().startswith(kept) and _ids(out) == list(map(str, clips))


# ------------------------------------------------------------------ training resume

@pytest.fixture(scope="module")
def trained(tiny_checkpoint, tmp_path_factory):
    """A real 4-step run (plain torch, one process) with checkpoints at steps 2 and 4, and its config."""
    from affectllm.config.schema import load_config
    from affectllm.testing.smoke_data import write_smoke_manifest
    from affectllm.training.trainer import train

    tmp = tmp_path_factory.mktemp("fault_train")
    manifest = write_smoke_manifest(tmp / "data", num_samples=4)

    def config(run: Path):
        return load_config(tiny_checkpoint / "affectllm.yaml", [f"data.train={manifest}", "data.num_workers=0", f"train.output_dir={run}",
                                             "train.max_steps=4", "train.save_every=2", "train.keep_checkpoints=3",
                                             "train.deepspeed=null", "train.micro_batch_size=1", "train.lr=1e-2",
                                             "train.tensorboard=false", "train.log_every=1"])

    run = tmp / "run"
    summary = train(config(run))
    return run, config, summary["losses"]


def _planted_copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "run"))


def test_resume_skips_a_latest_checkpoint_with_an_empty_state_and_repairs_torn_metrics(trained, tmp_path, capsys):
    from affectllm.training.run_log import read_metrics
    from affectllm.training.trainer import train

    source, config, losses = trained
    run = _planted_copy(source, tmp_path)
    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    assert latest.name == "step_0000004"
    state_size = (latest / "trainer_state.json").stat().st_size
    (latest / "trainer_state.json").write_text("")  # a crash between create and write
    with open(run / "metrics.jsonl", "ab") as fh:
        fh.write(b'{"step": 5, "loss": 0.4')  # killed mid-line
    capsys.readouterr()
    summary = train(config(run), resume=True)
    err = capsys.readouterr().err
    assert (f"affectllm train: skipping checkpoint {latest}: trainer_state.json has 0 bytes, {state_size} when it "
            "was saved") in err
    assert summary["resumed_from"] == str(run / "checkpoints" / "step_0000002")
    for step in (3, 4):  # the redone steps equal the uninterrupted run's
        assert summary["losses"][step] == pytest.approx(losses[step], rel=1e-5)
    metrics = read_metrics(run)
    assert [m["step"] for m in metrics] == [1, 2, 3, 4]
    assert [m["loss"] for m in metrics] == pytest.approx([losses[s] for s in (1, 2, 3, 4)], rel=1e-5)
    assert (run / "metrics.jsonl").read_bytes().endswith(b"\n")
    assert not list((run / "checkpoints").glob(".old-*")) and not list((run / "checkpoints").glob(".tmp-*"))


def test_resume_skips_a_checkpoint_missing_its_weights(trained, tmp_path, capsys):
    from affectllm.training.state import find_checkpoint
    from affectllm.training.trainer import train

    source, config, losses = trained
    run = _planted_copy(source, tmp_path)
    latest = run / "checkpoints" / "step_0000004"
    (latest / "fusion.safetensors").unlink()
    capsys.readouterr()
    summary = train(config(run), resume=True)
    assert f"affectllm train: skipping checkpoint {latest}: fusion.safetensors is missing" in capsys.readouterr().err
    assert summary["resumed_from"] == str(run / "checkpoints" / "step_0000002")
    assert summary["losses"][4] == pytest.approx(losses[4], rel=1e-5)
    assert find_checkpoint(run) == latest  # saved again, complete


def test_resume_refuses_training_state_this_user_did_not_write(trained, tmp_path, capsys, monkeypatch):
    """DeepSpeed's resume state is pickled: a run folder from elsewhere, or a state file changed since the save,
    is refused before anything loads, and the line names the safe way on (train.init_from)."""
    from affectllm.core.errors import AffectLLMError
    from affectllm.training.trainer import train

    source, config, _ = trained
    run = _planted_copy(source, tmp_path)
    latest = run / "checkpoints" / "step_0000004"
    optimizer = latest / "optimizer.pt"
    saved = optimizer.read_bytes()
    optimizer.write_bytes(saved[:-8] + bytes(8))  # same size, other bytes: the size check alone passes
    with pytest.raises(AffectLLMError, match=r"step_0000004: not resumed: optimizer\.pt changed since it was saved; "
                                             r"resume loads pickled optimizer state.*train\.init_from="):
        train(config(run), resume=True)
    optimizer.write_bytes(saved)
    monkeypatch.setenv("AFFECTLLM_CACHE", str(tmp_path / "another_user"))  # another machine's (or user's) key
    with pytest.raises(AffectLLMError, match=r"not resumed: its training state was not written by this user's runs"):
        train(config(run), resume=True)
    monkeypatch.delenv("AFFECTLLM_CACHE")
    marker = latest / "checkpoint_complete.json"
    forged = json.loads(marker.read_text())
    forged["sha256"]["optimizer.pt"] = "0" * 64  # a marker rewritten to vouch for other content
    marker.write_text(json.dumps(forged))
    with pytest.raises(AffectLLMError, match=r"signature does not match"):
        train(config(run), resume=True)


def test_an_interrupted_re_save_keeps_the_old_copy_findable(trained, tmp_path):
    from affectllm.core.durable import replace_dir
    from affectllm.training.state import find_checkpoint

    source, _, _ = trained
    run = _planted_copy(source, tmp_path)
    root = run / "checkpoints"
    # the state a crash between replace_dir's two renames leaves: the old copy moved aside, the new not in place
    os.replace(root / "step_0000004", root / ".old-step_0000004")
    shutil.copytree(root / ".old-step_0000004", root / ".tmp-step_0000004")
    assert find_checkpoint(run) == root / ".old-step_0000004"
    replace_dir(root / ".tmp-step_0000004", root / "step_0000004")
    assert find_checkpoint(run) == root / "step_0000004" and not (root / ".old-step_0000004").exists()


# ------------------------------------------------------------------ evaluation

def _eval(*args) -> int:
    return main(["eval", *map(str, args)])


def test_eval_refuses_a_duplicate_gold_id_naming_both_lines(tmp_path, capsys):
    gold, pred = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    gold.write_text("".join(json.dumps({"id": i, "emotions": [e]}) + "\n" for i, e in
                            (("a", "happy"), ("b", "sad"), ("a", "angry"))))
    pred.write_text(json.dumps({"id": "a", "emotions": ["happy"]}) + "\n")
    assert _eval("ov", "--pred", pred, "--gold", gold, "--json") == 2
    assert _error_line(capsys) == (f"affectllm eval: error: {gold}:3: duplicate id 'a' (also on line 1); each gold "
                                   "id must appear once")


@pytest.mark.parametrize("raw, message", [
    ("NaN", '"valence" is nan, not a finite number; give a number'),
    ("Infinity", '"valence" is inf, not a finite number; give a number'),
    ('"high"', "\"valence\" must be a number, got 'high'"),
])
def test_eval_vad_names_the_record_with_a_bad_value(tmp_path, capsys, raw, message):
    gold, pred = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    gold.write_text(json.dumps({"id": "a", "valence": 0.5}) + "\n" + json.dumps({"id": "b", "valence": -0.5}) + "\n")
    pred.write_text('{"id": "a", "valence": 0.4}\n{"id": "b", "valence": ' + raw + "}\n")
    assert _eval("vad", "--pred", pred, "--gold", gold, "--json") == 2
    assert capsys.readouterr().err == f'affectllm eval: error: prediction record "b": {message}\n'


def test_eval_reports_ids_only_in_the_predictions(tmp_path, capsys):
    gold, pred = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    gold.write_text(json.dumps({"id": "a", "emotions": ["happy"]}) + "\n" + json.dumps({"id": "b", "emotions": ["sad"]}) + "\n")
    pred.write_text("".join(json.dumps({"id": i, "emotions": ["happy"]}) + "\n" for i in ("a", "x1", "x2", "x3", "x4")))
    assert _eval("ov", "--pred", pred, "--gold", gold, "--json") == 0
    out, err = capsys.readouterr()
    assert set(json.loads(out)) == {"f1", "precision", "recall"}
    assert err.splitlines() == [
        "affectllm eval ov: note: 1 gold ids have no prediction (e.g. 'b'); they count as predicting nothing",
        "affectllm eval ov: note: 4 prediction ids are not in the gold file (e.g. 'x1', 'x2', 'x3', ...); they are "
        "not scored"]
