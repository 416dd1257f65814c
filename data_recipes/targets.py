"""What a sample's assistant turn holds: the dataset's own reasoning, a plain answer, or a chain grounded in its cues.

Decided per sample by ``Targets.resolve``:

- the dataset gives reasoning (a description, EMER reasons, AU intensities,
  cause spans, a chain of empathy): the chosen template renders it
  (``"chain": "dataset"``);
- the sample has a label only and no ``--ground-chains``: it is written as a
  plain answer, the ``affectgpt_hybrid`` label sentence, whose prompt asks for
  the label alone. A chain template (emer, think_answer, hef_hint, expllm)
  would otherwise render an empty chain (``<think></think>``, or
  ``Emotions: sad`` with nothing before it) and teach the model to skip its
  reasoning. The run's summary says how many samples this concerns
  (``"chain": "none"``);
- label only with ``--ground-chains``: ``affectllm.recipes.grounding`` runs the cue
  extractors on the sample's own media and writes a label-conditioned chain
  that cites the cues supporting the gold label and names the ones that
  point elsewhere (``"chain": "cues"``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

PLAIN_STYLE = "affectgpt_hybrid"
CHAIN_STYLES = ("emer", "think_answer", "hef_hint", "expllm")
# Record fields that carry reasoning a template can render (besides non-empty reasoning sections).
REASONING_FIELDS = ("description", "clues", "action_units", "cause_spans", "response")


def has_reasoning(record: dict) -> bool:
    """Whether ``record`` holds anything beyond the labels for a template to render."""
    if any(str(v or "").strip() for v in (record.get("reasoning") or {}).values()):
        return True
    return any(record.get(k) for k in REASONING_FIELDS)


class Targets:
    """The template chosen with ``--style`` and the policy for label-only samples (see the module docstring)."""

    def __init__(self, style: str, ground: bool = False, num_frames: int = 8, whisper: str | None = None):
        self.style = style
        self.grounder = None
        if ground:
            from .grounding import ChainGrounder

            self.grounder = ChainGrounder(num_frames=num_frames, whisper=whisper)
        self.plain = 0
        self.grounded = 0
        self.reuse: dict[str, dict] = {}  # id -> sample written by an earlier run (--resume)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Targets":
        return cls(args.style, ground=bool(getattr(args, "ground_chains", False)),
                   num_frames=int(getattr(args, "ground_frames", 8)))

    def resolve(self, record: dict, *, video: Path | None = None, audio: Path | None = None, subtitle: str = "",
                valence: float | None = None) -> tuple[str, dict, str]:
        """(template to render, record for it, where the reasoning came from: dataset | cues | none)."""
        if has_reasoning(record):
            return self.style, record, "dataset"
        if self.grounder is not None:
            chain = self.grounder.chain(record["emotions"], video=video, audio=audio, subtitle=subtitle,
                                        valence=valence)
            self.grounded += 1
            return self.style, {**record, **chain, "target_mode": "description"}, "cues"
        self.plain += 1
        return PLAIN_STYLE, {**record, "target_mode": "label"}, "none"

    def note(self) -> str:
        """One line for the run's summary about label-only samples; empty when there were none."""
        notes = []
        if self.plain:
            why = ("" if self.style == PLAIN_STYLE else
                   f" instead of --style {self.style}, which needs reasoning the dataset does not give")
            notes.append(f"{self.plain} label-only samples written as plain answers (the affectgpt_hybrid label "
                         f"sentence){why}; add --ground-chains to write reasoning chains from each sample's cues")
        if self.grounded:
            notes.append(f"{self.grounded} label-only samples got a chain grounded in their own media's cues "
                         f"(conditioned on the gold label)")
        return "; ".join(notes)
