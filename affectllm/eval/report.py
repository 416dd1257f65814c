"""One table across datasets (markdown + JSON) and a grouped bar chart, like MER-UniBench's main table.

Rows are models, columns are datasets; each cell is the dataset's main
metric in percent (ov: F1, basic: hit rate, sentiment/closed: WAF, vad: mean
CCC), and the last column is the mean over the datasets a model was scored on.
A dataset scored on more than one task (``affectllm benchmark``: MELD's hit
rate, closed-set WAF and sentiment WAF) has one column per task, the first
its main one; only main columns enter the mean and the chart.
A prediction file is matched to the gold file with the same file name;
with a single gold file every prediction file is scored against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectllm.core.errors import AffectLLMError
from affectllm.eval.samples import read_jsonl
from affectllm.eval.tasks import MAIN_METRIC, EvalOptions, EvalResult, evaluate
from affectllm.eval.uncertainty import RESAMPLES, SEED, difference_interval

WITHIN_MARK = "†"


@dataclass
class ReportCell:
    model: str
    dataset: str
    result: EvalResult
    main: bool = True  # the dataset's main task: its column enters the mean


def infer_task(gold: dict[str, dict[str, Any]]) -> str:
    """The task a gold file is for, from the fields of its first record."""
    first = next(iter(gold.values()))
    if "target_turn" in first and "cause_spans" in first:  # RECCON: its emotion is given, its causes are scored
        return "cause-span"
    if "emotions" in first:
        return "ov"
    if "arousal" in first or "dominance" in first or "vad" in first:
        return "vad"
    if "valence" in first:
        return "sentiment"
    if "label" in first:
        return "basic"
    raise AffectLLMError(f'cannot tell the task of gold record "{first.get("id")}": it needs "emotions", "label" or "valence"')


def model_name(pred_path: Path, records: dict[str, dict[str, Any]]) -> str:
    """The records' common ``model`` field, else the prediction file's folder name."""
    names = {str(r.get("model")) for r in records.values() if r.get("model")}
    return names.pop() if len(names) == 1 else pred_path.parent.name or pred_path.stem


def build_report(pred_paths: list[str], gold_paths: list[str], options: EvalOptions) -> list[ReportCell]:
    golds = {Path(g).stem: Path(g) for g in gold_paths}
    if len(golds) != len(gold_paths):
        raise AffectLLMError("two --gold files share a file name; rename them so each dataset has one name")
    cache: dict[Path, tuple[dict, str]] = {}
    cells = []
    for p in map(Path, pred_paths):
        gold_path = golds.get(p.stem) or (next(iter(golds.values())) if len(golds) == 1 else None)
        if gold_path is None:
            raise AffectLLMError(f"no --gold file is named {p.stem}.jsonl for predictions {p}; name gold files after the dataset")
        if gold_path not in cache:
            gold = read_jsonl(gold_path, "gold")
            cache[gold_path] = (gold, infer_task(gold))
        gold, task = cache[gold_path]
        pred = read_jsonl(p, "prediction")
        cells.append(ReportCell(model_name(p, pred), gold_path.stem, evaluate(task, gold, pred, options)))
    return cells


def column_name(dataset: str, task: str, main: bool) -> str:
    """A main column is named after its dataset, another task's column ``DATASET/TASK``."""
    return dataset if main else f"{dataset}/{task}"


def report_table(cells: list[ReportCell], footnotes: list[str] | None = None) -> dict[str, Any]:
    """JSON form: the columns (``datasets``: name, dataset, task, metric, main), and per model each column's
    score (``scores``), its full scores (``details``), its samples, intervals, per-class table and confusion
    matrix (``stats``), the 95 % interval of its main score (``ci``), the columns where it is not clearly
    different from the column's best (``within_best``) and the mean over its main columns."""
    columns: dict[str, dict[str, Any]] = {}
    models: dict[str, dict[str, Any]] = {}
    resampled: dict[str, dict[str, Any]] = {}
    for c in cells:
        name = column_name(c.dataset, c.result.task, c.main)
        metric = MAIN_METRIC[c.result.task]
        columns.setdefault(name, {"name": name, "dataset": c.dataset, "task": c.result.task, "metric": metric,
                                  "main": c.main})
        entry = models.setdefault(c.model, {"scores": {}, "details": {}, "stats": {}, "ci": {}, "within_best": []})
        entry["scores"][name] = c.result.main
        entry["details"][name] = c.result.scores
        entry["stats"][name] = c.result.details
        entry["ci"][name] = (c.result.details.get("ci") or {}).get(metric)
        if metric in c.result.resampled:
            resampled.setdefault(name, {})[c.model] = c.result.resampled[metric]
    for name, by_model in resampled.items():
        best = max(by_model, key=lambda m: models[m]["scores"][name])
        for model, values in by_model.items():
            gap = difference_interval(by_model[best], values)
            if model != best and gap is not None and gap[0] <= 0 <= gap[1]:
                models[model]["within_best"].append(name)
    for entry in models.values():
        vals = [v for name, v in entry["scores"].items() if columns[name]["main"]]
        entry["mean"] = sum(vals) / len(vals) if vals else None
    return {"datasets": list(columns.values()), "models": models, "footnotes": list(footnotes or [])}


