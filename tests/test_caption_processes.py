"""The captioning engine across processes: kill -9 and rerun, and two torchrun ranks vs one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from affectllm.caption import collect_inputs, read_records, run_job
from affectllm.caption.checkpoint_backend import CheckpointBackend
from affectllm.core.distributed import free_port


def _env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory, media_files):
    """Eight small clips (distinct colours and tones) plus one broken file."""
    from affectllm.media.synthetic import write_tone_clip

    d = tmp_path_factory.mktemp("clips")
    colours = ["red", "green", "blue", "yellow", "white", "purple", "orange", "gray"]
    for i, colour in enumerate(colours):
        write_tone_clip(d / f"clip{i}.mp4", 200.0 + 90 * i, colour, seconds=1.0, size=32, fps=4)
    (d / "zz_broken.mp4").write_bytes(media_files["truncated"].read_bytes())
    return d


def _lines(path: Path) -> list[str]:
    data = path.read_bytes().decode()
    assert data.endswith("\n"), "torn last line"
    return data.splitlines()


def test_kill_9_mid_run_then_rerun_gives_every_input_exactly_once(clip_folder, tiny_checkpoint, tmp_path):
    out = tmp_path / "o.jsonl"
    cmd = [sys.executable, "-m", "affectllm", "caption", str(clip_folder), "--model", str(tiny_checkpoint),
           "--out", str(out), "--batch-size", "1", "--workers", "1", "--max-new-tokens", "48", "--quiet"]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed: " + proc.stderr.read().decode()[-500:]
    os.killpg(proc.pid, signal.SIGKILL)  # the main process and its decoding worker, mid-run
    proc.wait()
    written = out.read_bytes().count(b"\n")
    assert 1 <= written < 8
    with open(out, "ab") as f:  # what a kill in the middle of a write leaves behind
        f.write(b'{"id": "clip7.mp4", "emotions": ["ca')

    rerun = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{8 - written} ok, 1 failed, {written} skipped" in rerun.stdout
    records = [json.loads(line) for line in _lines(out)]
    ids = [r["id"] for r in records]
    assert sorted(ids) == [f"clip{i}.mp4" for i in range(8)] + ["zz_broken.mp4"]  # each input exactly once
    assert [r["id"] for r in records if r["error"]] == ["zz_broken.mp4"]


def test_two_torchrun_ranks_give_the_records_of_one_process(clip_folder, tiny_checkpoint, tmp_path):
    import torch

    args = [str(clip_folder), "--model", str(tiny_checkpoint), "--batch-size", "2", "--workers", "1",
            "--max-new-tokens", "8", "--quiet"]
    torchrun = Path(sys.executable).with_name("torchrun")
    out = tmp_path / "two.jsonl"
    launcher = [str(torchrun), "--nproc_per_node", "2", "--master_port", str(free_port())]
    run = subprocess.run([*launcher, "-m", "affectllm.caption", *args, "--out", str(out)], env=_env(),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "over 2 ranks" in run.stdout and "merged 2 part file(s)" in run.stdout
    assert not list(tmp_path.glob("two.jsonl.rank*"))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        backend = CheckpointBackend.open(tiny_checkpoint, max_new_tokens=8)
        one = tmp_path / "one.jsonl"
        run_job(collect_inputs([str(clip_folder)]), one, lambda device: backend, batch_size=2, progress=False)
    finally:
        torch.set_num_threads(threads)
    two_records, one_records = read_records(out), read_records(one)
    assert [r["id"] for r in two_records] == [r["id"] for r in one_records]  # input order, each id once
    assert two_records == one_records
