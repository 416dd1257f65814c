"""What a pip install holds: the wheel built from this tree ships the training configs, the ZeRO JSONs, the
prompt templates and the dataset recipes inside the affectllm namespace (no generic top-level names), with the
licence; a wheel install and an editable install both import them from any folder."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Where the two top-level folders install (pyproject package-dir).
INSTALLED_AS = {"data_recipes": "affectllm.recipes", "prompts": "affectllm.prompt_templates"}


def _pip(*args: str, cwd: Path | None = None) -> None:
    out = subprocess.run([sys.executable, "-m", "pip", *args, "--no-deps", "--no-build-isolation", "-q"],
                         capture_output=True, text=True, cwd=cwd)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of what an sdist holds, so builds never write into this checkout."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("affectllm", "prompts", "data_recipes"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    return src


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _pip("wheel", str(source), "-w", str(out), cwd=source)
    (path,) = out.glob("affectllm-*.whl")
    return path


def test_every_folder_under_affectllm_is_a_listed_package():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(p.relative_to(REPO).parts) for p in [REPO / "affectllm", *(REPO / "affectllm").rglob("*")]
               if p.is_dir() and p.name != "__pycache__"}
    assert folders - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - folders == set(INSTALLED_AS.values())


def test_wheel_ships_configs_zero_jsons_prompts_recipes_and_licence(wheel):
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for config in (REPO / "train" / "configs").glob("*.yaml"):
        assert f"affectllm/training/configs/{config.name}" in names
    for ds in (REPO / "train" / "ds").glob("*.json"):
        assert f"affectllm/training/ds/{ds.name}" in names
    for folder, package in INSTALLED_AS.items():
        shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith(package.replace(".", "/") + "/")}
        assert shipped == {p.name for p in (REPO / folder).iterdir() if p.is_file() and p.suffix in (".py", ".yaml")}
    assert {n.split("/")[0] for n in names} == {"affectllm", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "affectllm/train.py" in names and "affectllm/cues/data/text_head.safetensors" in names
    dist_info = wheel.name.split("-py3")[0] + ".dist-info"
    assert archive.read(f"{dist_info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    metadata = archive.read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert "Apache License" in (REPO / "LICENSE").read_text() and "Version 2.0, January 2004" in (REPO / "LICENSE").read_text()


# Run from a folder outside the checkout: the shipped files are found by name, recipes by the installed package.
PROBE = ("import affectllm, affectllm.recipes, json; from affectllm.config.schema import load_config; "
         "from affectllm.reasoning.prompts import prompts_dir; "
         "c = load_config('meld_text_smollm2', ['train.deepspeed=train/ds/zero3.json'], check_paths=False); "
         "print(json.dumps([affectllm.__file__, affectllm.recipes.__file__, sorted(affectllm.recipes.recipes())[:3], "
         "str(prompts_dir()), c.train.deepspeed, c.model.prompt]))")


def _probe(argv: list[str], cwd: Path, env: dict[str, str]) -> list:
    out = subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", **env})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_installed_wheel_finds_shipped_files_by_name_from_anywhere(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    module, recipes, names, prompts, deepspeed, prompt = _probe(["-c", PROBE], elsewhere, {"PYTHONPATH": str(target)})
    assert Path(module).is_relative_to(target)  # the installed copy, not this checkout
    assert recipes == str(target / "affectllm" / "recipes" / "__init__.py") and names == ["affectnet", "autocaption",
                                                                                          "avamerg"]
    assert prompts == str(target / "affectllm" / "prompt_templates")
    assert deepspeed == str(target / "affectllm" / "training" / "ds" / "zero3.json")
    assert prompt == "affectgpt_hybrid"
    assert not (target / "prompts").exists() and not (target / "data_recipes").exists()


def test_editable_install_maps_the_top_level_folders_into_the_namespace(source, tmp_path):
    prefix = tmp_path / "prefix"
    # --ignore-installed: without it pip would uninstall the running environment's affectllm first
    _pip("install", "-e", str(source), "--prefix", str(prefix), "--ignore-installed", cwd=source)
    (editable_site,) = prefix.glob("lib/python*/site-packages")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -S: only the editable install's own finder is loaded (the running environment's install is left out);
    # the dependencies come from this environment's site-packages added as plain paths.
    deps = ", ".join(repr(p) for p in site.getsitepackages())
    code = f"import site, sys; site.addsitedir({str(editable_site)!r}); sys.path += [{deps}]; " + PROBE
    module, recipes, names, prompts, _, prompt = _probe(["-S", "-c", code], elsewhere, {})
    assert module == str(source / "affectllm" / "__init__.py")
    assert recipes == str(source / "data_recipes" / "__init__.py") and names == ["affectnet", "autocaption", "avamerg"]
    assert prompts == str(source / "prompts") and prompt == "affectgpt_hybrid"
