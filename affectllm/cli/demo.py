"""affectllm demo [--model cues|CHECKPOINT] [--llm none|PATH] [--host 127.0.0.1] [--port 7860] [--max-upload-mb N]"""

from __future__ import annotations

import argparse

NAME = "demo"
HELP = "Serve the Gradio explanation demo: emotions, reasoning and per-modality evidence (local only by default)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    from affectllm.cues.llm import LLM_OPTION_HELP

    p.add_argument("--model", default="cues", help="'cues' (default: offline cue extraction and fusion) or a checkpoint folder")
    p.add_argument("--llm", default=None, help=LLM_OPTION_HELP)
    p.add_argument("--base", action="append", default=[], metavar="KEY=DIR|DIR",
                   help="checkpoint only: use DIR for base model KEY (llm, audio_encoder, vision_encoder, "
                        "text_encoder), or trust the checkpoint's paths under DIR (repeatable)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback; 0.0.0.0 exposes it to the network)")
    p.add_argument("--port", type=int, default=7860, help="port to serve on (default 7860)")
    p.add_argument("--max-upload-mb", type=float, default=50.0, help="largest accepted upload (MB)")
    p.add_argument("--examples-dir", default=None, help="where example clips are generated (default: the affectllm cache)")
    p.add_argument("--no-warmup", action="store_true", help="do not run the first example at start")


def run(args: argparse.Namespace) -> int:
    from affectllm.core.errors import AffectLLMError

    if args.max_upload_mb <= 0:
        raise AffectLLMError(f"--max-upload-mb {args.max_upload_mb:g}: must be positive")
    if not 0 < args.port < 65536:
        raise AffectLLMError(f"--port {args.port}: must be between 1 and 65535")
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.demo.launch import disable_telemetry

    disable_telemetry()
    quiet_libraries()
    from affectllm.demo import launch_demo

    launch_demo(model=args.model, llm=args.llm, host=args.host, port=args.port, max_upload_mb=args.max_upload_mb,
                examples_folder=args.examples_dir, warm=not args.no_warmup, base=tuple(args.base))
    return 0
