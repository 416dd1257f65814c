"""Resume loads only training state that this user's own runs wrote.

A training checkpoint's optimizer and engine state is not plain data: DeepSpeed saves and
loads it with pickle (``torch.load(weights_only=False)``), so a resume folder from someone
else could run code. Inference checkpoints are data and load anywhere (safetensors only);
resume folders are trusted input. To make that trust checkable, every training checkpoint's
completion marker carries the SHA-256 of each of its files and an HMAC-SHA256 over them
made with a per-user secret, ``resume.key`` in the affectllm cache folder (created on the
first save, readable by its owner only). Resume recomputes both before anything is loaded:
a folder written elsewhere, a marker whose signature does not match, or a file changed
since it was saved is refused with one line that names the safe alternative
(``train.init_from``, which reads the safetensors weights alone).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

KEY_FILE = "resume.key"
_CHUNK = 1 << 20


def key_path() -> Path:
    from affectllm.bundled.packages import cache_dir

    return cache_dir() / KEY_FILE


def _key(create: bool) -> bytes | None:
    path = key_path()
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two ranks or runs creating it at once agree on the first one written
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
            fh.flush()
            os.fsync(fh.fileno())
    return path.read_bytes()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _mac(key: bytes, step: int, digests: dict[str, str]) -> str:
    message = json.dumps({"step": step, "sha256": digests}, sort_keys=True).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_state(folder: Path, step: int, files: list[str]) -> dict[str, object]:
    """The marker fields that vouch for ``files`` of ``folder``: their SHA-256 and this user's signature."""
    digests = {rel: file_digest(folder / rel) for rel in files}
    return {"sha256": digests, "signature": _mac(_key(create=True), step, digests)}


def untrusted_reason(folder: Path, marker: dict) -> str | None:
    """Why the training state in ``folder`` may not be loaded (None: this user's run wrote it, unchanged)."""
    digests, signature = marker.get("sha256"), marker.get("signature")
    if not isinstance(digests, dict) or not isinstance(signature, str):
        return "its training state carries no signature (written elsewhere, or by an older affectllm)"
    key = _key(create=False)
    if key is None or not hmac.compare_digest(_mac(key, marker.get("step"), digests), signature):
        return f"its training state was not written by this user's runs on this machine (signature does not match {key_path()})"
    for rel, digest in sorted(digests.items()):
        if not (folder / rel).is_file() or file_digest(folder / rel) != digest:
            return f"{rel} changed since it was saved"
    return None
