"""Background model loads: one load per model however many threads ask, and a failed load is the run's one
setup error before anything is written, as when the models loaded before the first clip."""

from __future__ import annotations

import threading
import time


def test_load_once_makes_a_second_caller_wait_for_the_first_load():
    from affectllm.cues.load_once import load_once

    calls = []

    @load_once
    def model(name: str):
        calls.append(name)
        time.sleep(0.2)  # long enough for the second caller to arrive mid-load
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(model("m"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["m"] and len(got) == 3 and all(g is got[0] for g in got)


def test_preload_keeps_a_failure_for_wait():
    import pytest

    from affectllm.cues.preload import ModelPreload
    from affectllm.core.errors import AffectLLMError

    def broken():
        raise AffectLLMError("model X: broken")

    preload = ModelPreload({"ok": lambda: None, "broken": broken})
    preload.join("ok")
    with pytest.raises(AffectLLMError, match="model X: broken"):
        preload.wait()


def test_a_failed_background_load_stops_caption_before_anything_is_written(tmp_path, monkeypatch, capsys):
    from affectllm.cli import main
    from affectllm.cues.heads import text_head
    from affectllm.media.synthetic import write_tone_clip

    clip = write_tone_clip(tmp_path / "tone.mp4", 220.0)
    out = tmp_path / "o.jsonl"
    kept = '{"id": "old", "emotions": []}\n{"id": "to'  # a torn tail: only a run about to append may cut it
    out.write_text(kept)
    monkeypatch.setattr(text_head, "HEAD_FILE", tmp_path / "missing.safetensors")
    text_head.text_head.cache_clear()
    try:
        assert main(["caption", str(clip), "--out", str(out), "--quiet", "--workers", "0"]) == 2
    finally:
        text_head.text_head.cache_clear()  # the next test loads the real head
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "missing.safetensors does not exist" in lines[0], lines
    assert out.read_text() == kept
