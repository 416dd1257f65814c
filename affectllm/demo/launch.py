"""Start the demo with safe defaults: loopback only, no telemetry, an upload limit, one request at a time.

The model loads before the server listens (once per process); example clips
are made on first start; a background warm-up runs the first example so the
first visitor does not wait for lazy model loading.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from pathlib import Path

from affectllm.demo.engine import DEFAULT_MAX_UPLOAD_MB, DemoEngine

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MAX_QUEUE = 64  # waiting requests beyond this are refused with a "queue full" message, not piled up


def disable_telemetry() -> None:
    """Gradio analytics and hub telemetry off; must run before gradio is imported."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warm_up(engine: DemoEngine, examples_folder: Path, examples) -> threading.Thread:
    """Run the first media example in the background (loads the lazy models); the engine's lock orders it."""
    media = [ex for ex in examples if ex.kind in ("video", "audio")]

    def run():
        if media:
            engine.analyze(str(examples_folder / media[0].file), kind=media[0].kind)
        else:
            engine.analyze(text="warm-up")

    thread = threading.Thread(target=run, name="affectllm-demo-warmup", daemon=True)
    thread.start()
    return thread


def launch_demo(model: str = "cues", llm: str | None = None, host: str = DEFAULT_HOST,
                port: int = DEFAULT_PORT, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
                examples_folder: str | Path | None = None, warm: bool = True, block: bool = True,
                base: tuple[str, ...] = ()):
    """Build and serve the demo; returns (app, url). ``block=False`` returns once the server listens."""
    disable_telemetry()
    from affectllm.demo.examples import ensure_examples
    from affectllm.demo.ui import CSS, build_app

    engine = DemoEngine(model, llm=llm, max_upload_mb=max_upload_mb, base=base)
    folder, examples = ensure_examples(examples_folder)
    app = build_app(engine, folder, examples)
    app.queue(default_concurrency_limit=1, max_size=MAX_QUEUE)
    if warm:
        warm_up(engine, folder, examples)
    if not is_loopback(host):
        print(f"affectllm demo: listening on {host}, reachable from other machines; there is no login")
    import gradio as gr

    _, url, _ = app.launch(
        server_name=host, server_port=port, share=False, inbrowser=False, prevent_thread_lock=True,
        max_file_size=f"{max_upload_mb:g}mb", allowed_paths=[str(folder)], show_error=False, quiet=True,
        ssr_mode=False, mcp_server=False, enable_monitoring=False, pwa=False, theme=gr.themes.Soft(), css=CSS,
        footer_links=[],
    )
    print(f"affectllm demo: serving {engine.name} at {url}", flush=True)
    if block:
        try:
            app.block_thread()
        finally:
            app.close()
    return app, url
