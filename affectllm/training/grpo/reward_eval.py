"""Held-out rewards during GRPO: one greedy answer per prompt of ``train.eval_manifest``, scored by the run's rewards.

The same sampling and scoring code as the rollouts (``rollout.sample_completions``,
``rollout.read_completions``, ``rewards.score``), without sampling noise, so the
mean reward of a component is comparable from one evaluation to the next. The
prompts are split over the ranks (every rank runs the same number of batches, as
ZeRO-3 needs) and the sums are reduced, so every rank knows the means. A few
answers are rendered into the log and every evaluation is appended to
``OUTPUT_DIR/grpo_eval.jsonl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch

from affectllm.core.append_log import LogAppender, read_log
from affectllm.training.dataset import ManifestDataset, TrainCollator, read_manifest
from affectllm.core.distributed import Rank, sum_across_ranks
from affectllm.training.grpo.rewards import RewardContext, score
from affectllm.training.grpo.rollout import read_completions, sample_completions

EVAL_FILE = "grpo_eval.jsonl"


class RewardEval:
    """Greedy answers on the held-out manifest, scored by the rewards of the run."""

    def __init__(self, cfg, info: Rank, model, ctx: RewardContext, names: list[str], open_cache):
        t = cfg.train
        self.manifest = Path(t.eval_manifest)
        samples = read_manifest(self.manifest)
        self.samples = samples[: t.eval_limit] if t.eval_limit else samples
        self.dataset = ManifestDataset(self.samples, self.manifest.parent, model.processor, open_cache(self.manifest),
                                       generation=True)
        self.collate = TrainCollator(model.processor, padding_side="left")
        self.settings, self.ctx, self.names, self.info = t.grpo, ctx, names, info
        self.batch_size = t.eval_batch_size
        self.synced = bool(t.deepspeed) and info.sharded

    @property
    def description(self) -> str:
        return f"{len(self.samples)} prompts of {self.manifest.name}"

    @torch.no_grad()
    def __call__(self, with_weights, model, device: torch.device) -> tuple[dict[str, float], list[dict[str, Any]]]:
        """(reward name -> mean over the prompts it applies to, this rank's first rendered answers).
        ``with_weights(fn)`` runs ``fn(model)`` inside the training wrapper's forward (``affectllm.training.stage_loss``)."""
        from tqdm.auto import tqdm

        from affectllm.training.batches import to_device

        rank, world = self.info.rank, self.info.world_size
        mine = list(range(rank, len(self.samples), world))
        batches = -(-len(self.samples) // (world * self.batch_size))  # the same count on every rank
        sums = {name: [0.0, 0.0] for name in self.names}  # name -> [sum, count]
        shown: list[dict[str, Any]] = []
        for b in tqdm(range(batches), desc="eval (rewards)", disable=not self.info.is_main, leave=False):
            chunk = mine[b * self.batch_size:(b + 1) * self.batch_size]
            items = [self.dataset[i] for i in (chunk or [0])]  # a rank out of prompts joins with a stand-in
            batch = to_device(self.collate(items), device)
            tokens, _ = with_weights(lambda m: sample_completions(m, batch["input_ids"], batch["attention_mask"],
                                                              batch["media_inputs"], self.settings, 1,
                                                              do_sample=False, synced_gpus=self.synced))
            completions, _ = read_completions(model, tokens, self.ctx.template)
            for i, completion in zip(chunk, completions):
                sample = self.samples[i]
                scores = score(sample, completion, self.ctx, self.names)
                for name, value in scores.items():
                    if value is not None:
                        sums[name][0] += value
                        sums[name][1] += 1
                if len(shown) < self.settings.log_completions:
                    shown.append({"id": str(sample["id"]), "completion": completion.text, "rewards": scores})
        flat = sum_across_ranks([v for name in self.names for v in sums[name]])
        means = {name: flat[2 * k] / flat[2 * k + 1] for k, name in enumerate(self.names) if flat[2 * k + 1]}
        return means, shown


def render(step: int, means: Mapping[str, float], shown: list[dict[str, Any]], samples: int) -> str:
    """The log lines of one evaluation: mean rewards, then each rendered answer with its rewards."""
    lines = [f"step {step}: held-out rewards over {samples} prompts: "
             + ", ".join(f"{name} {value:.3f}" for name, value in means.items())]
    for item in shown:
        values = ", ".join(f"{k} {v:.2f}" for k, v in item["rewards"].items() if v is not None)
        lines.append(f"  [{item['id']}] ({values}) {item['completion']!r}")
    return "\n".join(lines)


def append_eval(run_dir: Path, step: int, means: Mapping[str, float], shown: list[dict[str, Any]]) -> None:
    """One record per evaluation in ``run_dir/grpo_eval.jsonl`` (append-only; a resumed run repeats its steps)."""
    path = run_dir / EVAL_FILE
    read_log(path, "step", EVAL_FILE, repair=True)
    with LogAppender(path, "step") as log:
        log.write({"step": step, "rewards": dict(means), "completions": shown})


def read_evals(run_dir: str | Path) -> list[dict[str, Any]]:
    """``grpo_eval.jsonl`` records in step order, the last record of a step winning."""
    latest = {rec["step"]: rec for rec in read_log(Path(run_dir) / EVAL_FILE, "step", EVAL_FILE)}
    return [latest[step] for step in sorted(latest)]
