"""Captioning: media in, result records (DESIGN.md) out, resumable and loss-free."""

from affectllm.caption.engine import CaptionSummary, run_captioning
from affectllm.caption.inputs import CaptionItem, collect_inputs
from affectllm.caption.writer import RecordWriter, read_done_ids

__all__ = ["CaptionItem", "CaptionSummary", "RecordWriter", "collect_inputs", "read_done_ids", "run_captioning"]
