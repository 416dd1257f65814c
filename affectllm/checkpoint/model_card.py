"""The model card (README.md) of an export: what the model is, how to load it, data, recipe, metrics.

Everything in it comes from the export itself: the config, the run's ``training.json``
(data sources with the dataset names their samples declare, recipe, in-loop scores; checked by
``affectllm.checkpoint.layout.read_training_record``) and, when given, benchmark scores. No file the
record names is opened: a checkpoint is data, and its paths may point anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from affectllm.checkpoint.card_metrics import is_benchmark_report, metric_in_words, path_in_words, report_tables
from affectllm.config.schema import Config
from affectllm.config.model_sources import bundled_origin, is_bundled, looks_like_hub_id

ROLES = {"llm": "LLM", "audio_encoder": "audio encoder", "vision_encoder": "vision encoder",
         "text_encoder": "text encoder"}
# Facts about data sets whose licence binds models trained on them.
DATA_LICENCES = {"meld": "MELD (Poria et al., ACL 2019; github.com/declare-lab/MELD) is released under GPL-3.0: "
                         "a model trained on it and shipped must say so and carry that licence note."}
MAX_METRIC_ROWS = 60


def _describe(reference: str) -> str:
    if is_bundled(reference):
        hub_id, note = bundled_origin(reference)
        return f"`{reference}` — {hub_id} ({note})"
    return f"`{reference}`"


def _hub_base(origin: str) -> str | None:
    """The hub id a card's ``base_model`` names: a hub id, or the original of a bundled model."""
    if is_bundled(origin):
        return bundled_origin(origin)[0]
    return origin if looks_like_hub_id(origin) and "/" in origin else None


def _datasets(training: dict | None) -> list[str]:
    """Dataset names the training manifests declared (their samples' ``dataset`` field, recorded at training)."""
    names = [name for source in (training or {}).get("data") or [] for name in source.get("datasets", [])]
    return list(dict.fromkeys(names))


SCORE_NAMES = ("waf", "acc", "f1", "precision", "recall", "hit_rate", "ccc", "score")


def _scores(node: Any, prefix: str = "") -> list[tuple[str, float]]:
    """(dotted path, value) of every score in ``node`` (leaves named like a metric; counts are left out)."""
    if isinstance(node, dict):
        return [row for k, v in node.items() for row in _scores(v, f"{prefix}.{k}" if prefix else str(k))]
    is_score = prefix.rsplit(".", 1)[-1].startswith(SCORE_NAMES)
    return [(prefix, float(node))] if is_score and isinstance(node, (int, float)) and not isinstance(node, bool) else []


def _benchmark_table(metrics: dict) -> list[str]:
    """An older metrics file (not a benchmark report.json): one row per model when it holds
    ``{"models": {name: scores}}``, else one row per score."""
    models = metrics.get("models")
    if isinstance(models, dict) and all(isinstance(v, dict) for v in models.values()):
        rows = {name: dict(_scores(scores)) for name, scores in models.items()}
        columns = list(dict.fromkeys(c for r in rows.values() for c in r))
        lines = ["| model | " + " | ".join(map(path_in_words, columns)) + " |", "|---" * (len(columns) + 1) + "|"]
        lines += [f"| {name} | " + " | ".join(f"{r[c]:.4f}" if c in r else "" for c in columns) + " |"
                  for name, r in rows.items()]
        return lines
    rows = _scores(metrics)
    lines = ["| metric | value |", "|---|---|"] + [f"| {path_in_words(k)} | {v:.4f} |"
                                                     for k, v in rows[:MAX_METRIC_ROWS]]
    if len(rows) > MAX_METRIC_ROWS:
        lines.append(f"| … {len(rows) - MAX_METRIC_ROWS} more in the metrics file | |")
    return lines


def _metrics_section(training: dict | None, metrics: dict | None) -> list[str]:
    lines = ["## Metrics", ""]
    evaluation = (training or {}).get("eval")
    if evaluation:
        task = str(evaluation.get("task"))
        scores = ", ".join(f"{metric_in_words(task, k)} {v:.4f}" for k, v in evaluation.items()
                           if isinstance(v, float) and k not in ("score",))
        lines += [f"Scored during training on the held-out manifest at step {training.get('step')} "
                  f"({evaluation.get('samples')} samples, task `{task}`): {scores}.", ""]
        best = training.get("best")
        if best and best.get("score") is not None:
            lines += [f"Best in-loop {metric_in_words(task, str(evaluation.get('metric')))}: {best['score']:.4f} "
                      f"at step {best['step']}.", ""]
    if metrics and is_benchmark_report(metrics):
        lines += report_tables(metrics)
    elif metrics:
        title = metrics.get("benchmark") if isinstance(metrics.get("benchmark"), str) else "Benchmark scores"
        lines += [f"{title}:", ""] + _benchmark_table(metrics) + [""]
    if not evaluation and not metrics:
        lines += ["No scores were recorded with this export (train with `train.eval_manifest`, or pass "
                  "`affectllm export --metrics DIR/report.json` after `affectllm benchmark --out DIR`).", ""]
    return lines


