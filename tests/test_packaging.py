"""What a pip install holds: the wheel built from this tree ships the training configs, the ZeRO
JSONs and the prompt templates, and an installed copy finds them by name from any folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("affectllm", "prompts", "data_recipes"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out)], check=True, capture_output=True, cwd=src)
    (path,) = out.glob("affectllm-*.whl")
    return path


def test_wheel_ships_configs_zero_jsons_and_prompts(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for config in (REPO / "train" / "configs").glob("*.yaml"):
        assert f"affectllm/training/configs/{config.name}" in names
    for ds in (REPO / "train" / "ds").glob("*.json"):
        assert f"affectllm/training/ds/{ds.name}" in names
    assert "affectllm/train.py" in names and "prompts/emer.yaml" in names


def test_installed_copy_finds_shipped_files_by_name_from_anywhere(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import affectllm, json; from affectllm.config import load_config; "
            "c = load_config('meld_text_smollm2', ['train.deepspeed=train/ds/zero3.json'], check_paths=False); "
            "print(json.dumps([affectllm.__file__, c.train.deepspeed, c.model.prompt]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    module, deepspeed, prompt = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(module).is_relative_to(target)  # the installed copy, not this checkout
    assert deepspeed == str(target / "affectllm" / "training" / "ds" / "zero3.json")
    assert prompt == "affectgpt_hybrid"
