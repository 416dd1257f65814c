"""No caption output is ever cut: a file that is not ours stays byte for byte as it was, a complete record is
never dropped, a part file still being written is never merged away, one file under two names has one
writer, the input manifest is never the output, and every entry of an input folder yields a record or an
error line (links included)."""

from __future__ import annotations

import json
import os

import pytest

from affectllm.caption import collect_inputs, merge_parts
from affectllm.caption.lock import OutputLock
from affectllm.caption.parts import part_path
from fault_helpers import caption, error_line, record_ids


def _rec(rid: str) -> str:
    return json.dumps({"id": rid, "emotions": ["calm"], "error": None})


@pytest.mark.parametrize("content", [
    b'{"acc": 0.91}',  # a results file without a final newline: complete JSON, not a record
    b'{"id": "k1"}\r{"id": "k2"}\n{"id": "k3"}\n',  # a bare \r does not end a line
    b'{"id": "k1"}\n{"acc": 0.91, "note"',  # a tail that does not start like one of our records
])
def test_a_file_that_is_not_a_record_file_is_refused_untouched_whatever_fails_later(clips, tmp_path, capsys,
                                                                                    content):
    out = tmp_path / "results.json"
    out.write_bytes(content)
    assert caption(clips[0], "--model", tmp_path / "missing", "--out", out) == 2
    assert f"{out}:" in error_line(capsys)
    assert out.read_bytes() == content


def test_a_torn_tail_survives_a_failed_setup_and_is_cut_only_by_a_run_that_appends(tiny_checkpoint, clips, tmp_path,
                                                                                   capsys):
    out = tmp_path / "o.jsonl"
    kept = (_rec(str(clips[0])) + "\n").encode()
    out.write_bytes(kept + b'{"id": "' + str(clips[1]).encode()[:5])
    before = out.read_bytes()
    assert caption(clips[0], clips[1], "--model", tmp_path / "missing", "--out", out) == 2
    assert error_line(capsys).endswith("missing: not 'cues' and not a checkpoint folder")
    assert out.read_bytes() == before
    assert caption(clips[0], clips[1], "--model", tiny_checkpoint, "--out", out) == 0
    assert out.read_bytes().startswith(kept) and record_ids(out) == [str(clips[0]), str(clips[1])]


def test_a_complete_last_record_without_a_newline_is_kept(tiny_checkpoint, clips, tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    first = _rec(str(clips[0])).encode()
    out.write_bytes(first)  # written by hand or by a tool that ends files without "\n"
    assert caption(clips[0], clips[1], "--model", tiny_checkpoint, "--out", out) == 0
    assert "1 skipped" in capsys.readouterr().out
    assert out.read_bytes().startswith(first + b"\n") and record_ids(out) == [str(clips[0]), str(clips[1])]


def test_merge_leaves_a_part_that_is_still_being_written(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    part = part_path(out, 1, 2)
    part.write_text(_rec("a") + "\n")
    (tmp_path / "o.jsonl.rank0-of-2.part").write_text(_rec("b") + "\n")
    writer = OutputLock(part)
    assert writer.acquire()  # a shard run still appending to its part
    try:
        assert caption("--merge", "--out", out) == 0
        printed = capsys.readouterr().out
        assert "1 part file(s) still being written were left as they are: o.jsonl.rank1-of-2.part" in printed
        assert part.exists() and record_ids(out) == ["b"]
        with open(part, "a") as fh:  # the writer goes on: nothing it writes may be lost
            fh.write(_rec("c") + "\n")
    finally:
        writer.release()
    assert merge_parts(out).busy == {} and not part.exists()
    assert sorted(record_ids(out)) == ["a", "b", "c"]


def test_two_names_for_one_output_are_one_writer_and_the_link_stays_a_link(clips, tmp_path, capsys):
    real = tmp_path / "o.jsonl"
    real.write_text(_rec("x") + "\n")
    alias = tmp_path / "alias.jsonl"
    alias.symlink_to(real)
    with OutputLock(real):  # a run writing o.jsonl
        assert caption(clips[0], "--model", tmp_path / "missing", "--out", alias) == 2
        assert "is being written by another run" in error_line(capsys)
    part_path(real, 0, 2).write_text(_rec("y") + "\n")
    assert caption("--merge", "--out", alias) == 0
    assert alias.is_symlink() and record_ids(real) == ["x", "y"]


def test_the_input_manifest_is_never_the_output(clips, tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"id": "s1", "videos": [str(clips[0])]}) + "\n")
    before = manifest.read_bytes()
    link = tmp_path / "same.jsonl"
    link.symlink_to(manifest)
    for out, extra in ((manifest, ["--overwrite"]), (manifest, []), (link, [])):
        assert caption(manifest, "--out", out, *extra) == 2
        assert error_line(capsys).endswith(f"is also an input ({manifest}); captioning would overwrite it — choose "
                                           "another --out")
        assert manifest.read_bytes() == before


def test_every_entry_of_a_folder_with_links_is_one_item(clips, tmp_path):
    folder, outside = tmp_path / "in", tmp_path / "elsewhere"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    os.link(clips[0], folder / "real.mp4")
    os.link(clips[1], outside / "far.mp4")
    (folder / "broken.mp4").symlink_to(tmp_path / "gone.mp4")
    (folder / "inside.mp4").symlink_to(folder / "real.mp4")
    (folder / "out_file.mp4").symlink_to(outside / "far.mp4")
    (folder / "out_dir").symlink_to(outside)
    (folder / "sub" / "loop").symlink_to(folder)
    items = {it.id: it for it in collect_inputs([str(folder)])}
    assert set(items) == {"real.mp4", "inside.mp4", "broken.mp4", "out_file.mp4", "out_dir/", "sub/loop/"}
    assert items["real.mp4"].error is None and items["inside.mp4"].error is None
    assert "is a broken link" in items["broken.mp4"].error
    for rid in ("out_file.mp4", "out_dir/"):
        assert "outside the folder you named; not followed — pass --follow-links" in items[rid].error
    assert "a folder already captioned here" in items["sub/loop/"].error
    followed = {it.id: it for it in collect_inputs([str(folder)], follow_links=True)}
    assert followed["out_file.mp4"].error is None and followed["out_dir/far.mp4"].error is None
    assert "out_dir/" not in followed and "is a broken link" in followed["broken.mp4"].error