def render_card(cfg: Config, references: dict[str, str], training: dict | None, metrics: dict | None,
                report) -> str:
    """README.md text for an export (``report``: :class:`affectllm.checkpoint.export.ExportReport`)."""
    hub_base = _hub_base(report.llm_origin)
    front = ["---", "library_name: affectllm", "tags: [emotion-recognition, multimodal, affective-computing, lora]"]
    if hub_base:
        front.append(f"base_model: {hub_base}")
    front.append("---")
    lines = front + _use_section(report) + _model_section(cfg, references, training, report)
    lines += _data_section(training) + _metrics_section(training, metrics)
    lines += ["## Licence", "",
              "The weights derive from the base models above and from the training data; check the licences "
              "of both before you redistribute them."]
    lines += [line for d in _datasets(training) if d in DATA_LICENCES for line in ("", DATA_LICENCES[d])]
    return "\n".join(lines) + "\n"


def _use_section(report) -> list[str]:
    """Title, one-paragraph description and how to load the export (with the base folders it needs), named
    as the folder is reached from where the export was made, so the snippet runs there as it stands."""
    where = report.where or report.out.name
    flags = report.load_hint()
    base = f", base={json.dumps(report.outside)}" if flags else ""
    lines = [
        f"# {report.out.name}", "",
        "A multimodal emotion reasoning model made with affectllm: frozen encoders feed pooling and "
        "pre-fusion adapters into a LoRA-tuned causal LM, which answers with open-vocabulary emotions and "
        "an explanation of the evidence.", "",
        "## Use", "", "```python", "from affectllm import AffectLLM", "",
        f"model = AffectLLM.from_pretrained({json.dumps(where)}{base})",
        "record = model.explain(subtitle=\"I can't believe you did this!\")  # or model.explain(\"clip.mp4\")",
        "print(record.emotions, record.explanation)", "```", "",
        "```bash", f"affectllm caption clips/ --model {where} --out captions.jsonl" + (f" {flags}" if flags else ""),
        "```", "",
        "The LLM alone (no media) loads with plain peft: "
        f"`peft.AutoPeftModelForCausalLM.from_pretrained(\"{where}/adapter\")`"
        + (f"; the merged LLM with transformers: `AutoModelForCausalLM.from_pretrained(\"{where}/llm\")`."
           if report.merged else "."), "",
    ]
    if flags:
        lines += [f"Some base models are local folders outside this export; loading it needs `{flags}` "
                  "(or re-export with `--copy-base`).", ""]
    return lines


def _model_section(cfg: Config, references: dict[str, str], training: dict | None, report) -> list[str]:
    """The parts table: base models, pooling / pre-fusion, LoRA, prompt template."""
    m = cfg.model
    lines = ["## Model", "", "| part | model |", "|---|---|"]
    lines += [f"| {ROLES[k]} | " + (f"`{v}/`: the LoRA merged into {_describe(report.llm_origin)}"
                                      if k == "llm" and report.merged else _describe(v)) + " |"
              for k, v in references.items()]
    fused = f"`{m.prefusion}`" + (f" ({m.num_fused_tokens} fused tokens)" if m.prefusion != "none" else "")
    pooling = f"`{m.pooling}`" + (f" ({m.num_queries} queries)" if m.pooling == "qformer" else "")
    lora = (training or {}).get("config", {}).get("model", {}).get("lora", {}) or vars(m.lora)
    lines += [f"| pooling / pre-fusion | {pooling} / {fused}, fusion dim {m.fusion_dim} |",
              f"| LoRA | r {lora.get('r')}, alpha {lora.get('alpha')}, dropout {lora.get('dropout')}, "
              f"`{lora.get('target_modules')}`" + (" — merged into `llm/`" if report.merged else "") + " |",
              f"| prompt template | `{m.prompt}` |", ""]
    return lines


def _data_section(training: dict | None) -> list[str]:
    """The training manifests and, when recorded, the recipe (stage, steps, batch, schedule, DeepSpeed)."""
    t = (training or {}).get("config", {}).get("train", {})
    lines = ["## Training data", ""]
    sources = (training or {}).get("data") or []
    if sources:
        lines += ["| manifest | samples | per epoch | weight |", "|---|---|---|---|"]
        lines += [f"| {Path(s['path']).name} | {s['samples']} | {s.get('per_epoch', s['samples'])} | "
                  f"{s.get('weight', 1.0):g} |" for s in sources]
        lines.append("")
    else:
        lines += ["Not recorded (the checkpoint has no training.json).", ""]
    if t:
        batch = f"{t.get('micro_batch_size')} × {t.get('grad_accum')} per process"
        lines += ["## Recipe", "",
                  f"Stage `{t.get('stage')}`, {training.get('step')} optimizer steps ({training.get('samples_seen')} "
                  f"samples seen), batch {batch}, lr {t.get('lr')} (fusion {t.get('fusion_lr') or t.get('lr')}), "
                  f"`{t.get('lr_scheduler')}` schedule with {t.get('warmup_steps')} warm-up steps, max length "
                  f"{training['config'].get('data', {}).get('max_length')}, seed {t.get('seed')}, "
                  + (f"DeepSpeed `{Path(t['deepspeed']).name}`." if t.get("deepspeed") else "plain torch."), ""]
    return lines
