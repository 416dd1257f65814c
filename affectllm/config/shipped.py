"""Training configs and ZeRO JSONs that ship inside the package (so they work from a pip install).

``affectllm/training/configs/*.yaml`` and ``affectllm/training/ds/*.json`` are the files a
checkout also reaches as ``train/configs`` and ``train/ds``. A name that is not a file
where the user is may name one of them: ``zero2``, ``zero2.json``, ``ds/zero2.json`` or
``train/ds/zero2.json`` all find the shipped ``zero2.json``; ``meld_text_smollm2`` or
``train/configs/meld_text_smollm2.yaml`` the shipped training config.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "training"  # the YAMLs and ZeRO JSONs live beside the trainer


def shipped_file(name: str, kind: str, suffix: str) -> Path | None:
    """The shipped file of ``kind`` (``configs`` or ``ds``) that ``name`` refers to, or None."""
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        return None
    if parts[0] == "train":
        parts = parts[1:]
    if parts and parts[0] == kind:
        parts = parts[1:]
    if len(parts) != 1:
        return None
    filename = parts[0] if parts[0].endswith(suffix) else parts[0] + suffix
    path = SHIPPED_DIR / kind / filename
    return path if path.is_file() else None


def shipped_configs() -> list[str]:
    """Names of the shipped training configs (``affectllm train NAME`` finds them)."""
    return sorted(p.stem for p in (SHIPPED_DIR / "configs").glob("*.yaml"))
