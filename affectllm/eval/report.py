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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectllm.errors import AffectLLMError
from affectllm.eval.samples import read_jsonl
from affectllm.eval.tasks import MAIN_METRIC, EvalOptions, EvalResult, evaluate


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


def report_table(cells: list[ReportCell]) -> dict[str, Any]:
    """JSON form: the columns (``datasets``: name, dataset, task, metric, main), and per model each column's
    score (``scores``), its full scores (``details``) and the mean over its main columns."""
    columns: dict[str, dict[str, Any]] = {}
    models: dict[str, dict[str, Any]] = {}
    for c in cells:
        name = column_name(c.dataset, c.result.task, c.main)
        columns.setdefault(name, {"name": name, "dataset": c.dataset, "task": c.result.task,
                                  "metric": MAIN_METRIC[c.result.task], "main": c.main})
        models.setdefault(c.model, {"scores": {}, "details": {}})
        models[c.model]["scores"][name] = c.result.main
        models[c.model]["details"][name] = c.result.scores
    for entry in models.values():
        vals = [v for name, v in entry["scores"].items() if columns[name]["main"]]
        entry["mean"] = sum(vals) / len(vals) if vals else None
    return {"datasets": list(columns.values()), "models": models}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def report_markdown(table: dict[str, Any]) -> str:
    names = [d["name"] for d in table["datasets"]]
    head = ["model"] + [f"{d['name']} ({d['metric']})" for d in table["datasets"]] + ["mean"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, entry in table["models"].items():
        row = [model] + [_percent(entry["scores"].get(n)) for n in names] + [_percent(entry["mean"])]
        lines.append("| " + " | ".join(row) + " |")
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
        ax.bar(xs, values, width, label=model)
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
