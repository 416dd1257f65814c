"""The options that say how a model answers, shared by `affectllm caption` and `affectllm benchmark`."""

from __future__ import annotations

import argparse
from typing import Callable

DEFAULT_MAX_NEW_TOKENS = 256


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Cue-path LLM, checkpoint prompt and base paths, batching, decoding, ASR."""
    from affectllm.cues.llm import LLM_OPTION_HELP

    p.add_argument("--llm", default=None, help=LLM_OPTION_HELP)
    p.add_argument("--prompt", default=None, help="checkpoint only: prompt template name, or a template YAML file, "
                   "asked of every input (default: the checkpoint's own; a manifest entry asks its own question)")
    p.add_argument("--base", action="append", default=[], metavar="KEY=DIR|DIR",
                   help="checkpoint only: use DIR for base model KEY (llm, audio_encoder, vision_encoder, "
                        "text_encoder), or trust the checkpoint's paths under DIR; needed when its config points "
                        "outside the checkpoint folder (repeatable)")
    p.add_argument("--no-asr", dest="asr", action="store_false",
                   help="checkpoint only: do not transcribe inputs without a subtitle (default: faster-whisper writes "
                        "the subtitle from the sound and the record keeps it as 'transcript')")
    p.add_argument("--whisper", default=None, metavar="DIR",
                   help="checkpoint only: local faster-whisper model folder for the transcript (default: bundled tiny.en)")
    p.add_argument("--batch-size", type=int, default=8, help="clips per generation batch (default 8; 32-128 on a GPU)")
    p.add_argument("--workers", type=int, default=2, help="decoding worker processes (0: decode in the main process)")
    p.add_argument("--max-new-tokens", type=int, default=None,
                   help=f"checkpoint only: longest answer generated per input, in tokens (default "
                        f"{DEFAULT_MAX_NEW_TOKENS}; `benchmark` caps a checkpoint without its adapter lower)")
    p.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    p.add_argument("--no-merge-lora", action="store_true", help="keep the LoRA adapter unmerged (merged is faster)")
    p.add_argument("--static-cache", action="store_true", help="fixed-shape KV cache (GPU)")
    p.add_argument("--compile", nargs="?", const="default", default=None, metavar="MODE",
                   help="static cache + torch.compile'd decode step (GPU; MODE default 'default')")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads in the main process")
    p.add_argument("--drop", default="", metavar="MODALITY[,MODALITY]",
                   help="leave modalities out to see what the others say alone (an ablation): video, audio, text (the "
                        "words: no subtitle, no transcript); a checkpoint is asked without their files and tags, the "
                        "cue path does not read them")


def backend_factory(args: argparse.Namespace, model: str, use_adapter: bool = True,
                    max_new_tokens: int | None = None) -> Callable[[str | None], object]:
    """``make_backend(device)`` for ``model`` ('cues' or a checkpoint folder) with the options in ``args``
    (``max_new_tokens``: the answer length when ``--max-new-tokens`` is not given; default 256).

    Checks the options and applies ``--threads`` now, so mistakes stop before any input is read."""
    from affectllm.caption.backends import load_backend
    from affectllm.caption.inference import InferenceOptions
    from affectllm.caption.inputs import Hearing
    from affectllm.core.errors import AffectLLMError
    from affectllm.reasoning.prompts import prompt_from_argument

    if args.batch_size < 1 or args.workers < 0:
        raise AffectLLMError("--batch-size must be >= 1 and --workers >= 0")
    if args.max_new_tokens is not None and args.max_new_tokens < 1:
        raise AffectLLMError(f"--max-new-tokens {args.max_new_tokens}: must be at least 1")
    answer_tokens = args.max_new_tokens or max_new_tokens or DEFAULT_MAX_NEW_TOKENS
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    base, trusted = {}, []
    if args.base:  # affectllm.checkpoint.layout imports torch: the cue path, which has no --base, need not wait for it
        from affectllm.checkpoint.layout import parse_base_arguments

        base, trusted = parse_base_arguments(args.base)
    hearing = Hearing(asr=args.asr, whisper=args.whisper,
                      drop=frozenset(m.strip() for m in args.drop.split(",") if m.strip()))
    prompt = prompt_from_argument(args.prompt) if args.prompt else None  # the user named it: a file is allowed
    options = InferenceOptions(merge_lora=not args.no_merge_lora, static_cache=args.static_cache,
                               compile_mode=args.compile, use_adapter=use_adapter)

    def make_backend(device):
        return load_backend(model, llm=args.llm, device=device, base=base, trusted=tuple(trusted), hearing=hearing,
                            prompt=prompt, max_new_tokens=answer_tokens, do_sample=args.sample, options=options)

    return make_backend