def slug(name: str) -> str:
    """A file-name-safe form of a model, dataset or column name."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or "model"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def report_markdown(table: dict[str, Any]) -> str:
    """The table (a dagger marks a score not clearly different from its column's best), its footnotes, and
    the 95 % intervals of the scores as a second table."""
    names = [d["name"] for d in table["datasets"]]
    head = ["model"] + [f"{d['name']} ({d['metric']})" for d in table["datasets"]] + ["mean"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, entry in table["models"].items():
        within = set(entry.get("within_best") or ())
        row = [model] + [_percent(entry["scores"].get(n)) + (WITHIN_MARK if n in within else "") for n in names]
        lines.append("| " + " | ".join(row + [_percent(entry["mean"])]) + " |")
    notes = list(table.get("footnotes") or [])
    if any(entry.get("within_best") for entry in table["models"].values()):
        notes.insert(0, f"{WITHIN_MARK} not clearly different from the column's best score: the 95 % paired "
                        f"bootstrap interval of the difference ({RESAMPLES:,} resamples of the samples, seed {SEED}) "
                        "includes 0.")
    for note in notes:  # one paragraph each
        lines += ["", note]
    if any(v for entry in table["models"].values() for v in (entry.get("ci") or {}).values()):
        lines += ["", f"95 % bootstrap intervals (percentiles of {RESAMPLES:,} resamples, seed {SEED}):", "",
                  "| model | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
        for model, entry in table["models"].items():
            cis = [(entry.get("ci") or {}).get(n) for n in names]
            lines.append("| " + " | ".join([model] + [f"{_percent(c[0])}–{_percent(c[1])}" if c else "–"
                                                       for c in cis]) + " |")
    return "\n".join(lines) + "\n"


def report_chart(table: dict[str, Any], png_path: str | Path, title: str = "affectllm eval report") -> Path:
    """Grouped bar chart: datasets (main columns) on the x axis, one bar per model, scores in percent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [d["name"] for d in table["datasets"] if d.get("main", True)] + ["mean"]
    models = list(table["models"])
    width = 0.8 / max(len(models), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(names) * max(1, len(models)) ** 0.5), 4.0))
    for i, model in enumerate(models):
        entry = table["models"][model]
        values = [100 * entry["scores"].get(n, 0.0) for n in names[:-1]] + [100 * (entry["mean"] or 0.0)]
        xs = [j + (i - (len(models) - 1) / 2) * width for j in range(len(names))]
        cis = [(entry.get("ci") or {}).get(n) for n in names[:-1]] + [None]
        # the 95 % interval as an error bar where there is one (none on the mean)
        errors = [[v - 100 * c[0] if c else 0.0 for v, c in zip(values, cis)],
                  [100 * c[1] - v if c else 0.0 for v, c in zip(values, cis)]]
        ax.bar(xs, values, width, label=model, yerr=[[max(0.0, e) for e in row] for row in errors], capsize=2)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.set_ylabel("score (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path


def confusion_charts(table: dict[str, Any], folder: str | Path) -> list[Path]:
    """``folder/<model>/<column>.png`` for every confusion matrix in the table (closed-set and sentiment)."""
    from affectllm.eval.confusion import confusion_chart

    return [confusion_chart(stats["confusion"], Path(folder) / slug(model) / f"{slug(column)}.png",
                            title=f"{model} on {column}")
            for model, entry in table["models"].items() for column, stats in entry["stats"].items()
            if stats.get("confusion")]
