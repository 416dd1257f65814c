"""Evaluation inside the training loop: generate on a held-out manifest, score with the task metric.

The loss says how well the model copies its targets; the task metric says whether it
answers right. Every ``train.eval_every`` steps (and after the last one) the model
answers each sample of ``train.eval_manifest`` (its own user turn, greedy, the KV
cache on), the answers are parsed with the template of ``model.prompt``, and scored
as ``affectllm eval`` would score them:

========= ================================ =====================================
task      gold field in the manifest       logged (main metric first)
========= ================================ =====================================
closed    ``label``                        ``waf``, ``acc``
basic     ``label``                        ``hit_rate`` (official with a wheel dir)
ov        ``emotions``                     ``f1``, ``precision``, ``recall``
sentiment ``valence``                      ``waf``, ``acc``
========= ================================ =====================================

``auto`` picks ``closed`` when every sample has a ``label``, else ``ov`` when every
sample lists ``emotions``, else ``sentiment``. The samples are split over the ranks
and the answers gathered on every rank, so each rank knows the score (all ranks
decide together whether to save a new best checkpoint).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from affectllm.config.schema import Config
from affectllm.core.errors import ConfigError
from affectllm.training.dataset import read_manifest
from affectllm.core.distributed import Rank

GOLD_FIELD = {"closed": "label", "basic": "label", "ov": "emotions", "sentiment": "valence"}


def choose_task(task: str, samples: list[dict], manifest: Path) -> str:
    """The task for ``train.eval_task`` (``auto`` decided from the gold fields every sample carries)."""
    if task != "auto":
        field = GOLD_FIELD[task]
        missing = next((s["id"] for s in samples if s.get(field) is None), None)
        if missing is not None:
            raise ConfigError(f"train.eval_manifest: sample {missing!r} of {manifest} has no \"{field}\", which "
                              f"train.eval_task={task} scores; pick another task or manifest")
        return task
    for candidate in ("closed", "ov", "sentiment"):
        if all(s.get(GOLD_FIELD[candidate]) not in (None, [], "") for s in samples):
            return candidate
    raise ConfigError(f"train.eval_manifest: the samples of {manifest} carry no gold label, emotions or valence on "
                      "every line; write it with `affectllm recipe` or set train.eval_task")


class GenerationEval:
    """Generation and scoring on ``train.eval_manifest`` for one training run."""

    def __init__(self, cfg: Config, info: Rank):
        from affectllm.eval import MAIN_METRIC, EvalOptions

        t = cfg.train
        self.manifest = Path(t.eval_manifest)
        samples = read_manifest(self.manifest)
        self.samples = samples[: t.eval_limit] if t.eval_limit else samples
        self.task = choose_task(t.eval_task, self.samples, self.manifest)
        self.metric = MAIN_METRIC[self.task]
        self.options = EvalOptions(wheel_dir=t.eval_wheel_dir)
        self.prompt = cfg.model.prompt
        self.batch_size, self.max_new_tokens = t.eval_batch_size, t.eval_max_new_tokens
        self.info = info
        # ZeRO-3 partitions the weights: every rank must run the same number of forward passes
        self.synced = bool(t.deepspeed) and info.sharded

    @property
    def description(self) -> str:
        mode = "official" if self.options.wheel_dir else "default"
        return f"{len(self.samples)} samples of {self.manifest.name}, task {self.task} ({self.metric}, {mode} mode)"

    def answers(self, model) -> list[dict[str, Any]]:
        """This rank's share of prediction records ``{"id","emotions","explanation"}``."""
        from tqdm.auto import tqdm

        from affectllm.reasoning import parse_output

        rank, world = self.info.rank, self.info.world_size
        mine = self.samples[rank::world]
        batches = -(-len(self.samples) // (world * self.batch_size))  # the same count on every rank
        records = []
        for b in tqdm(range(batches), desc="eval (generate)", disable=not self.info.is_main, leave=False):
            chunk = mine[b * self.batch_size:(b + 1) * self.batch_size]
            # a rank out of samples still joins the synced forward passes with a stand-in
            texts = model.answer(chunk or self.samples[:1], self.manifest.parent, max_new_tokens=self.max_new_tokens,
                                 synced_gpus=self.synced)
            for sample, text in zip(chunk, texts):
                parsed = parse_output(self.prompt, text)
                records.append({"id": str(sample["id"]), "emotions": list(parsed.emotions) if parsed.ok else [],
                                "explanation": parsed.explanation or text, "raw_output": text})
        return records

    @torch.no_grad()
    def __call__(self, model) -> dict[str, Any]:
        """Scores of ``model`` now: ``{"task", "metric", "score", <task scores>, "samples", "unparsed"}``."""
        import torch.distributed as dist

        from affectllm.eval import evaluate

        records = self.answers(model)
        if dist.is_initialized() and self.info.sharded:
            gathered: list[list[dict]] = [[] for _ in range(self.info.world_size)]
            dist.all_gather_object(gathered, records)
            records = [r for part in gathered for r in part]
        gold = {str(s["id"]): s for s in self.samples}
        result = evaluate(self.task, gold, {r["id"]: r for r in records}, self.options)
        return {"task": self.task, "metric": self.metric, "score": result.main, **result.scores,
                "samples": len(records), "unparsed": sum(not r["emotions"] for r in records)}
