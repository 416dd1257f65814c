"""Sequence packing: a micro-batch's samples laid end to end in as few rows as fit ``max_length``.

The micro-batch keeps its number of samples (so every rank still takes the same steps);
only padding goes. Media are fused per sample first (``AffectLLM.embed`` on the padded
batch), then the embedded samples are packed. Position ids restart at 0 for every
sample, and with no 2-D attention mask transformers turns the restarts into a
block-diagonal causal mask, so a token never attends to another sample.
"""

from __future__ import annotations

import torch

from affectllm.model.processor import IGNORE_INDEX


def plan_packing(lengths: list[int], capacity: int) -> list[list[int]]:
    """First-fit decreasing: rows of sample indices whose lengths sum to at most ``capacity``."""
    rows: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        for r, free in enumerate(room):
            if lengths[i] <= free:
                rows[r].append(i)
                room[r] -= lengths[i]
                break
        else:
            rows.append([i])
            room.append(capacity - lengths[i])
    return rows


def packed_places(lengths: list[int], plan: list[list[int]]) -> dict[int, tuple[int, int]]:
    """Sample index → (packed row, offset of its first token in that row), as ``pack_rows`` lays samples out."""
    places = {}
    for r, row in enumerate(plan):
        start = 0
        for i in row:
            places[i] = (r, start)
            start += lengths[i]
    return places


def pack_rows(embeds: torch.Tensor, labels: torch.Tensor, lengths: list[int], plan: list[list[int]]
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded (B, L, H) embeddings and (B, L) labels → packed (R, L', H), position ids (R, L'), labels (R, L').

    A sample's first label is masked: it would be predicted from the previous sample's last token."""
    width = max(sum(lengths[i] for i in row) for row in plan)
    packed = embeds.new_zeros((len(plan), width, embeds.shape[-1]))
    positions = torch.zeros((len(plan), width), dtype=torch.long, device=embeds.device)
    packed_labels = torch.full((len(plan), width), IGNORE_INDEX, dtype=labels.dtype, device=labels.device)
    ends = [0] * len(plan)
    for i, (r, start) in sorted(packed_places(lengths, plan).items()):
        n = lengths[i]
        packed[r, start:start + n] = embeds[i, :n]
        positions[r, start:start + n] = torch.arange(n, device=embeds.device)
        packed_labels[r, start + 1:start + n] = labels[i, 1:n]
        ends[r] = max(ends[r], start + n)
    for r, end in enumerate(ends):
        # the padding tail is a segment of its own, so no real token's block reaches it
        positions[r, end:] = torch.arange(width - end, device=embeds.device)
    return packed, positions, packed_labels
