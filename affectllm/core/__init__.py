"""Contracts every layer shares: user errors, JSONL reading, append-only logs and durable writes, the result
record, the manifest, media kinds and units, emotion dimensions, process ranks, plugin discovery.

Nothing here imports another affectllm package: everything else may import from here.
"""
