"""Captioning: media in, result records (affectllm.core.records) out, resumable, batched, sharded across processes."""

from affectllm.caption.engine import CaptionSummary, run_captioning
from affectllm.caption.inputs import CaptionItem, collect_inputs
from affectllm.caption.job import JobResult, run_job
from affectllm.caption.parts import merge_parts
from affectllm.caption.writer import RecordWriter, read_done_ids, read_records

__all__ = ["CaptionItem", "CaptionSummary", "JobResult", "RecordWriter", "collect_inputs", "merge_parts",
           "read_done_ids", "read_records", "run_captioning", "run_job"]
