"""Benchmark scores as the model card shows them: one table per evaluation set, metrics named in words.

The scores come from the ``report.json`` that ``affectllm benchmark --out DIR`` writes (``data``: each
evaluation set's manifest and sample count; ``datasets``: its columns, a task each; ``models``: per model
the full scores of every column under ``details``). An older file that holds ``{"models": {name: nested
scores}}`` or bare scores is still read, with the same names in words where a score's path says its task.
"""

from __future__ import annotations

from typing import Any

# (task, score key) -> what a reader of the card calls it. Task names are affectllm.eval.tasks.TASKS.
METRIC_WORDS = {
    ("basic", "hit_rate"): "hit rate (emotion wheel)",
    ("ov", "f1"): "emotion-wheel F1", ("ov", "precision"): "emotion-wheel precision",
    ("ov", "recall"): "emotion-wheel recall",
    ("closed", "waf"): "closed-set weighted F1", ("closed", "acc"): "closed-set accuracy",
    ("sentiment", "waf"): "sentiment weighted F1", ("sentiment", "acc"): "sentiment accuracy",
    ("vad", "ccc"): "concordance (CCC)", ("vad", "pearson"): "Pearson r", ("vad", "mae"): "mean absolute error",
    ("cause-span", "f1_pos"): "cause-span F1 (pairs with a cause)",
    ("cause-span", "em_pos"): "cause-span exact match (pairs with a cause)",
    ("cause-span", "f1_neg"): "cause-span F1 (pairs without one)", ("cause-span", "f1"): "cause-span F1 (all pairs)",
    ("cause-pair", "pos_f1"): "cause-pair F1 (causes)", ("cause-pair", "neg_f1"): "cause-pair F1 (non-causes)",
    ("cause-pair", "macro_f1"): "cause-pair macro F1", ("cause-pair", "acc"): "cause-pair accuracy",
    ("grounding", "grounding"): "grounded share of cited cues",
}
# Counts and bookkeeping inside a task's scores, not scores.
NOT_SCORES = {"pairs", "positive_pairs", "samples", "cited", "n", "scale", "source", "unparsed"}
MODES = {"default": "our vocabulary's emotion families", "official": "MER-UniBench's official emotion wheels"}


def metric_in_words(task: str, key: str, dimension: str | None = None) -> str:
    """``("closed", "waf")`` -> "closed-set weighted F1"; a dimension of a rated score is named before it."""
    words = METRIC_WORDS.get((task, key)) or f"{task} {key.replace('_', ' ')}"
    return f"{dimension} {words}" if dimension else words


def is_benchmark_report(metrics: dict[str, Any]) -> bool:
    """Whether ``metrics`` has the shape of ``affectllm benchmark``'s report.json."""
    return isinstance(metrics.get("datasets"), list) and isinstance(metrics.get("models"), dict) and \
        isinstance(metrics.get("data"), dict)


def _columns(report: dict[str, Any], dataset: str) -> list[tuple[str, str, str, str | None]]:
    """(column name, score key, words, dimension) for every score the models have on ``dataset``."""
    found: dict[tuple[str, str, str | None], str] = {}
    for column in (c for c in report["datasets"] if c.get("dataset") == dataset):
        for entry in report["models"].values():
            for key, value in (entry.get("details") or {}).get(column["name"], {}).items():
                if key in NOT_SCORES:
                    continue
                for dim in (sorted(value) if isinstance(value, dict) else [None]):
                    found.setdefault((column["name"], key, dim), metric_in_words(column["task"], key, dim))
    return [(name, key, words, dim) for (name, key, dim), words in found.items()]


def _cell(entry: dict[str, Any], column: str, key: str, dim: str | None) -> str:
    value = (entry.get("details") or {}).get(column, {}).get(key)
    if isinstance(value, dict):
        value = value.get(dim)
    return f"{value:.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def report_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: a heading line per evaluation set (name, samples, manifest) and a model × metric table."""
    mode = str(report.get("mode", "default"))
    rated = any(c.get("task") == "vad" for c in report["datasets"])
    lines = [f"Scored with `affectllm benchmark` (suite `{report.get('suite', 'auto')}`, "
             f"{MODES.get(mode.split('-')[0], mode)}{', strict' if mode.endswith('-strict') else ''}); "
             "every score is on 0 … 1" + (" (mean absolute error on the rating scale)" if rated else "") + ".", ""]
    for name, info in report["data"].items():
        columns = _columns(report, name)
        if not columns:
            continue
        manifest = str(info.get("manifest", "")).replace("\\", "/").rsplit("/", 1)[-1]
        lines += [f"**{name}** — {info.get('samples')} samples (`{manifest}`)", ""]
        lines += [f"{note}." for note in info.get("notes", [])] + ([""] if info.get("notes") else [])
        lines += ["| model | " + " | ".join(words for _, _, words, _ in columns) + " |",
                  "|---" * (len(columns) + 1) + "|"]
        lines += [f"| {model} | " + " | ".join(_cell(entry, c, k, d) for c, k, _, d in columns) + " |"
                  for model, entry in report["models"].items()]
        lines.append("")
    return lines


def path_in_words(path: str) -> str:
    """A dotted score path of an older metrics file in words where it names a task (``closed.waf``)."""
    parts = path.split(".")
    if len(parts) >= 2 and (parts[-2], parts[-1]) in METRIC_WORDS:
        return ".".join(parts[:-2] + [METRIC_WORDS[parts[-2], parts[-1]]])
    if parts[-1].startswith("hit_rate"):
        return ".".join(parts[:-1] + ["hit rate (emotion wheel" + (", official)" if "official" in parts[-1] else ")")])
    return path
